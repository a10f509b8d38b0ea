//! Lines in a template's text: where a resource is declared and where one
//! of its properties is written, found with one pass over the text.

use std::collections::HashMap;

/// The 1-based line of `path` (`Properties/A/0/B`) inside `resource`: each
/// named segment is looked for at or after the line of the one before, within
/// the resource's block, so the deepest segment written in the template wins.
/// Array indices are skipped. For many lookups in one source, build a
/// [`SourceIndex`] once instead.
pub fn finding_line(source: &str, resource: &str, path: &str) -> usize {
    SourceIndex::new(source).finding_line(resource, path)
}

/// The 1-based line declaring `resource` (`Name:` in YAML, `"Name":` in
/// JSON); 1 when not found. For many lookups in one source, build a
/// [`SourceIndex`] once instead.
pub fn resource_line(source: &str, resource: &str) -> usize {
    SourceIndex::new(source).resource_line(resource)
}

/// One template's source text, indexed in a single pass for line lookups:
/// where each key is first declared, and where each line's block (the lines
/// indented deeper below it) ends.
///
/// It answers exactly what a scan of the text from the top would: the first
/// line declaring a key wins, wherever it is. Only a name that holds `:` or
/// `"` (never a CloudFormation logical id) falls back to such a scan.
pub struct SourceIndex<'a> {
    lines: Vec<&'a str>,
    /// Key → first 0-based line whose trimmed text starts with `key:` (YAML)
    /// or `"key"` followed by `:` (JSON).
    keys: HashMap<&'a str, usize>,
    /// For each non-blank line, the next non-blank line indented no deeper
    /// (`lines.len()` when none); for a blank line 0, the same from there.
    block_end: Vec<usize>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

impl<'a> SourceIndex<'a> {
    pub fn new(source: &'a str) -> SourceIndex<'a> {
        let lines: Vec<&str> = source.lines().collect();
        let mut keys = HashMap::new();
        let mut block_end = vec![lines.len(); lines.len()];
        // Non-blank lines whose block is still open, indents increasing.
        let mut open: Vec<usize> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if let Some(colon) = t.find(':') {
                keys.entry(&t[..colon]).or_insert(i);
            }
            if let Some(rest) = t.strip_prefix('"')
                && let Some(close) = rest.find('"')
                && rest[close + 1..].trim_start().starts_with(':')
            {
                keys.entry(&rest[..close]).or_insert(i);
            }
            if t.is_empty() {
                continue;
            }
            let own = indent(line);
            while let Some(&top) = open.last() {
                if indent(lines[top]) < own {
                    break;
                }
                block_end[top] = i;
                open.pop();
            }
            open.push(i);
        }
        if lines.first().is_some_and(|l| l.trim().is_empty()) {
            let own = indent(lines[0]);
            block_end[0] = (1..lines.len())
                .find(|i| !lines[*i].trim().is_empty() && indent(lines[*i]) <= own)
                .unwrap_or(lines.len());
        }
        SourceIndex {
            lines,
            keys,
            block_end,
        }
    }

    /// The 1-based line declaring `resource` (`Name:` in YAML, `"Name":` in
    /// JSON); 1 when not found.
    pub fn resource_line(&self, resource: &str) -> usize {
        if !resource.contains([':', '"']) {
            return self.keys.get(resource).map_or(1, |i| i + 1);
        }
        let yaml = format!("{resource}:");
        let json = format!("\"{resource}\"");
        self.lines
            .iter()
            .position(|l| {
                let t = l.trim_start();
                t.starts_with(&yaml)
                    || (t.starts_with(&json) && t[json.len()..].trim_start().starts_with(':'))
            })
            .map_or(1, |i| i + 1)
    }

    /// The 1-based line of `path` inside `resource`; see [`finding_line`].
    pub fn finding_line(&self, resource: &str, path: &str) -> usize {
        let lines = &self.lines;
        let start = self.resource_line(resource).saturating_sub(1);
        // The block ends at the next line indented no deeper than the
        // resource's own declaration (the next resource, or the end of
        // `Resources`).
        let end = self.block_end.get(start).copied().unwrap_or(lines.len());
        let mut at = start;
        for seg in path
            .split('/')
            .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
        {
            let yaml = format!("{seg}:");
            let json = format!("\"{seg}\"");
            let found = (at..end).find(|i| {
                let t = lines[*i].trim_start().trim_start_matches("- ");
                t.starts_with(&yaml) || lines[*i].contains(&json)
            });
            match found {
                Some(i) => at = i,
                None => break,
            }
        }
        at + 1
    }
}
