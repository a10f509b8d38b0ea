//! The wire's tests: decoding, line reading, the stdio transport and the
//! HTTP body check.

use tokio::io::AsyncReadExt;

use super::*;

fn reply(bytes: &[u8]) -> WireError {
    match decode(bytes) {
        Decoded::Reply(e) => e,
        other => panic!(
            "expected a reply to {:?}, got {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

fn deep(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn a_request_passes_to_rmcp() {
    let line = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    assert!(matches!(decode(line), Decoded::Message(_)));
    // With a byte order mark and a CRLF line end.
    let line = b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}\r";
    assert!(matches!(decode(line), Decoded::Message(_)));
    let line = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    assert!(matches!(decode(line), Decoded::Message(_)));
}

#[test]
fn unparseable_input_is_a_parse_error_with_a_null_id() {
    for bad in [&b"{not json"[..], b"\xff\xfe{}", b"{\"a\":1", b"nul"] {
        let e = reply(bad);
        assert_eq!(e.code, PARSE_ERROR, "{e:?}");
        assert_eq!(e.id, Value::Null);
        assert_eq!(e.to_json()["id"], Value::Null);
        assert!(e.to_json().as_object().unwrap().contains_key("id"));
    }
    assert!(reply(b"\xc3\x28").message.contains("UTF-8"));
}

#[test]
fn deep_nesting_is_refused_in_bounded_time() {
    let e = reply(deep(10_000).as_bytes());
    assert_eq!(e.code, PARSE_ERROR);
    assert!(e.message.contains("deeper than 128"), "{}", e.message);
    // Inside a request's params, too.
    let line = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"x","arguments":{{"a":{}}}}}}}"#,
        deep(10_000)
    );
    assert_eq!(reply(line.as_bytes()).code, PARSE_ERROR);
}

