//! The page's HTML: the approval page with its decision form, and the short
//! pages that answer a decision or say the page is gone.
//!
//! Everything shown comes from a plan, and a plan's content is whatever the
//! agent asked for (a bucket name, a tag value, a finding quoting either), so
//! every value goes through [`esc`] on its way in; the only unescaped text is
//! this file's own literals. No script, no external asset: the page must work
//! under `default-src 'none'; style-src 'unsafe-inline'`.
//!
//! Not here: HTTP, tokens, or any rule about what a decision means.

use std::fmt::Write as _;

use super::{ApprovalView, FindingView};

/// HTML-escapes text for use in element content and in quoted attribute
/// values alike.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --bg: #f6f8fa; --accent: #0a58ca; --ok: #1a7f37; --bad: #b42318; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.35rem; margin: .25rem 0 .75rem; line-height: 1.3; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
.meta { color: var(--muted); margin: 0; }
.meta b { color: var(--ink); font-weight: 600; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-size: .85rem;
  font-weight: 600; border: 1px solid currentColor; }
.level-advisory { color: var(--warn); } .level-guarded, .level-aws-enforced { color: var(--ok); }
.level-note { margin: .5rem 0 0; padding: .5rem .75rem; background: #fff8c5; border-left: 4px solid var(--warn); }
.reasons { margin: .25rem 0; padding-left: 1.25rem; }
.cost { font-size: 1.15rem; font-weight: 600; margin: .25rem 0; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .75rem;
  overflow-x: auto; font: 13.5px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap;
  overflow-wrap: anywhere; margin: .25rem 0; }
.explanation { white-space: pre-wrap; margin: .25rem 0; }
.diff .add { color: var(--ok); } .diff .del { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid var(--line); }
th { background: var(--bg); font-weight: 600; white-space: nowrap; }
td.sev, td.rule { white-space: nowrap; }
td.where code { font: .85rem/1.4 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
td.where { min-width: 12rem; max-width: 20rem; }
.accepted { color: var(--muted); }
.sev { font-weight: 700; text-transform: uppercase; font-size: .8rem; }
.sev-critical, .sev-high { color: var(--bad); } .sev-medium { color: var(--warn); } .sev-low, .sev-info { color: var(--muted); }
.none { color: var(--muted); margin: .25rem 0; }
form.decide { margin-top: 2rem; padding: 1rem 1.25rem 1.25rem; border: 2px solid var(--line); border-radius: 8px; background: var(--bg); }
form.decide h2 { margin-top: 0; border: 0; }
.field { margin: 0 0 .9rem; }
.field label { display: block; font-weight: 600; margin-bottom: .2rem; }
.hint { display: block; color: var(--muted); font-size: .88rem; }
input[type=text] { font: inherit; padding: .45rem .6rem; border: 1px solid #8c959f; border-radius: 6px;
  width: 100%; max-width: 26rem; background: #fff; color: var(--ink); }
input.code { font: 1.35rem/1.2 ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing: .3em; max-width: 11rem; }
.buttons { display: flex; gap: .75rem; margin-top: 1.1rem; }
button { font: inherit; font-weight: 600; padding: .55rem 1.3rem; border-radius: 6px; cursor: pointer; border: 2px solid transparent; }
button.approve { background: var(--ok); color: #fff; }
button.deny { background: #fff; color: var(--bad); border-color: var(--bad); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
input[type=text]:focus { outline: 3px solid var(--accent); outline-offset: 1px; border-color: var(--accent); }
.result { margin-top: 1rem; padding: 1rem 1.25rem; border-radius: 8px; border-left: 6px solid var(--muted); background: var(--bg); }
.result.ok { border-color: var(--ok); } .result.refused { border-color: var(--bad); }
.result p { margin: .25rem 0; white-space: pre-wrap; }
a { color: var(--accent); }
"#;

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = esc(title),
    )
}

/// What the level means for the person deciding, in one sentence.
fn level_note(level: &str) -> Option<&'static str> {
    match level {
        "advisory" => Some(
            "Advisory level: the engine runs in the requesting process, so this decision is \
             recorded as an unverified confirmation. It stops mistakes and leaves a trace; \
             it does not prove a human decided.",
        ),
        "aws-enforced" => Some(
            "AWS-enforced: AWS itself checks your MFA code. Approving opens a 15-minute session \
             of the approval role that can make this one change, and applies it with that session.",
        ),
        _ => None,
    }
}

/// Everything the form needs besides the view.
pub(crate) struct FormParts<'a> {
    /// Where the form posts: the page's own path.
    pub action: &'a str,
    pub csrf: &'a str,
    pub needs_code: bool,
}

/// The approval page.
pub(crate) fn approval_page(view: &ApprovalView, form: &FormParts<'_>) -> String {
    let mut b = String::new();
    let level = view.level.as_str();
    let _ = write!(
        b,
        "<p class=\"meta\"><span class=\"badge level-{lvl_class}\">{lvl}</span> \
         Approval <b>{id}</b> &middot; plan <b>{plan}</b> &middot; status <b>{status}</b></p>\n\
         <h1>{summary}</h1>\n",
        lvl_class = esc(&class_word(level)),
        lvl = esc(level),
        id = esc(&view.approval_id),
        plan = esc(&view.plan_id),
        status = esc(&view.status),
        summary = esc(&view.summary),
    );
    let _ = write!(
        b,
        "<p class=\"meta\">Environment <b>{env}</b> &middot; {op} <b>{ty}</b>{ident}",
        env = esc(&view.env),
        op = esc(&view.operation),
        ty = esc(&view.type_name),
        ident = view
            .identifier
            .as_deref()
            .map(|i| format!(" <b>{}</b>", esc(i)))
            .unwrap_or_default(),
    );
    if let Some(expires) = &view.expires_at {
        let _ = write!(b, " &middot; expires <b>{}</b>", esc(expires));
    }
    b.push_str("</p>\n");
    if let Some(note) = level_note(level) {
        let _ = writeln!(b, "<p class=\"level-note\">{}</p>", esc(note));
    }

    b.push_str("<h2>Why a human is needed</h2>\n");
    list(&mut b, &view.reasons, "reasons", "No reason given.");

    b.push_str("<h2>Cost</h2>\n");
    let _ = writeln!(b, "<p class=\"cost\">{}</p>", esc(&view.monthly_cost));
    if !view.cost_breakdown.is_empty() {
        list(&mut b, &view.cost_breakdown, "breakdown", "");
    }

    b.push_str("<h2>Findings</h2>\n");
    findings(&mut b, &view.findings);

    if let Some(diff) = &view.diff {
        b.push_str("<h2>Changes</h2>\n<pre class=\"diff\">");
        for line in diff.lines() {
            let class = if line.starts_with('+') {
                "add"
            } else if line.starts_with('-') {
                "del"
            } else {
                ""
            };
            let _ = writeln!(b, "<span class=\"{class}\">{}</span>", esc(line));
        }
        b.push_str("</pre>\n");
    }

    b.push_str("<h2>Explanation</h2>\n");
    let _ = writeln!(b, "<p class=\"explanation\">{}</p>", esc(&view.explanation));

    b.push_str("<h2>Template</h2>\n");
    let _ = writeln!(b, "<pre class=\"template\">{}</pre>", esc(&view.template));

    decision_form(&mut b, form, view.mfa_serial.as_deref());
    document(&format!("Approve? {}", view.summary), &b)
}

fn decision_form(b: &mut String, form: &FormParts<'_>, mfa_serial: Option<&str>) {
    // Approve is the first submit button, so Enter in any field approves;
    // Deny skips the browser's checks of the code field (formnovalidate),
    // since denying needs no code.
    let _ = write!(
        b,
        "<form class=\"decide\" method=\"post\" action=\"{action}\" autocomplete=\"off\">\n\
         <h2>Your decision</h2>\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n",
        action = esc(form.action),
        csrf = esc(form.csrf),
    );
    if let Some(serial) = mfa_serial {
        let _ = writeln!(
            b,
            "<div class=\"field\"><label for=\"code\">AWS MFA code</label>\
             <span class=\"hint\" id=\"code-hint\">The 6-digit code of your MFA device {serial}. AWS STS checks it, \
             and this one plan is applied with the 15-minute session it opens. Needed to approve, not to deny.</span>\
             <input type=\"text\" id=\"code\" name=\"code\" class=\"code\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" required autofocus \
             aria-describedby=\"code-hint\"></div>",
            serial = esc(serial),
        );
    } else if form.needs_code {
        b.push_str(
            "<div class=\"field\"><label for=\"code\">Approver code</label>\
             <span class=\"hint\" id=\"code-hint\">The 6-digit code from your authenticator. Needed to approve, not to deny.</span>\
             <input type=\"text\" id=\"code\" name=\"code\" class=\"code\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" maxlength=\"6\" required autofocus \
             aria-describedby=\"code-hint\"></div>\n\
             <div class=\"field\"><label for=\"approver\">Approver name</label>\
             <span class=\"hint\" id=\"approver-hint\">The name you enrolled with.</span>\
             <input type=\"text\" id=\"approver\" name=\"approver\" autocomplete=\"username\" \
             maxlength=\"200\" aria-describedby=\"approver-hint\"></div>\n",
        );
    }
    b.push_str(
        "<div class=\"field\"><label for=\"note\">Note (optional)</label>\
         <span class=\"hint\" id=\"note-hint\">Kept in the audit record with your decision.</span>\
         <input type=\"text\" id=\"note\" name=\"note\" maxlength=\"1000\" aria-describedby=\"note-hint\"></div>\n\
         <div class=\"buttons\">\
         <button type=\"submit\" class=\"approve\" name=\"decision\" value=\"approve\">Approve</button>\
         <button type=\"submit\" class=\"deny\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\
         </div>\n</form>\n",
    );
}

fn list(b: &mut String, items: &[String], class: &str, empty: &str) {
    if items.is_empty() {
        let _ = writeln!(b, "<p class=\"none\">{}</p>", esc(empty));
        return;
    }
    let _ = writeln!(b, "<ul class=\"{}\">", esc(class));
    for item in items {
        let _ = writeln!(b, "<li>{}</li>", esc(item));
    }
    b.push_str("</ul>\n");
}

fn findings(b: &mut String, findings: &[FindingView]) {
    if findings.is_empty() {
        b.push_str("<p class=\"none\">No findings.</p>\n");
        return;
    }
    b.push_str(
        "<table class=\"findings\">\n<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Rule</th>\
         <th scope=\"col\">Finding</th><th scope=\"col\">Where</th><th scope=\"col\">Fix</th>\
         <th scope=\"col\">State</th></tr></thead>\n<tbody>\n",
    );
    for f in findings {
        let _ = writeln!(
            b,
            "<tr><td class=\"sev sev-{sev_class}\">{sev}</td><td class=\"rule\">{rule}</td>\
             <td><b>{title}</b><br>{message}</td><td class=\"where\"><code>{path}</code></td><td>{fix}</td><td>{state}</td></tr>",
            sev_class = esc(&class_word(&f.severity)),
            sev = esc(&f.severity),
            rule = esc(&f.rule),
            title = esc(&f.title),
            message = esc(&f.message),
            // Break long JSON-pointer paths at their slashes first.
            path = esc(&f.path).replace('/', "/<wbr>"),
            fix = esc(&f.remediation),
            state = match &f.suppressed {
                Some(why) => format!(
                    "<b>accepted</b><br><span class=\"accepted\">{}</span>",
                    esc(why)
                ),
                None => "<b>open</b>".to_owned(),
            },
        );
    }
    b.push_str("</tbody>\n</table>\n");
}

/// A value reduced to `[a-z0-9-]`, for use in a class name.
fn class_word(value: &str) -> String {
    value
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// How a short page reads: its heading and tone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tone {
    Ok,
    Refused,
    Neutral,
}

/// A short page: a heading, a message, and optionally a link back.
pub(crate) fn message_page(
    title: &str,
    heading: &str,
    message: &str,
    tone: Tone,
    back: Option<&str>,
) -> String {
    let class = match tone {
        Tone::Ok => "result ok",
        Tone::Refused => "result refused",
        Tone::Neutral => "result",
    };
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<div class=\"{class}\" role=\"status\"><h1>{heading}</h1>",
        heading = esc(heading),
    );
    for para in message.split("\n\n") {
        let _ = writeln!(b, "<p>{}</p>", esc(para));
    }
    b.push_str("</div>\n");
    if let Some(href) = back {
        let _ = writeln!(
            b,
            "<p><a href=\"{}\">Back to the approval</a></p>",
            esc(href)
        );
    }
    document(title, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_covers_markup_and_both_quotes() {
        assert_eq!(
            esc(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn class_words_cannot_break_out_of_the_attribute() {
        assert_eq!(class_word("HIGH\" onmouseover=\"x"), "highonmouseoverx");
    }
}
