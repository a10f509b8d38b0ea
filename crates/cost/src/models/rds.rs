//! RDS: DB instances (instance class × engine × Multi-AZ × hours, plus
//! storage type × GB and provisioned IOPS) and Aurora clusters (storage and
//! I/O; their instances are priced as DB instances).
//!
//! An engine/class pair without a catalog price is reported as unknown,
//! never approximated from a neighbouring class.

use rust_decimal::Decimal;
use serde_json::Value;

use super::free;
use crate::dec::dec;
use crate::model::{Ctx, MILLION, Model, Pricing, key};
use crate::usage::UsageKey;

static INSTANCE_USAGE: &[UsageKey] = &[
    key(
        "monthly_hours",
        "hours",
        "730",
        "hours the instance runs in a month (730 = always on)",
    ),
    key(
        "average_acu",
        "ACU",
        "0.5",
        "average Aurora Serverless v2 capacity (db.serverless only)",
    ),
    key(
        "monthly_io_requests",
        "requests",
        "1000000",
        "I/O requests a month (magnetic storage only)",
    ),
];

const DB_INSTANCE: Model = Model {
    type_name: "AWS::RDS::DBInstance",
    service: "RDS Database",
    usage: INSTANCE_USAGE,
    pricing: Pricing::Priced(db_instance),
};

static CLUSTER_USAGE: &[UsageKey] = &[
    key("storage_gb", "GB", "10", "average Aurora storage used"),
    key(
        "monthly_io_requests",
        "requests",
        "1000000",
        "I/O requests a month (Aurora Standard storage)",
    ),
];

const DB_CLUSTER: Model = Model {
    type_name: "AWS::RDS::DBCluster",
    service: "RDS Database",
    usage: CLUSTER_USAGE,
    pricing: Pricing::Priced(db_cluster),
};

fn db_instance(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(engine), Ok(class), Ok(multi_az)) = (
        ctx.text(props, "/Engine"),
        ctx.text(props, "/DBInstanceClass"),
        ctx.flag(props, "/MultiAZ"),
    ) else {
        return;
    };
    let Some(engine) = engine.map(str::to_ascii_lowercase) else {
        ctx.unknown(
            "Engine is not set (restored from a snapshot or source?): cannot price the instance",
        );
        return;
    };
    let Some(class) = class.map(str::to_ascii_lowercase) else {
        ctx.unknown("DBInstanceClass is not set: cannot price the instance");
        return;
    };
    let aurora = engine.starts_with("aurora");
    let hours = ctx.usage("monthly_hours");

    if class == "db.serverless" {
        if !aurora {
            ctx.unknown(format!(
                "db.serverless is an Aurora class; unknown price for db.serverless ({engine})"
            ));
            return;
        }
        let acu = ctx.usage("average_acu");
        if let Some(acu_hours) = ctx.mul(acu, hours) {
            ctx.charge(
                format!("Aurora Serverless v2 capacity ({engine})"),
                "rds.aurora.serverless_v2.acu",
                acu_hours,
            );
        }
    } else {
        // Multi-AZ instance deployments run a standby of the same class and
        // storage; AWS bills them at twice the single-AZ rates. Aurora
        // places replicas as separate instances, so the flag does not apply.
        let copies = if multi_az == Some(true) && !aurora {
            dec("2")
        } else {
            Decimal::ONE
        };
        let deployment = if copies > Decimal::ONE {
            "Multi-AZ: primary + standby"
        } else {
            "single-AZ"
        };
        let price_key = format!("rds.instance.{engine}.{class}");
        if ctx.has_price(&price_key) {
            if let Some(q) = ctx.mul(hours, copies) {
                ctx.charge(
                    format!("Database instance ({class}, {engine}, {deployment})"),
                    &price_key,
                    q,
                );
            }
        } else {
            ctx.unknown(format!(
                "unknown price for {class} ({engine}): the instance is not included"
            ));
        }
        if !aurora {
            storage(ctx, props, copies);
            ctx.note(
                "backup storage up to the allocated storage size is free; more is not included",
            );
        }
    }
    if aurora {
        ctx.note("Aurora storage and I/O are charged on the DB cluster (AWS::RDS::DBCluster)");
    }
}

