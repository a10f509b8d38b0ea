//! The approvers' factors: TOTP (RFC 6238: 6 digits, 30-second steps,
//! SHA-1, as every authenticator app does), kept in the guard's own
//! database, out of every other account's reach.
//!
//! Rules, all enforced here in one place ([`TotpFactors::verify`]):
//! - a code is accepted for the current step or one step either side
//!   (clock skew), and only once: a step at or before the approver's last
//!   accepted one is a replay;
//! - five rejected codes within ten minutes lock every approval for ten
//!   minutes from the last rejection (a guess has a 3-in-a-million chance;
//!   the lock keeps guessing from adding up);
//! - an enrolment counts only once the new authenticator has produced a
//!   valid code.
//!
//! Secrets are stored encrypted (AES-256-GCM) under a key file beside the
//! database, so a copy of the database alone reveals none.

use std::path::Path;
use std::sync::Mutex;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use infraguard_engine::{FactorError, Factors};
use rusqlite::{Connection, OptionalExtension, params};
use totp_rs::{Algorithm, Builder, Totp};

/// Seconds per TOTP step.
pub const STEP: i64 = 30;
/// Rejected codes that lock approvals.
pub const MAX_FAILURES: u32 = 5;
/// The window the failures are counted in, and how long the lock lasts.
pub const LOCK_SECONDS: i64 = 600;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS approvers (
    name TEXT PRIMARY KEY, status TEXT NOT NULL, nonce BLOB NOT NULL, secret BLOB NOT NULL,
    created_at INTEGER NOT NULL, last_step INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS factor_attempts (at INTEGER NOT NULL, ok INTEGER NOT NULL, approver TEXT);
";

pub struct TotpFactors {
    conn: Mutex<Connection>,
    cipher: Aes256Gcm,
}

fn storage(e: impl std::fmt::Display) -> FactorError {
    FactorError::Storage(e.to_string())
}

/// A valid approver name: what the audit log will call the person.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "approver name `{name}` is not usable: use 1-64 letters, digits, `-`, `_`, `.` or `@` (e.g. alice)"
        ))
    }
}

fn totp(secret: Vec<u8>, name: &str) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(0)
        .with_step_duration(STEP as u64)
        .with_secret(secret)
        .with_account_name(name.to_string())
        .with_issuer(Some("infraguard".to_string()))
        .build_noncompliant()
}

fn code_at(secret: &[u8], name: &str, step: i64) -> String {
    totp(secret.to_vec(), name)
        .generate((step * STEP) as u64)
        .to_string()
}

impl TotpFactors {
    /// Open (or make) the factor tables in `db`, with the encryption key in
    /// `key_file` (made on first use, mode 0600).
    pub fn open(db: &Path, key_file: &Path) -> Result<TotpFactors, FactorError> {
        let key = crate::files::secret_file(key_file, 32).map_err(storage)?;
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(storage)?;
        let conn = Connection::open(db).map_err(storage)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(storage)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(storage)?;
        conn.execute_batch(SCHEMA).map_err(storage)?;
        Ok(TotpFactors {
            conn: Mutex::new(conn),
            cipher,
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, FactorError> {
        self.conn
            .lock()
            .map_err(|_| FactorError::Storage("factor table lock poisoned".into()))
    }

    fn seal(&self, secret: &[u8]) -> Result<(Vec<u8>, Vec<u8>), FactorError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(storage)?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), secret)
            .map_err(|_| FactorError::Storage("cannot encrypt the secret".into()))?;
        Ok((nonce.to_vec(), sealed))
    }

