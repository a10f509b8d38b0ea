//! The server's log lines: to stderr, with no message content in them.
//!
//! rmcp logs whole messages at `debug` and `trace` (`received request` with
//! `?request`, `response message` with `?result`, `new event` with `?evt`),
//! so `INFRAGUARD_LOG=debug` printed every tool call's arguments, secrets
//! included (a `MasterUserPassword`, an access key). This formatter prints an
//! event's message text and only the fields named in [`SHOWN_FIELDS`]:
//! identifiers, counts, tool names and argument *keys*. Any other field, from
//! rmcp or anyone else, is printed as `name=<redacted>`, so a field added in
//! a later rmcp release is hidden until someone decides it is safe.
//!
//! Not here: the content of a message's text. Our own log calls keep values
//! out of their text (`server::parse` logs keys, `wire` logs lengths);
//! rmcp's texts that quote a message come from its stdio transport and HTTP
//! body parser, which [`crate::wire`] keeps malformed input away from.

use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{Writer, debug_fn};

/// Fields whose values are printed. Everything in them is an identifier or
/// a count, never a message's payload.
pub const SHOWN_FIELDS: &[&str] = &[
    // ours
    "tool",
    "keys",
    "method",
    "code",
    "len",
    // rmcp's
    "id",
    "request_id",
    "progress_token",
    "reason",
    "quit_reason",
    "max_line_length",
    "session_id",
    "stream_id",
    "http_request_id",
    "event_id",
    "client_requested",
    "negotiated",
];

/// Printed instead of a field's value.
pub const REDACTED: &str = "<redacted>";

fn write_field(
    w: &mut Writer<'_>,
    field: &tracing::field::Field,
    value: &dyn std::fmt::Debug,
) -> std::fmt::Result {
    let name = field.name();
    if name == "message" {
        write!(w, "{value:?}")
    } else if SHOWN_FIELDS.contains(&name) {
        write!(w, "{name}={value:?}")
    } else {
        write!(w, "{name}={REDACTED}")
    }
}

/// Log to stderr with the filter `filter` (`INFRAGUARD_LOG`'s syntax), never
/// printing a field outside [`SHOWN_FIELDS`]. Safe to call twice.
pub fn init(filter: tracing_subscriber::EnvFilter) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .fmt_fields(debug_fn(write_field).delimited(" "))
        .try_init();
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn payload_fields_are_redacted_and_ids_are_kept() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .fmt_fields(debug_fn(write_field).delimited(" "))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request =
                serde_json::json!({"arguments": {"MasterUserPassword": "hunter2-secret"}});
            tracing::debug!(id = 7, ?request, "received request");
            tracing::info!(tool = "create_resource", keys = ?["properties"], "tool arguments");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("hunter2-secret"), "{text}");
        assert!(
            text.contains("received request id=7 request=<redacted>"),
            "{text}"
        );
        assert!(text.contains("tool=\"create_resource\""), "{text}");
        assert!(text.contains("keys=[\"properties\"]"), "{text}");
    }
}
