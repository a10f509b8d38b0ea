//! Content hashing, hex encoding and random hex ids.
//!
//! `serde_json::Value` keeps object keys sorted (the `preserve_order` feature
//! is off in this workspace), so serializing a value gives one canonical byte
//! string per content: equal content, equal hash.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// `len` random bytes from the OS, as lowercase hex: ids, one-time page
/// tokens, question nonces.
pub fn random_hex(len: usize) -> Result<String, getrandom::Error> {
    let mut b = vec![0u8; len];
    getrandom::fill(&mut b)?;
    Ok(hex::encode(b))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// sha256 of the canonical JSON form of `value`.
pub fn content_hash(value: &Value) -> String {
    sha256_hex(&serde_json::to_vec(value).unwrap_or_default())
}

/// HMAC-SHA256 under `key` of the canonical JSON form of `value`: a record
/// only the key's holder (the project, or the guard) can make or re-make.
pub fn keyed_hash(key: &[u8], value: &Value) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&serde_json::to_vec(value).unwrap_or_default());
    hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_content_in_any_key_order_hashes_equal() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":3}}"#).unwrap();
        let b = json!({"a": {"x": 3, "y": 2}, "b": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&json!({"a": 1})));
    }

    #[test]
    fn hex_encodes_bytes() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