#[test]
fn json_that_is_not_a_request_object_is_an_invalid_request() {
    for bad in ["42", "\"hello\"", "null", "[]", "[1,2]", "true"] {
        let e = reply(bad.as_bytes());
        assert_eq!(e.code, INVALID_REQUEST, "{bad}: {e:?}");
        assert_eq!(e.id, Value::Null);
    }
    let e = reply(br#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#);
    assert_eq!((e.code, e.id), (INVALID_REQUEST, json!(5)));
    let e = reply(br#"{"id":"x","method":"ping"}"#);
    assert_eq!((e.code, e.id.clone()), (INVALID_REQUEST, json!("x")));
    assert!(e.message.contains("jsonrpc"), "{}", e.message);
    let e = reply(br#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#);
    assert_eq!((e.code, e.id), (INVALID_REQUEST, Value::Null));
    let e = reply(br#"{"jsonrpc":"2.0","id":2,"method":7}"#);
    assert_eq!((e.code, e.id), (INVALID_REQUEST, json!(2)));
    let e = reply(br#"{"jsonrpc":"2.0","id":2}"#);
    assert_eq!((e.code, e.id), (INVALID_REQUEST, json!(2)));
}

#[test]
fn a_request_with_params_of_the_wrong_shape_is_invalid_params() {
    let e = reply(br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":[1]}"#);
    assert_eq!((e.code, e.id), (INVALID_PARAMS, json!(9)));
    let e = reply(
        br#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"AKIAIOSFODNN7EXAMPLE0","arguments":"AKIAIOSFODNN7EXAMPLE"}}"#,
    );
    assert_eq!((e.code, e.id.clone()), (INVALID_PARAMS, json!(10)));
    assert!(e.message.contains("tools/call"), "{}", e.message);
    assert!(
        e.message
            .contains("`params.arguments` must be an object, not a string"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("AKIA"), "{}", e.message);
    let e = reply(br#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":5}}"#);
    assert!(
        e.message
            .contains("`params.name` must be a string, not an integer"),
        "{}",
        e.message
    );
    let e =
        reply(br#"{"jsonrpc":"2.0","id":12,"method":"initialize","params":{"protocolVersion":1}}"#);
    assert_eq!((e.code, e.id), (INVALID_PARAMS, json!(12)));
}

#[test]
fn blank_lines_and_unreadable_notifications_get_no_reply() {
    assert!(matches!(decode(b"   \r"), Decoded::Blank));
    assert!(matches!(
        decode(br#"{"jsonrpc":"2.0","method":"notifications/progress","params":7}"#),
        Decoded::Dropped { .. }
    ));
    // A response is never answered, even one that does not parse; our own
    // error reply, sent back, is dropped.
    assert!(matches!(
        decode(br#"{"jsonrpc":"2.0","id":1,"result":5}"#),
        Decoded::Message(_) | Decoded::Dropped { method: None }
    ));
    assert!(matches!(
        decode(br#"{"jsonrpc":"2.0","id":1,"error":"AKIA"}"#),
        Decoded::Dropped { method: None }
    ));
    let echoed = reply(b"{bad").to_line();
    assert!(matches!(
        decode(&echoed[..echoed.len() - 1]),
        Decoded::Dropped { method: None }
    ));
}

#[test]
fn serde_messages_lose_the_values_they_quote() {
    assert_eq!(
        redact_serde_text(r#"invalid type: string "AKIA, expected x", expected u32"#),
        "invalid type: string, expected u32"
    );
    assert_eq!(
        redact_serde_text("invalid value: integer `5`, expected a boolean"),
        "invalid value: integer, expected a boolean"
    );
    assert_eq!(
        redact_serde_text("invalid type: floating point `1.5`, expected a string"),
        "invalid type: floating point, expected a string"
    );
    assert_eq!(
        redact_serde_text("unknown variant `s3cret`, expected `a` or `b`"),
        "unknown variant, expected `a` or `b`"
    );
    assert_eq!(
        redact_serde_text("missing field `env`"),
        "missing field `env`"
    );
}

async fn lines_of(input: &[u8], max: usize) -> Vec<Result<String, ()>> {
    let mut reader = LineReader::buffered(input, max);
    let mut out = Vec::new();
    while let Some(line) = reader.next_line().await.unwrap() {
        out.push(match line {
            Line::Complete(b) => Ok(String::from_utf8_lossy(b).into_owned()),
            Line::TooLong => Err(()),
        });
    }
    out
}

#[tokio::test]
async fn lines_are_split_and_capped() {
    assert_eq!(
        lines_of(b"ab\ncd\n\nlast", 10).await,
        vec![
            Ok("ab".into()),
            Ok("cd".into()),
            Ok(String::new()),
            Ok("last".into())
        ]
    );
    // A long line is reported once, then skipped to its end.
    assert_eq!(
        lines_of(b"0123456789ABC\nok\n0123456789ABCDEF", 10).await,
        vec![Err(()), Ok("ok".to_owned()), Err(())]
    );
    // Exactly the cap is fine.
    assert_eq!(
        lines_of(b"0123456789\n", 10).await,
        vec![Ok("0123456789".into())]
    );
}

#[tokio::test]
async fn a_long_line_read_in_small_pieces_is_capped() {
    // A BufReader of 4 bytes makes the line arrive across many fill_bufs.
    let input = [b"x".repeat(50), b"\nok\n".to_vec()].concat();
    let mut reader = LineReader::buffered(BufReader::with_capacity(4, &input[..]), 16);
    assert_eq!(reader.next_line().await.unwrap(), Some(Line::TooLong));
    assert_eq!(
        reader.next_line().await.unwrap(),
        Some(Line::Complete(b"ok"))
    );
    assert_eq!(reader.next_line().await.unwrap(), None);
}

#[tokio::test]
async fn the_transport_answers_bad_lines_and_forwards_good_ones() {
    use rmcp::transport::Transport;

    let (mut client_in, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, mut client_out) = tokio::io::duplex(1 << 16);
    let mut transport = WireTransport::new(server_in, server_out);
    client_in
        .write_all(b"{bad\n42\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
        .await
        .unwrap();
    let message = transport.receive().await.unwrap();
    assert!(matches!(message, ClientJsonRpcMessage::Request(_)));
    drop(client_in);
    assert!(transport.receive().await.is_none());
    transport.close().await.unwrap();
    let mut out = String::new();
    client_out.read_to_string(&mut out).await.unwrap();
    let replies: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(replies.len(), 2, "{out}");
    assert_eq!(replies[0]["error"]["code"], PARSE_ERROR);
    assert_eq!(replies[0]["id"], Value::Null);
    assert_eq!(replies[1]["error"]["code"], INVALID_REQUEST);
}
