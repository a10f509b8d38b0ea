//! The page tokens: the secret path segment of each live page, the approval
//! it stands for, its form's CSRF token and when it stops working.
//!
//! Kept in memory only: a page lives as long as the process that serves it,
//! and a restart simply asks for a new URL. A token that was used up
//! (decided, expired, closed) stays behind as a tombstone with no power, so
//! that a second visit reads "gone" (410) rather than "never existed" (404);
//! tombstones are bounded, the oldest forgotten first.

use std::collections::{HashMap, VecDeque};

use time::OffsetDateTime;

/// Bytes of randomness in a page token and in a CSRF token (192 bits, well
/// beyond guessing over loopback).
const TOKEN_BYTES: usize = 24;

/// How many used-up tokens are remembered, to answer 410 instead of 404.
const TOMBSTONES: usize = 1024;

/// A fresh random token, lowercase hex.
pub(crate) fn random_token() -> Result<String, getrandom::Error> {
    infraguard_engine::hash::random_hex(TOKEN_BYTES)
}

/// Compares two tokens in time that does not depend on where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub approval_id: String,
    pub csrf: String,
    pub expires_at: Option<OffsetDateTime>,
    /// A decision from this page is being recorded: a second one waits its turn.
    pub deciding: bool,
}

/// Why a token no longer works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Gone {
    /// Decided on this page; carries the backend's message.
    Decided(String),
    Expired,
    /// The backend says it is no longer pending (decided elsewhere, or gone).
    Closed(String),
}

pub(crate) enum Lookup {
    Live(Entry),
    Gone(Gone),
    Unknown,
}

#[derive(Default)]
pub(crate) struct Tokens {
    live: HashMap<String, Entry>,
    gone: HashMap<String, Gone>,
    gone_order: VecDeque<String>,
}

impl Tokens {
    /// The live token for `approval_id`, or a new one.
    pub fn issue(
        &mut self,
        approval_id: &str,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<String, getrandom::Error> {
        self.sweep(now);
        if let Some((token, entry)) = self
            .live
            .iter_mut()
            .find(|(_, e)| e.approval_id == approval_id)
        {
            // A later call may know the expiry better; never extend it.
            entry.expires_at = match (entry.expires_at, expires_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            return Ok(token.clone());
        }
        let token = random_token()?;
        let entry = Entry {
            approval_id: approval_id.to_owned(),
            csrf: random_token()?,
            expires_at,
            deciding: false,
        };
        self.live.insert(token.clone(), entry);
        Ok(token)
    }

    pub fn lookup(&mut self, token: &str, now: OffsetDateTime) -> Lookup {
        if let Some(entry) = self.live.get(token) {
            if is_expired(entry.expires_at, now) {
                self.retire(token, Gone::Expired);
                return Lookup::Gone(Gone::Expired);
            }
            return Lookup::Live(entry.clone());
        }
        match self.gone.get(token) {
            Some(gone) => Lookup::Gone(gone.clone()),
            None => Lookup::Unknown,
        }
    }

    /// Marks a live token as having a decision in flight; `false` when one
    /// already is, or the token is no longer live.
    pub fn begin_decision(&mut self, token: &str) -> bool {
        match self.live.get_mut(token) {
            Some(entry) if !entry.deciding => {
                entry.deciding = true;
                true
            }
            _ => false,
        }
    }

    pub fn end_decision(&mut self, token: &str) {
        if let Some(entry) = self.live.get_mut(token) {
            entry.deciding = false;
        }
    }

    /// Ends a token's life, leaving a tombstone.
    pub fn retire(&mut self, token: &str, why: Gone) {
        if self.live.remove(token).is_none() {
            return;
        }
        self.gone.insert(token.to_owned(), why);
        self.gone_order.push_back(token.to_owned());
        while self.gone_order.len() > TOMBSTONES {
            if let Some(old) = self.gone_order.pop_front() {
                self.gone.remove(&old);
            }
        }
    }

    /// Ends every live token of `approval_id`.
    pub fn retire_approval(&mut self, approval_id: &str, why: &Gone) {
        let tokens: Vec<String> = self
            .live
            .iter()
            .filter(|(_, e)| e.approval_id == approval_id)
            .map(|(t, _)| t.clone())
            .collect();
        for token in tokens {
            self.retire(&token, why.clone());
        }
    }

    /// Retires every expired token.
    pub fn sweep(&mut self, now: OffsetDateTime) {
        let expired: Vec<String> = self
            .live
            .iter()
            .filter(|(_, e)| is_expired(e.expires_at, now))
            .map(|(t, _)| t.clone())
            .collect();
        for token in expired {
            self.retire(&token, Gone::Expired);
        }
    }

    #[cfg(test)]
    pub fn live_count(&self) -> usize {
        self.live.len()
    }
}

pub(crate) fn is_expired(expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    expires_at.is_some_and(|at| now >= at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 08:00 UTC);

    #[test]
    fn tokens_are_long_random_hex() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), TOKEN_BYTES * 2);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_same_approval_reuses_its_live_token_and_never_extends_it() {
        let mut t = Tokens::default();
        let soon = NOW + Duration::minutes(5);
        let first = t.issue("ap-1", Some(soon), NOW).unwrap();
        let again = t
            .issue("ap-1", Some(NOW + Duration::hours(1)), NOW)
            .unwrap();
        assert_eq!(first, again);
        let Lookup::Live(entry) = t.lookup(&first, NOW) else {
            panic!("live")
        };
        assert_eq!(entry.expires_at, Some(soon));
        assert_ne!(t.issue("ap-2", None, NOW).unwrap(), first);
    }

    #[test]
    fn an_expired_token_is_gone_then_a_new_one_is_issued() {
        let mut t = Tokens::default();
        let token = t
            .issue("ap-1", Some(NOW + Duration::minutes(1)), NOW)
            .unwrap();
        let later = NOW + Duration::minutes(2);
        assert!(matches!(
            t.lookup(&token, later),
            Lookup::Gone(Gone::Expired)
        ));
        assert!(matches!(t.lookup(&token, later), Lookup::Gone(_)));
        assert_eq!(t.live_count(), 0);
        assert!(matches!(t.lookup("feed", later), Lookup::Unknown));
    }

    #[test]
    fn one_decision_at_a_time() {
        let mut t = Tokens::default();
        let token = t.issue("ap-1", None, NOW).unwrap();
        assert!(t.begin_decision(&token));
        assert!(!t.begin_decision(&token));
        t.end_decision(&token);
        assert!(t.begin_decision(&token));
    }

    #[test]
    fn tombstones_are_bounded() {
        let mut t = Tokens::default();
        let first = t.issue("ap-0", None, NOW).unwrap();
        t.retire(&first, Gone::Expired);
        for i in 1..=TOMBSTONES {
            let tok = t.issue(&format!("ap-{i}"), None, NOW).unwrap();
            t.retire(&tok, Gone::Expired);
        }
        assert!(matches!(t.lookup(&first, NOW), Lookup::Unknown));
        assert!(t.gone.len() <= TOMBSTONES);
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same_token("abcd", "abcd"));
        assert!(!same_token("abcd", "abce"));
        assert!(!same_token("abcd", "abc"));
    }
}
