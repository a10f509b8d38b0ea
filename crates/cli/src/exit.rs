//! Exit codes, the same for every command:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | failure: the cloud refused or failed, or infraguard could not do its work (for `scan`: findings at or above `--fail-on`) |
//! | 2 | bad input: a wrong argument, property, identifier or file; nothing was changed |
//! | 3 | needs approval or refused by the gate (an approval refused too: a wrong or missing proof); nothing was changed |
//! | 4 | found something: `drift` found drift, `sync` found resources waiting for promotion or review, `preflight` found a failed check |

use infraguard_engine::{EngineError, ErrorKind};

pub const OK: i32 = 0;
pub const FAILURE: i32 = 1;
pub const BAD_INPUT: i32 = 2;
pub const GATED: i32 = 3;
/// A check ran and found what it looks for (drift, unsynced resources, a
/// failed preflight check): not an error, and not bad input.
pub const FOUND: i32 = 4;

pub const HELP: &str = "Exit codes: 0 success; 1 failure (cloud or infraguard); 2 bad input (nothing changed); 3 needs approval or refused by the gate (nothing changed); 4 drift, sync or preflight found something.";

/// Bad input that the CLI itself detects (arguments, files).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// A refusal the CLI itself reports (no proof was given, so nothing was
/// asked of the engine): nothing was approved or changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

pub fn code_for(err: &anyhow::Error) -> i32 {
    if err.downcast_ref::<BadInput>().is_some() {
        return BAD_INPUT;
    }
    if err.downcast_ref::<Refused>().is_some() {
        return GATED;
    }
    match err.downcast_ref::<EngineError>().map(EngineError::kind) {
        Some(ErrorKind::BadInput) => BAD_INPUT,
        Some(ErrorKind::Gated) => GATED,
        Some(ErrorKind::Cloud) | Some(ErrorKind::Failure) => FAILURE,
        None => FAILURE,
    }
}
