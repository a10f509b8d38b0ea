//! Secrets at rest: the strings [`crate::redact`] masks on screen are
//! sealed (AES-256-GCM, a fresh nonce each) before a plan or an applied state
//! is written to `state.db`, and opened when it is read back.
//!
//! The key is 32 random bytes in a file beside the database (`state.key`,
//! mode 0600), not in the database, so a copy of `state.db` alone holds no
//! secret. A sealed string is `{{infraguard:sealed:v1:<base64 nonce‖ciphertext>}}`.
//! A string a user wrote that merely begins the same way is sealed too, so
//! reading back is always exact.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use infraguard_core::plan::Plan;
use infraguard_core::store::StoreError;
use serde_json::Value;

use crate::redact::{self, SEALED_PREFIX};

const SUFFIX: &str = "}}";

pub struct Sealer {
    cipher: Aes256Gcm,
}

fn storage(msg: String) -> StoreError {
    StoreError::Storage(msg)
}

fn each_string(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| each_string(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| each_string(v, f)),
        _ => {}
    }
}

impl Sealer {
    /// The sealer whose key is in `key_file`, made (32 random bytes, 0600)
    /// when the file does not exist yet.
    pub fn from_key_file(key_file: &Path) -> Result<Sealer, StoreError> {
        let key = match std::fs::read(key_file) {
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random(32)?;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                match opts.open(key_file) {
                    Ok(mut f) => {
                        f.write_all(&key).map_err(|e| {
                            storage(format!("cannot write {}: {e}", key_file.display()))
                        })?;
                        key
                    }
                    // Another process made it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        std::fs::read(key_file).map_err(|e| {
                            storage(format!("cannot read {}: {e}", key_file.display()))
                        })?
                    }
                    Err(e) => {
                        return Err(storage(format!(
                            "cannot create the secrets key {}: {e}",
                            key_file.display()
                        )));
                    }
                }
            }
            Err(e) => {
                return Err(storage(format!(
                    "cannot read the secrets key {}: {e}",
                    key_file.display()
                )));
            }
        };
        Self::from_key(&key).map_err(|_| {
            storage(format!(
                "the secrets key {} is damaged (it must hold 32 bytes); restore it from a backup, or secrets sealed with it cannot be read",
                key_file.display()
            ))
        })
    }

    /// A sealer with a key of its own, for a store that lives in memory.
    pub fn ephemeral() -> Result<Sealer, StoreError> {
        Self::from_key(&random(32)?)
    }

    /// A sealer with the 32-byte `key` (a shared store keeps it as a record).
    pub fn from_key(key: &[u8]) -> Result<Sealer, StoreError> {
        Aes256Gcm::new_from_slice(key)
            .map(|cipher| Sealer { cipher })
            .map_err(|e| storage(format!("bad secrets key: {e}")))
    }

    fn seal_str(&self, s: &str) -> Result<String, StoreError> {
        let nonce: [u8; 12] = random(12)?
            .try_into()
            .map_err(|_| storage("no nonce".into()))?;
        let ct = self
            .cipher
            .encrypt(&Nonce::from(nonce), s.as_bytes())
            .map_err(|_| storage("cannot encrypt a secret".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        Ok(format!("{SEALED_PREFIX}{}{SUFFIX}", STANDARD.encode(blob)))
    }

    fn open_str(&self, s: &str, what: &str) -> Result<String, StoreError> {
        let damaged = || {
            StoreError::Corrupt(format!(
                "a sealed secret in {what} does not open with the project's secrets key (was state.key replaced or state.db edited?)"
            ))
        };
        let b64 = s
            .strip_prefix(SEALED_PREFIX)
            .and_then(|r| r.strip_suffix(SUFFIX))
            .ok_or_else(damaged)?;
        let blob = STANDARD.decode(b64).map_err(|_| damaged())?;
        if blob.len() < 12 {
            return Err(damaged());
        }
        let (nonce, ct) = blob.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| damaged())?;
        let pt = self
            .cipher
            .decrypt(&Nonce::from(nonce), ct)
            .map_err(|_| damaged())?;
        String::from_utf8(pt).map_err(|_| damaged())
    }

    /// Seal every string that looks sealed already (a user's text), so that
    /// opening it later gives it back as written.
    fn escape(&self, v: &mut Value) -> Result<(), StoreError> {
        let mut err = None;
        each_string(v, &mut |s| {
            if s.starts_with(SEALED_PREFIX) {
                match self.seal_str(s) {
                    Ok(sealed) => *s = sealed,
                    Err(e) => err = Some(e),
                }
            }
        });
        err.map_or(Ok(()), Err)
    }

    fn open_all(&self, v: &mut Value, what: &str) -> Result<(), StoreError> {
        let mut err = None;
        each_string(v, &mut |s| {
            if s.starts_with(SEALED_PREFIX) {
                match self.open_str(s, what) {
                    Ok(clear) => *s = clear,
                    Err(e) => err = Some(e),
                }
            }
        });
        err.map_or(Ok(()), Err)
    }

    /// A copy of `plan` fit to store: its secrets sealed.
    pub fn seal_plan(&self, plan: &Plan) -> Result<Plan, StoreError> {
        let mut p = plan.clone();
        self.escape(&mut p.desired_state)?;
        self.escape(&mut p.template.0)?;
        if let Some(patch) = p.patch.as_mut() {
            self.escape(patch)?;
        }
        let mut err = None;
        redact::for_each_plan_secret(&mut p, &mut |s| match self.seal_str(s) {
            Ok(sealed) => *s = sealed,
            Err(e) => err = Some(e),
        });
        err.map_or(Ok(p), Err)
    }

    /// A stored plan with its secrets opened.
    pub fn open_plan(&self, mut p: Plan) -> Result<Plan, StoreError> {
        let what = format!("plan {}", p.id);
        self.open_all(&mut p.desired_state, &what)?;
        self.open_all(&mut p.template.0, &what)?;
        if let Some(patch) = p.patch.as_mut() {
            self.open_all(patch, &what)?;
        }
        Ok(p)
    }

    /// One resource's properties fit to store.
    pub fn seal_properties(&self, type_name: &str, props: &Value) -> Result<Value, StoreError> {
        let mut out = props.clone();
        self.escape(&mut out)?;
        let mut err = None;
        redact::for_each_secret(type_name, &mut out, &mut |s| match self.seal_str(s) {
            Ok(sealed) => *s = sealed,
            Err(e) => err = Some(e),
        });
        err.map_or(Ok(out), Err)
    }

    pub fn open_properties(&self, mut props: Value, what: &str) -> Result<Value, StoreError> {
        self.open_all(&mut props, what)?;
        Ok(props)
    }
}

/// `n` random bytes (a new key, a nonce).
pub fn random(n: usize) -> Result<Vec<u8>, StoreError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| storage(format!("no randomness: {e}")))?;
    Ok(b)
}
