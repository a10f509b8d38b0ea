//! How the credentials of an environment were obtained, in words a person
//! recognises (`Environment Variables`, `AWS SSO Profile`, ...).
//!
//! The SDK records on each resolved credential which providers produced it
//! (the same markers it reports in its user agent); we read those markers
//! and never the keys themselves, so nothing here can leak a credential.

use aws_credential_types::Credentials;
use aws_credential_types::credential_feature::AwsCredentialFeature as F;

/// Shown when credentials were passed in code (tests, `cloud serve` clients).
pub const STATIC: &str = "Static Credentials";

/// Kinds whose credentials did not come from the profile: the identity
/// then names no profile, even if one is configured, so `envs` does not
/// claim a profile that was not used. (Environment keys go before a
/// profile in the SDK's chain, as in every AWS SDK.)
pub fn ignores_profile(kind: &str) -> bool {
    matches!(
        kind,
        "Environment Variables" | STATIC | "Container Credentials" | "Instance Metadata"
    )
}

/// The auth kind of a resolved credential.
pub fn auth_kind(credentials: &Credentials) -> String {
    let features: &[F] = credentials
        .get_property::<Vec<F>>()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    kind_of(features).to_string()
}

/// The kind from the provider markers; the most specific marker wins
/// (an SSO profile is also a profile).
pub fn kind_of(features: &[F]) -> &'static str {
    let has = |f: F| features.contains(&f);
    if has(F::CredentialsSso) || has(F::CredentialsProfileSso) {
        "AWS SSO Profile"
    } else if has(F::CredentialsProfileLogin) || has(F::CredentialsLogin) {
        "AWS Console Login Profile"
    } else if has(F::CredentialsEnvVarsStsWebIdToken)
        || has(F::CredentialsProfileStsWebIdToken)
        || has(F::CredentialsStsAssumeRoleWebId)
    {
        "Web Identity"
    } else if has(F::CredentialsStsAssumeRole) || has(F::CredentialsProfileSourceProfile) {
        "Assumed Role Profile"
    } else if has(F::CredentialsProcess) || has(F::CredentialsProfileProcess) {
        "Credential Process"
    } else if has(F::CredentialsEnvVars) {
        "Environment Variables"
    } else if has(F::CredentialsProfile) || has(F::CredentialsProfileNamedProvider) {
        "Profile"
    } else if has(F::CredentialsHttp) {
        "Container Credentials"
    } else if has(F::CredentialsImds) {
        "Instance Metadata"
    } else if has(F::CredentialsCode) {
        STATIC
    } else {
        "Unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_provider_names_the_kind() {
        assert_eq!(
            kind_of(&[F::CredentialsProfile, F::CredentialsSso]),
            "AWS SSO Profile"
        );
        assert_eq!(kind_of(&[F::CredentialsEnvVars]), "Environment Variables");
        assert_eq!(kind_of(&[F::CredentialsProfile]), "Profile");
        assert_eq!(
            kind_of(&[
                F::CredentialsProfile,
                F::CredentialsProfileSourceProfile,
                F::CredentialsStsAssumeRole
            ]),
            "Assumed Role Profile"
        );
        assert_eq!(kind_of(&[F::CredentialsImds]), "Instance Metadata");
        assert_eq!(kind_of(&[]), "Unknown");
    }

    #[test]
    fn the_kind_is_read_from_markers_not_keys() {
        let mut c = Credentials::new("AKIAEXAMPLE", "secret-value", None, None, "test");
        assert_eq!(auth_kind(&c), "Unknown");
        c.get_property_mut_or_default::<Vec<F>>()
            .push(F::CredentialsEnvVars);
        let kind = auth_kind(&c);
        assert_eq!(kind, "Environment Variables");
        assert!(!kind.contains("AKIA") && !kind.contains("secret"));
    }
}
