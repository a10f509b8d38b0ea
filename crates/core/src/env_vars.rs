//! Every environment variable infraguard reads, declared once, for every
//! crate (the engine, the AWS backend, the CLI).
//!
//! The first group overrides `infraguard.toml` for one process (an MCP
//! server started from `.mcp.json` gets its environment's values this
//! way); [`ALL`] lists them for `check_environment_variables`. The rest are
//! read for what they are elsewhere too (credentials, the user's folders).

/// AWS profile for the environment(s) this process serves.
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// AWS region for the environment(s) this process serves.
pub const AWS_REGION: &str = "AWS_REGION";
/// `enabled` / `disabled`: whether plans are security-scanned.
pub const SECURITY_SCANNING: &str = "SECURITY_SCANNING";
/// `true` makes the environment(s) read-only. It can only tighten: `false`
/// does not lift the read-only flag that `infraguard.toml` sets.
pub const INFRAGUARD_READONLY: &str = "INFRAGUARD_READONLY";
/// The guard's socket: the project's engine runs in the guard (as if
/// `[guard] socket` were set in `infraguard.toml`).
pub const INFRAGUARD_GUARD_SOCKET: &str = "INFRAGUARD_GUARD_SOCKET";
/// Log filter for stderr (`info`, `debug`, `infraguard=trace`).
pub const INFRAGUARD_LOG: &str = "INFRAGUARD_LOG";

/// `AWS_DEFAULT_REGION`: the AWS CLI's region variable; the Rust SDK does
/// not read it itself, so the AWS backend does, after `AWS_REGION`.
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Static credentials the SDK reads; infraguard only says whether they are
/// set, never their values.
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// The secret half of static credentials (never shown).
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Temporary credentials' session token (never shown).
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// The endpoint of DynamoDB for a `[state] backend = "dynamodb"` (an
/// emulator, a VPC endpoint); the SDK's own spelling.
pub const AWS_ENDPOINT_URL_DYNAMODB: &str = "AWS_ENDPOINT_URL_DYNAMODB";
/// The user's cache folder (fetched resource schemas go under it).
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// The user's home, for `~/.cache` when `XDG_CACHE_HOME` is unset.
pub const HOME: &str = "HOME";
/// The OS user's name, as the audit log labels a CLI caller (a label,
/// never proof of who is at the keyboard); `USERNAME` on Windows.
pub const USER: &str = "USER";
/// The Windows spelling of [`USER`].
pub const USERNAME: &str = "USERNAME";
/// Where `checkov` and the tools `init` looks for are found.
pub const PATH: &str = "PATH";

/// The overrides, for `check_environment_variables` and help text.
pub const ALL: &[(&str, &str)] = &[
    (AWS_PROFILE, "AWS profile of the environment"),
    (AWS_REGION, "AWS region of the environment"),
    (SECURITY_SCANNING, "enabled or disabled: scan every plan"),
    (
        INFRAGUARD_READONLY,
        "true: refuse writes unless a human approves",
    ),
    (
        INFRAGUARD_GUARD_SOCKET,
        "the guard's socket (the engine runs in the guard)",
    ),
    (INFRAGUARD_LOG, "log level on stderr"),
];

/// The process environment as the config resolver takes it. A variable
/// whose name or value is not UTF-8 cannot be one of the above, so it is
/// skipped rather than fatal (`std::env::vars` would panic on it).
pub fn process_vars() -> std::collections::BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
