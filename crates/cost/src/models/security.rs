//! Keys, secrets, parameters and user directories: KMS keys, Secrets
//! Manager secrets, SSM parameters and Cognito user pools.

use rust_decimal::Decimal;
use serde_json::Value;

use super::free;
use crate::dec::dec;
use crate::model::{Ctx, Model, Pricing, TEN_THOUSAND, key};
use crate::usage::UsageKey;

static KEY_USAGE: &[UsageKey] = &[key(
    "monthly_requests",
    "requests",
    "10000",
    "cryptographic API requests a month",
)];

const KMS_KEY: Model = Model {
    type_name: "AWS::KMS::Key",
    service: "KMS Keys",
    usage: KEY_USAGE,
    pricing: Pricing::Priced(kms_key),
};

fn kms_key(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(spec), Ok(multi_region), Ok(rotation)) = (
        ctx.text(props, "/KeySpec"),
        ctx.flag(props, "/MultiRegion"),
        ctx.flag(props, "/EnableKeyRotation"),
    ) else {
        return;
    };
    ctx.charge("Customer managed key", "kms.key", Decimal::ONE);
    let spec = spec.unwrap_or("SYMMETRIC_DEFAULT");
    if spec.eq_ignore_ascii_case("SYMMETRIC_DEFAULT") {
        let requests = ctx.usage("monthly_requests");
        ctx.charge(
            "Requests (symmetric)",
            "kms.requests.symmetric",
            requests / TEN_THOUSAND,
        );
    } else {
        ctx.unknown(format!(
            "unknown request price for KeySpec {spec}: requests not included"
        ));
    }
    if multi_region == Some(true) {
        ctx.note("multi-Region key: each replica key is billed as another key");
    }
    if rotation == Some(true) {
        ctx.note("automatic rotation: each of the first two rotations (yearly by default) adds one key-month a month");
    }
}

static SECRET_USAGE: &[UsageKey] = &[key(
    "monthly_api_calls",
    "calls",
    "10000",
    "Secrets Manager API calls a month",
)];

const SECRET: Model = Model {
    type_name: "AWS::SecretsManager::Secret",
    service: "Secrets Manager",
    usage: SECRET_USAGE,
    pricing: Pricing::Priced(secret),
};

fn secret(ctx: &mut Ctx<'_>, props: &Value) {
    let Ok(replicas) = ctx.list_len(props, "/ReplicaRegions") else {
        return;
    };
    let secrets = Decimal::from(1 + replicas);
    let name = if replicas > 0 {
        format!("Secret (primary + {replicas} replicas)")
    } else {
        "Secret".to_string()
    };
    ctx.charge(name, "secretsmanager.secret", secrets);
    let calls = ctx.usage("monthly_api_calls");
    ctx.charge("API calls", "secretsmanager.api", calls / TEN_THOUSAND);
}

static PARAMETER_USAGE: &[UsageKey] = &[key(
    "monthly_api_interactions",
    "interactions",
    "10000",
    "API interactions a month (advanced parameters)",
)];

const PARAMETER: Model = Model {
    type_name: "AWS::SSM::Parameter",
    service: "SSM Parameters",
    usage: PARAMETER_USAGE,
    pricing: Pricing::Priced(parameter),
};

