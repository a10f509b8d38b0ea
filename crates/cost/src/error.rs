//! The one error type of the cost crate.
//!
//! Only what a caller supplies can fail: usage figures (argument, usage file)
//! and the region. A resource property the estimator cannot read (an
//! intrinsic function, a wrong literal) is not an error: the estimate comes
//! back with `known: false` and a note naming the property, so a plan can
//! still be shown and the gate can ask a human.

/// Why an estimate or a usage input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error(
        "usage key `{key}` does not apply to {type_name}; known keys: {known}. Fix the key or drop it"
    )]
    UnknownUsageKey {
        key: String,
        type_name: String,
        /// Comma-separated list of the keys the type accepts (or `none`).
        known: String,
    },

    #[error("usage `{key}` = {value} is negative; usage figures must be zero or more")]
    NegativeUsage { key: String, value: String },

    #[error("usage `{key}` = {value} is larger than {max}; give a realistic monthly figure")]
    UsageTooLarge {
        key: String,
        value: String,
        max: String,
    },

    #[error("usage `{key}` has value `{value}`, which is not a number; write e.g. `{key}=50`")]
    UsageNotANumber { key: String, value: String },

    #[error(
        "cannot read usage argument `{text}`: {reason}. Write `key=value,key=value` or a JSON object such as {{\"storage_gb\": 50}}"
    )]
    UsageArgSyntax { text: String, reason: String },

    #[error("cannot read usage file: {reason}")]
    UsageFileSyntax { reason: String },

    #[error(
        "the AWS Price List API gave no usable price: {reason}; the embedded catalog is used instead"
    )]
    PriceList { reason: String },

    #[error("`{0}` is not an AWS region name; use a name such as `us-east-1` or `eu-west-1`")]
    InvalidRegion(String),
}