    fn open_secret(&self, nonce: &[u8], sealed: &[u8]) -> Result<Vec<u8>, FactorError> {
        let nonce: [u8; 12] = nonce
            .try_into()
            .map_err(|_| FactorError::Storage("a stored nonce is damaged".into()))?;
        self.cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| {
                FactorError::Storage(
                    "a stored secret does not decrypt with the guard's key (was factors.key replaced?)"
                        .into(),
                )
            })
    }

    /// Start enrolling `name`: a new secret, stored as pending, and the
    /// `otpauth://` URL that carries it to the authenticator (shown once).
    pub fn enroll_start(&self, name: &str, now: i64) -> Result<String, FactorError> {
        check_name(name).map_err(FactorError::Storage)?;
        let mut secret = vec![0u8; 20];
        getrandom::fill(&mut secret).map_err(storage)?;
        let (nonce, sealed) = self.seal(&secret)?;
        let conn = self.conn()?;
        let active: Option<String> = conn
            .query_row(
                "SELECT status FROM approvers WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(storage)?;
        if active.as_deref() == Some("active") {
            return Err(FactorError::Storage(format!(
                "approver `{name}` is already enrolled; pick another name"
            )));
        }
        conn.execute(
            "INSERT OR REPLACE INTO approvers (name, status, nonce, secret, created_at, last_step) VALUES (?1, 'pending', ?2, ?3, ?4, 0)",
            params![name, nonce, sealed, now],
        )
        .map_err(storage)?;
        totp(secret, name)
            .to_url()
            .map_err(|e| FactorError::Storage(format!("cannot make the otpauth URL: {e}")))
    }

    /// Finish enrolling `name` with a code from the new authenticator.
    pub fn enroll_finish(&self, name: &str, code: &str, now: i64) -> Result<(), FactorError> {
        let conn = self.conn()?;
        let row: Option<(String, Vec<u8>, Vec<u8>)> = conn
            .query_row(
                "SELECT status, nonce, secret FROM approvers WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(storage)?;
        let Some((status, nonce, sealed)) = row else {
            return Err(FactorError::UnknownApprover(name.into()));
        };
        if status != "pending" {
            return Err(FactorError::Storage(format!(
                "approver `{name}` is already enrolled"
            )));
        }
        let secret = self.open_secret(&nonce, &sealed)?;
        match matching_step(&secret, name, code, now) {
            Some(step) => {
                conn.execute(
                    "UPDATE approvers SET status = 'active', last_step = ?2 WHERE name = ?1",
                    params![name, step],
                )
                .map_err(storage)?;
                Ok(())
            }
            None => Err(FactorError::WrongCode),
        }
    }

    fn lock_state(conn: &Connection, now: i64) -> Result<Option<(i64, u32)>, FactorError> {
        let (failures, last): (u32, Option<i64>) = conn
            .query_row(
                "SELECT COUNT(*), MAX(at) FROM factor_attempts WHERE ok = 0 AND at > ?1",
                params![now - LOCK_SECONDS],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(storage)?;
        Ok(match last {
            Some(last) if failures >= MAX_FAILURES => Some((last + LOCK_SECONDS, failures)),
            _ => None,
        })
    }
}

/// The step within one of `now`'s that `code` is valid for.
fn matching_step(secret: &[u8], name: &str, code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now.div_euclid(STEP);
    [step, step - 1, step + 1]
        .into_iter()
        .find(|s| constant_eq(code_at(secret, name, *s).as_bytes(), code.as_bytes()))
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

fn rfc3339(unix: i64) -> String {
    infraguard_core::clock::Timestamp::from_unix(unix).rfc3339()
}

impl Factors for TotpFactors {
    fn verify(&self, approver: Option<&str>, code: &str, now: i64) -> Result<String, FactorError> {
        let conn = self.conn()?;
        if let Some((until, attempts)) = Self::lock_state(&conn, now)? {
            return Err(FactorError::Locked {
                until: rfc3339(until),
                attempts,
            });
        }
        let mut stmt = conn
            .prepare("SELECT name, nonce, secret, last_step FROM approvers WHERE status = 'active' AND (?1 IS NULL OR name = ?1) ORDER BY name")
            .map_err(storage)?;
        let rows: Vec<(String, Vec<u8>, Vec<u8>, i64)> = stmt
            .query_map(params![approver], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(storage)?
            .collect::<Result<_, _>>()
            .map_err(storage)?;
        drop(stmt);
        let fail = |e: FactorError| -> Result<String, FactorError> {
            conn.execute(
                "INSERT INTO factor_attempts (at, ok, approver) VALUES (?1, 0, ?2)",
                params![now, approver],
            )
            .map_err(storage)?;
            Err(e)
        };
        if rows.is_empty() {
            return match approver {
                Some(a) => fail(FactorError::UnknownApprover(a.into())),
                None => Err(FactorError::NoApprovers),
            };
        }
        for (name, nonce, sealed, last_step) in rows {
            let secret = self.open_secret(&nonce, &sealed)?;
            if let Some(step) = matching_step(&secret, &name, code, now) {
                if step <= last_step {
                    return fail(FactorError::Replayed);
                }
                conn.execute(
                    "UPDATE approvers SET last_step = ?2 WHERE name = ?1",
                    params![name, step],
                )
                .map_err(storage)?;
                conn.execute(
                    "INSERT INTO factor_attempts (at, ok, approver) VALUES (?1, 1, ?2)",
                    params![now, name],
                )
                .map_err(storage)?;
                return Ok(name);
            }
        }
        fail(FactorError::WrongCode)
    }

    fn approvers(&self) -> Vec<String> {
        let Ok(conn) = self.conn() else {
            return Vec::new();
        };
        let Ok(mut stmt) =
            conn.prepare("SELECT name FROM approvers WHERE status = 'active' ORDER BY name")
        else {
            return Vec::new();
        };
        stmt.query_map([], |r| r.get::<_, String>(0))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_of(url: &str) -> Vec<u8> {
        let s = url
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        base32_decode(s)
    }

    fn base32_decode(s: &str) -> Vec<u8> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut bits = 0u64;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes().filter(|c| *c != b'=') {
            let v = alphabet.iter().position(|a| *a == c).unwrap() as u64;
            bits = (bits << 5) | v;
            n += 5;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    fn open() -> (tempfile::TempDir, TotpFactors) {
        let d = tempfile::tempdir().unwrap();
        let f = TotpFactors::open(&d.path().join("g.db"), &d.path().join("k")).unwrap();
        (d, f)
    }

    #[test]
    fn enrolment_needs_a_valid_code_then_codes_count_once() {
        let (_d, f) = open();
        let now = 1_800_000_000;
        let url = f.enroll_start("alice", now).unwrap();
        let secret = secret_of(&url);
        assert!(f.approvers().is_empty(), "pending is not enrolled");
        assert_eq!(
            f.enroll_finish("alice", "000000", now),
            Err(FactorError::WrongCode)
        );
        let step = now / STEP;
        f.enroll_finish("alice", &code_at(&secret, "alice", step), now)
            .unwrap();
        assert_eq!(f.approvers(), vec!["alice".to_string()]);
        // The enrolment code cannot be reused to approve.
        assert_eq!(
            f.verify(None, &code_at(&secret, "alice", step), now),
            Err(FactorError::Replayed)
        );
        let later = now + STEP;
        let code = code_at(&secret, "alice", step + 1);
        assert_eq!(f.verify(None, &code, later), Ok("alice".into()));
        assert_eq!(f.verify(None, &code, later), Err(FactorError::Replayed));
        assert!(matches!(
            f.verify(Some("bob"), &code, later),
            Err(FactorError::UnknownApprover(_))
        ));
    }

    #[test]
    fn five_wrong_codes_lock_for_ten_minutes() {
        let (_d, f) = open();
        let now = 1_800_000_000;
        let secret = secret_of(&f.enroll_start("alice", now).unwrap());
        f.enroll_finish("alice", &code_at(&secret, "alice", now / STEP), now)
            .unwrap();
        for i in 0..5 {
            assert_eq!(
                f.verify(None, "123456", now + i),
                Err(FactorError::WrongCode)
            );
        }
        let good = code_at(&secret, "alice", (now + 60) / STEP);
        assert!(matches!(
            f.verify(None, &good, now + 60),
            Err(FactorError::Locked { .. })
        ));
        let after = now + 4 + LOCK_SECONDS + 1;
        let good = code_at(&secret, "alice", after / STEP);
        assert_eq!(f.verify(None, &good, after), Ok("alice".into()));
    }

    #[test]
    fn secrets_are_not_stored_in_clear() {
        let (d, f) = open();
        let url = f.enroll_start("alice", 1_800_000_000).unwrap();
        let secret = secret_of(&url);
        drop(f);
        let bytes = std::fs::read(d.path().join("g.db")).unwrap();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_slice()));
    }
}
