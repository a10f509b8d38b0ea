//! Where an environment's region comes from, in the order the issue fixes:
//! the environment's own setting, then `AWS_REGION`, then
//! `AWS_DEFAULT_REGION`, then the profile (resolved by the SDK from the
//! shared config file). Every call of the environment then uses that one
//! region; nothing is hard-coded.

use std::collections::BTreeMap;

pub use infraguard_core::env_vars::{AWS_DEFAULT_REGION, AWS_PROFILE, AWS_REGION};

/// The region named before the profile is consulted, or `None` when only
/// the profile can say. Empty values count as unset, as they do for the
/// AWS CLI.
pub fn explicit_region(
    configured: Option<&str>,
    vars: &BTreeMap<String, String>,
) -> Option<String> {
    let non_empty = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    non_empty(configured)
        .or_else(|| non_empty(vars.get(AWS_REGION).map(String::as_str)))
        .or_else(|| non_empty(vars.get(AWS_DEFAULT_REGION).map(String::as_str)))
}

/// The profile: the environment's own, else `AWS_PROFILE`, else none (the
/// SDK then uses `default`).
pub fn profile(configured: Option<&str>, vars: &BTreeMap<String, String>) -> Option<String> {
    configured
        .or(vars.get(AWS_PROFILE).map(String::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_setting_wins_over_both_variables() {
        let v = vars(&[(AWS_REGION, "eu-west-1"), (AWS_DEFAULT_REGION, "us-west-2")]);
        assert_eq!(
            explicit_region(Some("ap-south-1"), &v).as_deref(),
            Some("ap-south-1")
        );
    }

    #[test]
    fn aws_region_wins_over_aws_default_region() {
        let v = vars(&[(AWS_REGION, "eu-west-1"), (AWS_DEFAULT_REGION, "us-west-2")]);
        assert_eq!(explicit_region(None, &v).as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn aws_default_region_is_read_when_aws_region_is_absent_or_empty() {
        let v = vars(&[(AWS_REGION, " "), (AWS_DEFAULT_REGION, "us-west-2")]);
        assert_eq!(explicit_region(Some(""), &v).as_deref(), Some("us-west-2"));
    }

    #[test]
    fn nothing_set_leaves_the_profile_to_decide() {
        assert_eq!(explicit_region(None, &vars(&[])), None);
    }

    #[test]
    fn profile_prefers_the_environment_then_aws_profile() {
        let v = vars(&[(AWS_PROFILE, "sso-dev")]);
        assert_eq!(profile(Some("prod"), &v).as_deref(), Some("prod"));
        assert_eq!(profile(None, &v).as_deref(), Some("sso-dev"));
        assert_eq!(profile(None, &vars(&[(AWS_PROFILE, "")])), None);
    }
}