fn parameter(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(tier), Ok(value), Ok(policies)) = (
        ctx.text(props, "/Tier"),
        ctx.text(props, "/Value"),
        ctx.text(props, "/Policies"),
    ) else {
        return;
    };
    let advanced = match tier.unwrap_or("Standard").to_ascii_lowercase().as_str() {
        "standard" => false,
        "advanced" => true,
        "intelligent-tiering" => {
            // Intelligent-Tiering picks Advanced only when Standard cannot
            // hold the parameter: over 4 KB, or with parameter policies.
            let needs = policies.is_some() || value.is_some_and(|v| v.len() > 4096);
            ctx.note(format!(
                "Intelligent-Tiering: stored as {} (value size and policies)",
                if needs { "Advanced" } else { "Standard" }
            ));
            needs
        }
        other => {
            ctx.unknown(format!("unknown price for parameter tier `{other}`"));
            return;
        }
    };
    if advanced {
        ctx.charge("Advanced parameter", "ssm.parameter.advanced", Decimal::ONE);
        let calls = ctx.usage("monthly_api_interactions");
        ctx.charge(
            "API interactions (advanced)",
            "ssm.api.advanced",
            calls / TEN_THOUSAND,
        );
    } else {
        ctx.note("$0, no charge for this resource type: Standard parameters and standard-throughput API calls are free");
    }
}

static POOL_USAGE: &[UsageKey] = &[key(
    "monthly_active_users",
    "MAU",
    "1000",
    "monthly active users",
)];

const USER_POOL: Model = Model {
    type_name: "AWS::Cognito::UserPool",
    service: "Cognito Users",
    usage: POOL_USAGE,
    pricing: Pricing::Priced(user_pool),
};

fn user_pool(ctx: &mut Ctx<'_>, props: &Value) {
    let Ok(tier) = ctx.text(props, "/UserPoolTier") else {
        return;
    };
    let tier = tier.map(str::to_ascii_uppercase).unwrap_or_else(|| {
        ctx.note("UserPoolTier is not set: Essentials, the default for new pools, is assumed");
        "ESSENTIALS".to_string()
    });
    let mau = ctx.usage("monthly_active_users");
    match tier.as_str() {
        "LITE" => ctx.charge_tiers(
            "Monthly active users, Lite",
            &[
                (
                    dec("10000"),
                    "first 10,000 free",
                    "cognito.lite.mau.first_10k",
                ),
                (
                    dec("90000"),
                    "10,001 to 100,000",
                    "cognito.lite.mau.next_90k",
                ),
                (
                    dec("900000"),
                    "100,001 to 1,000,000",
                    "cognito.lite.mau.next_900k",
                ),
                (
                    dec("9000000"),
                    "1,000,001 to 10,000,000",
                    "cognito.lite.mau.next_9m",
                ),
                (
                    Decimal::ZERO,
                    "over 10,000,000",
                    "cognito.lite.mau.over_10m",
                ),
            ],
            mau,
        ),
        "ESSENTIALS" => ctx.charge_tiers(
            "Monthly active users, Essentials",
            &[
                (
                    dec("10000"),
                    "first 10,000 free",
                    "cognito.essentials.mau.first_10k",
                ),
                (
                    Decimal::ZERO,
                    "over 10,000",
                    "cognito.essentials.mau.over_10k",
                ),
            ],
            mau,
        ),
        "PLUS" => ctx.charge(
            "Monthly active users, Plus (no free tier)",
            "cognito.plus.mau",
            mau,
        ),
        other => {
            ctx.unknown(format!("unknown price for user pool tier `{other}`"));
            return;
        }
    }
    if tier != "PLUS" {
        ctx.note("the 10,000 free MAU are per account (shared by all pools); applied to this pool");
    }
    if props.pointer("/SmsConfiguration").is_some() {
        ctx.note("SMS messages are billed by Amazon SNS and are not included");
    }
}

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[
    USER_POOL,
    KMS_KEY,
    SECRET,
    PARAMETER,
    free("AWS::IAM::Role", "IAM", "IAM is a free service"),
    free("AWS::IAM::Policy", "IAM", "IAM is a free service"),
    free("AWS::IAM::ManagedPolicy", "IAM", "IAM is a free service"),
    free("AWS::IAM::User", "IAM", "IAM is a free service"),
    free("AWS::IAM::Group", "IAM", "IAM is a free service"),
    free(
        "AWS::Cognito::UserPoolClient",
        "Cognito Users",
        "app clients are free; users are priced on AWS::Cognito::UserPool",
    ),
];
