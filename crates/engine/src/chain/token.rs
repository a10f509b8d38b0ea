//! The chain's tokens themselves: `ig1.<claims>.<mac>`, base64url JSON
//! [`Claims`] (kind, id, env, plan, content hash, parent, issued, expires)
//! signed with HMAC-SHA256 under the project's secret; issuing one,
//! verifying its signature, kind, environment and age, spending a
//! single-use one, and finding the plan it vouches for.
//!
//! Not here: the steps that issue and demand them (`mod.rs`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::Plan;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::refuse;
use crate::engine::{Engine, new_id};
use crate::error::EngineError;
use crate::redact::Shown;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Environment,
    Credentials,
    GeneratedCode,
    Explained,
    SecurityScan,
}

impl TokenKind {
    pub(super) fn label(self) -> &'static str {
        match self {
            TokenKind::Environment => "environment_token",
            TokenKind::Credentials => "credentials_token",
            TokenKind::GeneratedCode => "generated_code_token",
            TokenKind::Explained => "explained_token",
            TokenKind::SecurityScan => "security_scan_token",
        }
    }

    /// The tool that issues this kind of token.
    pub(super) fn issuer(self) -> &'static str {
        match self {
            TokenKind::Environment => "check_environment_variables",
            TokenKind::Credentials => "get_aws_session_info",
            TokenKind::GeneratedCode => "generate_infrastructure_code",
            TokenKind::Explained => "explain",
            TokenKind::SecurityScan => "run_checkov",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub kind: TokenKind,
    /// Unique id; single-use tokens are spent by it.
    pub id: String,
    pub env: String,
    pub plan: Option<String>,
    /// Content hash of the plan the token vouches for.
    pub hash: Option<String>,
    /// Id of the token this one was issued against.
    pub parent: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

fn hmac_of(key: &[u8], data: &[u8]) -> Result<Hmac<Sha256>, EngineError> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|e| EngineError::Config(format!("bad signing key: {e}")))?;
    m.update(data);
    Ok(m)
}

fn mac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, EngineError> {
    Ok(hmac_of(key, data)?.finalize().into_bytes().to_vec())
}

impl<C: Cloud, S: Store> Engine<C, S> {
    fn key(&self) -> Result<&[u8], EngineError> {
        if self.signing_key.len() < 16 {
            return Err(EngineError::Config(
                "no signing key: the token chain cannot run".into(),
            ));
        }
        Ok(&self.signing_key)
    }

    pub(super) fn issue(
        &self,
        kind: TokenKind,
        env: &str,
        plan: Option<&Plan>,
        parent: Option<&Claims>,
    ) -> Result<String, EngineError> {
        let now = self.clock.now().unix();
        let claims = Claims {
            kind,
            id: new_id("tok")?,
            env: env.into(),
            plan: plan.map(|p| p.id.clone()),
            hash: plan.map(|p| p.content_hash.clone()),
            parent: parent.map(|p| p.id.clone()),
            iat: now,
            exp: now + self.config.token_ttl_seconds as i64,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let sig = URL_SAFE_NO_PAD.encode(mac(self.key()?, body.as_bytes())?);
        Ok(format!("ig1.{body}.{sig}"))
    }

    /// Check a token's signature, kind, environment and age. Spending is the
    /// caller's business.
    pub fn verify_token(
        &self,
        token: Option<&str>,
        kind: TokenKind,
        env: &str,
        tool: &str,
    ) -> Result<Claims, EngineError> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                refuse(format!(
                    "{tool} needs a {}: call {} first to get one",
                    kind.label(),
                    kind.issuer()
                ))
            })?;
        let forged = || {
            refuse(format!(
                "the {} given to {tool} was not issued by this server (forged, truncated or from another project): call {} to get a real one",
                kind.label(),
                kind.issuer()
            ))
        };
        let mut parts = token.split('.');
        let (Some("ig1"), Some(body), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(forged());
        };
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| forged())?;
        // `verify_slice` compares in constant time: a forger learns nothing
        // from how long a wrong signature takes to refuse.
        if hmac_of(self.key()?, body.as_bytes())?
            .verify_slice(&sig)
            .is_err()
        {
            return Err(forged());
        }
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(forged)?;
        if claims.kind != kind {
            return Err(refuse(format!(
                "{tool} needs a {} (from {}), but was given a {} (from {})",
                kind.label(),
                kind.issuer(),
                claims.kind.label(),
                claims.kind.issuer()
            )));
        }
        if claims.env != env {
            return Err(refuse(format!(
                "the {} was issued for environment `{}`, not `{env}`: tokens do not cross environments; call {} on the `{env}` server",
                kind.label(),
                claims.env,
                kind.issuer()
            )));
        }
        let now = self.clock.now().unix();
        if now > claims.exp {
            return Err(refuse(format!(
                "the {} expired {} s ago (tokens live {} s): call {} again",
                kind.label(),
                now - claims.exp,
                self.config.token_ttl_seconds,
                kind.issuer()
            )));
        }
        Ok(claims)
    }

    pub(super) fn spend(&self, claims: &Claims, tool: &str) -> Result<(), EngineError> {
        if self.store.spend_token(&claims.id, claims.exp)? {
            Ok(())
        } else {
            Err(refuse(format!(
                "the {} given to {tool} was already used: each step token works once; call {} again",
                claims.kind.label(),
                claims.kind.issuer()
            )))
        }
    }

    pub(super) fn ensure_unspent(&self, claims: &Claims, tool: &str) -> Result<(), EngineError> {
        // Spending and un-spending is not possible, so look without spending:
        // a spent id is in the store; `spend_token` on a fresh id would spend
        // it, which only `apply_step` may do at the right moment.
        if self.store.token_spent(&claims.id)? {
            return Err(refuse(format!(
                "the {} given to {tool} was already used: each step token works once; call {} again",
                claims.kind.label(),
                claims.kind.issuer()
            )));
        }
        Ok(())
    }

    pub(super) fn chain_plan(
        &self,
        claims: &Claims,
        tool: &str,
    ) -> Result<Shown<Plan>, EngineError> {
        let id = claims.plan.as_deref().ok_or_else(|| {
            refuse(format!(
                "the {} given to {tool} names no plan",
                claims.kind.label()
            ))
        })?;
        let plan = self.plan_by_id(id)?;
        if Some(&plan.content_hash) != claims.hash.as_ref() {
            return Err(refuse(format!(
                "the {} given to {tool} vouches for other content than plan {id} holds now: start again from generate_infrastructure_code",
                claims.kind.label()
            )));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_whole_and_exact() {
        let key = [7u8; 32];
        let sig = mac(&key, b"body").unwrap();
        assert!(hmac_of(&key, b"body").unwrap().verify_slice(&sig).is_ok());
        let mut flipped = sig.clone();
        flipped[0] ^= 1;
        assert!(
            hmac_of(&key, b"body")
                .unwrap()
                .verify_slice(&flipped)
                .is_err()
        );
        assert!(
            hmac_of(&key, b"body")
                .unwrap()
                .verify_slice(&sig[..16])
                .is_err()
        );
        assert!(hmac_of(&key, b"bodY").unwrap().verify_slice(&sig).is_err());
    }
}
