//! RDS: DB instances, DB clusters and DB subnet groups.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Context, Gen, Rules};
use crate::random::Rng;

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::RDS::DBInstance",
        create: db_instance,
        update: None,
        max_name_len: Some(63),
    },
    Rules {
        type_name: "AWS::RDS::DBCluster",
        create: db_cluster,
        update: None,
        max_name_len: Some(63),
    },
    Rules {
        type_name: "AWS::RDS::DBSubnetGroup",
        create: db_subnet_group,
        update: None,
        max_name_len: None,
    },
];

fn db_instance(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let rng = &mut *cx.rng;
    // RDS stores identifiers in lowercase whatever the caller sent.
    let n = g.name("DBInstanceIdentifier", rng).to_ascii_lowercase();
    g.set_plain("DBInstanceIdentifier", n.clone());
    let port = db_port(g.props);
    let zone = account_suffix(a, r);
    g.put("/DBInstanceArn", format!("arn:aws:rds:{r}:{a}:db:{n}"));
    g.put(
        "/Endpoint",
        json!({
            "Address": format!("{n}.{zone}.{r}.rds.amazonaws.com"),
            "Port": port,
            "HostedZoneId": format!("Z{}", rng.upper_alnum(13)),
        }),
    );
    g.put("/DbiResourceId", format!("db-{}", rng.upper_alnum(26)));
    g.put("/DBInstanceStatus", "available");
    g.put("/InstanceCreateTime", cx.now.rfc3339());
    master_user_secret(g, a, r, &format!("db-{}", rng.uuid()), rng);
}

fn db_cluster(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let rng = &mut *cx.rng;
    let n = g.name("DBClusterIdentifier", rng).to_ascii_lowercase();
    g.set_plain("DBClusterIdentifier", n.clone());
    let port = db_port(g.props);
    let zone = account_suffix(a, r);
    g.put("/DBClusterArn", format!("arn:aws:rds:{r}:{a}:cluster:{n}"));
    g.put(
        "/Endpoint",
        json!({"Address": format!("{n}.cluster-{zone}.{r}.rds.amazonaws.com"), "Port": port}),
    );
    g.put(
        "/ReadEndpoint",
        json!({"Address": format!("{n}.cluster-ro-{zone}.{r}.rds.amazonaws.com")}),
    );
    g.put(
        "/DBClusterResourceId",
        format!("cluster-{}", rng.upper_alnum(26)),
    );
    master_user_secret(g, a, r, &format!("cluster-{}", rng.uuid()), rng);
}

fn db_subnet_group(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("DBSubnetGroupName", cx.rng).to_ascii_lowercase();
    g.set_plain("DBSubnetGroupName", n.clone());
    g.put(
        "/DBSubnetGroupArn",
        format!("arn:aws:rds:{r}:{a}:subgrp:{n}"),
    );
}

/// RDS keeps the master password in Secrets Manager when asked to.
fn master_user_secret(g: &mut Gen<'_>, a: &str, r: &str, name: &str, rng: &mut Rng) {
    if g.props.get("ManageMasterUserPassword") == Some(&Value::Bool(true)) {
        let arn = format!(
            "arn:aws:secretsmanager:{r}:{a}:secret:rds!{name}-{}",
            rng.mixed_alnum(6)
        );
        g.put("/MasterUserSecret/SecretArn", arn);
    }
}

/// The port clients expect by engine; RDS returns it as a string.
fn db_port(props: &Value) -> String {
    match props.get("Port") {
        Some(Value::String(s)) => return s.clone(),
        Some(Value::Number(n)) => return n.to_string(),
        _ => {}
    }
    let engine = props
        .get("Engine")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let port = if engine.contains("postgres") {
        5432
    } else if engine.starts_with("oracle") {
        1521
    } else if engine.starts_with("sqlserver") {
        1433
    } else if engine.starts_with("db2") {
        50000
    } else {
        // mysql, mariadb, aurora-mysql and the unknown.
        3306
    };
    port.to_string()
}

/// RDS endpoints share one random label per account and region
/// (`mydb.c9akciq32.us-east-1.rds.amazonaws.com`); derive it from both so
/// it is stable across restarts without storing it.
pub(super) fn account_suffix(account: &str, region: &str) -> String {
    let mut h = Sha256::new();
    h.update(account.as_bytes());
    h.update(b"/");
    h.update(region.as_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&h.finalize());
    Rng::seeded(seed).lower_alnum(12)
}