/// Storage of a non-Aurora instance: `copies` is 2 for Multi-AZ.
fn storage(ctx: &mut Ctx<'_>, props: &Value, copies: Decimal) {
    let (Ok(gb), Ok(storage_type), Ok(iops), Ok(throughput)) = (
        ctx.number(props, "/AllocatedStorage"),
        ctx.text(props, "/StorageType"),
        ctx.number(props, "/Iops"),
        ctx.number(props, "/StorageThroughput"),
    ) else {
        return;
    };
    let Some(gb) = gb else {
        ctx.unknown("AllocatedStorage is not set: storage is not included");
        return;
    };
    // CloudFormation's default: io1 when Iops is given, gp3 otherwise.
    let storage_type = storage_type
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| {
            if iops.is_some() {
                "io1".into()
            } else {
                "gp3".into()
            }
        });
    let Some(gb_months) = ctx.mul(gb, copies) else {
        return;
    };
    match storage_type.as_str() {
        "gp3" => {
            ctx.charge("Storage (gp3)", "rds.storage.gp3", gb_months);
            // gp3 includes 3,000 IOPS and 125 MiBps below 400 GB, and
            // 12,000 IOPS and 500 MiBps from 400 GB (non-SQL Server engines).
            let (base_iops, base_mibps) = if gb < dec("400") {
                (dec("3000"), dec("125"))
            } else {
                (dec("12000"), dec("500"))
            };
            if let Some(iops) = iops.filter(|i| *i > base_iops)
                && let Some(q) = ctx.mul(iops - base_iops, copies)
            {
                ctx.charge(
                    format!("Provisioned IOPS above {base_iops} (gp3)"),
                    "rds.storage.gp3.extra_iops",
                    q,
                );
            }
            if let Some(t) = throughput.filter(|t| *t > base_mibps)
                && let Some(q) = ctx.mul(t - base_mibps, copies)
            {
                ctx.charge(
                    format!("Throughput above {base_mibps} MiBps (gp3)"),
                    "rds.storage.gp3.extra_throughput",
                    q,
                );
            }
        }
        "gp2" => ctx.charge("Storage (gp2)", "rds.storage.gp2", gb_months),
        "io1" | "io2" => {
            ctx.charge(
                format!("Storage ({storage_type})"),
                &format!("rds.storage.{storage_type}"),
                gb_months,
            );
            match iops {
                Some(iops) => {
                    if let Some(q) = ctx.mul(iops, copies) {
                        ctx.charge(
                            format!("Provisioned IOPS ({storage_type})"),
                            &format!("rds.storage.{storage_type}.iops"),
                            q,
                        );
                    }
                }
                None => ctx.unknown(format!(
                    "{storage_type} storage needs Iops: provisioned IOPS not included"
                )),
            }
        }
        "standard" => {
            ctx.charge("Storage (magnetic)", "rds.storage.standard", gb_months);
            let requests = ctx.usage("monthly_io_requests");
            ctx.charge(
                "I/O requests (magnetic)",
                "rds.storage.standard.io",
                requests / MILLION,
            );
        }
        other => ctx.unknown(format!(
            "unknown price for storage type `{other}`: storage not included"
        )),
    }
}

fn db_cluster(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(engine), Ok(mode), Ok(storage_type), Ok(class), Ok(min_acu)) = (
        ctx.text(props, "/Engine"),
        ctx.text(props, "/EngineMode"),
        ctx.text(props, "/StorageType"),
        ctx.text(props, "/DBClusterInstanceClass"),
        ctx.number(props, "/ServerlessV2ScalingConfiguration/MinCapacity"),
    ) else {
        return;
    };
    let Some(engine) = engine.map(str::to_ascii_lowercase) else {
        ctx.unknown("Engine is not set: cannot price the cluster");
        return;
    };
    if !engine.starts_with("aurora") {
        let class = class.unwrap_or("(no DBClusterInstanceClass)");
        ctx.unknown(format!(
            "unknown price for Multi-AZ DB cluster {class} ({engine}): not in the catalog"
        ));
        return;
    }
    if mode.is_some_and(|m| m.eq_ignore_ascii_case("serverless")) {
        ctx.unknown(format!(
            "unknown price for Aurora Serverless v1 ({engine}, EngineMode serverless)"
        ));
        return;
    }
    let gb = ctx.usage("storage_gb");
    match storage_type.map(str::to_ascii_lowercase).as_deref() {
        Some("aurora-iopt1") => {
            ctx.charge(
                "Storage (Aurora I/O-Optimized)",
                "rds.aurora.storage.iopt",
                gb,
            );
            ctx.note("Aurora I/O-Optimized: no charge per I/O request");
        }
        None | Some("aurora") => {
            ctx.charge(
                "Storage (Aurora Standard)",
                "rds.aurora.storage.standard",
                gb,
            );
            let requests = ctx.usage("monthly_io_requests");
            ctx.charge(
                "I/O requests (Aurora Standard)",
                "rds.aurora.io.standard",
                requests / MILLION,
            );
        }
        Some(other) => ctx.unknown(format!("unknown price for Aurora storage type `{other}`")),
    }
    ctx.note("the cluster's instances are priced on their AWS::RDS::DBInstance resources");
    if let Some(min) = min_acu {
        ctx.note(format!(
            "Serverless v2 capacity (at least {} ACU while running) is charged on the cluster's db.serverless instances",
            min.normalize()
        ));
    }
}

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[
    DB_INSTANCE,
    DB_CLUSTER,
    free(
        "AWS::RDS::DBSubnetGroup",
        "RDS Database",
        "DB subnet groups are free",
    ),
];
