//! Security and configuration: KMS keys, Secrets Manager secrets, Cognito
//! user pools and app clients, SSM parameters.

use super::{Context, Gen, Rules};

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::KMS::Key",
        create: key,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::SecretsManager::Secret",
        create: secret,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::Cognito::UserPool",
        create: user_pool,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::Cognito::UserPoolClient",
        create: user_pool_client,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::SSM::Parameter",
        create: parameter,
        update: None,
        max_name_len: None,
    },
];

fn key(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let id = cx.rng.uuid();
    g.put("/Arn", format!("arn:aws:kms:{r}:{a}:key/{id}"));
    g.put("/KeyId", id);
}

fn secret(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("Name", cx.rng);
    g.put(
        "/Id",
        format!(
            "arn:aws:secretsmanager:{r}:{a}:secret:{n}-{}",
            cx.rng.mixed_alnum(6)
        ),
    );
}

fn user_pool(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let id = format!("{r}_{}", cx.rng.mixed_alnum(9));
    g.put("/Arn", format!("arn:aws:cognito-idp:{r}:{a}:userpool/{id}"));
    g.put(
        "/ProviderName",
        format!("cognito-idp.{r}.amazonaws.com/{id}"),
    );
    g.put(
        "/ProviderURL",
        format!("https://cognito-idp.{r}.amazonaws.com/{id}"),
    );
    g.put("/UserPoolId", id);
}

fn user_pool_client(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    g.put("/ClientId", cx.rng.lower_alnum(26));
    if let Some(n) = g.str("ClientName") {
        g.put("/Name", n);
    }
    // ClientSecret is deliberately not generated: it would be a
    // secret in every `get`, and nothing local can use it.
}

fn parameter(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("Name", cx.rng);
    let tail = n.trim_start_matches('/');
    g.put("/Arn", format!("arn:aws:ssm:{r}:{a}:parameter/{tail}"));
}
