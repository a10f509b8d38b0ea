//! `infraguard state init`: the table, made once per team.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, LocalSecondaryIndex,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use infraguard_core::store::StoreError;
use serde::Serialize;

use crate::{DynamoConfig, DynamoStore, connect};

/// What `state init` made or found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableReport {
    pub table: String,
    pub region: String,
    /// False when the table was there already (init is safe to re-run).
    pub created: bool,
    pub arn: Option<String>,
    pub deletion_protection: bool,
    pub point_in_time_recovery: bool,
    /// The attribute DynamoDB expires spent tokens and old questions by.
    pub ttl_attribute: String,
    pub billing: String,
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(format!("building a DynamoDB request: {e}"))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(build_err)
}

fn attr(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(build_err)
}

impl DynamoStore {
    /// Make the table (on-demand billing, deletion protection, point-in-time
    /// recovery, a TTL on `ttl`) and its two keys, waiting until it is
    /// active; a table that exists is checked and its settings turned on.
    pub fn init(config: &DynamoConfig) -> Result<(DynamoStore, TableReport), StoreError> {
        let (client, runtime) = connect(config)?;
        let probe = DynamoStore {
            client: client.clone(),
            table: config.table.clone(),
            runtime: runtime.clone(),
            key: Vec::new(),
            sealer: infraguard_engine::seal::Sealer::ephemeral()?,
            config: config.clone(),
        };
        let existing = infraguard_cloud_aws::sdk::wait(
            &runtime,
            client.describe_table().table_name(&config.table).send(),
        )
        .ok_or_else(|| StoreError::Storage("the DynamoDB runtime stopped".into()))?;
        let created = match existing {
            Ok(out) => {
                let keys: Vec<String> = out
                    .table()
                    .map(|t| {
                        t.key_schema()
                            .iter()
                            .map(|k| k.attribute_name().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                if keys != ["pk", "sk"] {
                    return Err(StoreError::Storage(format!(
                        "table `{}` exists with keys {keys:?}, not [\"pk\", \"sk\"]: it is not an infraguard state table; name another in `[state] table`",
                        config.table
                    )));
                }
                false
            }
            Err(e)
                if aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e)
                    == Some("ResourceNotFoundException") =>
            {
                let req = client
                    .create_table()
                    .table_name(&config.table)
                    .attribute_definitions(attr("pk", ScalarAttributeType::S)?)
                    .attribute_definitions(attr("sk", ScalarAttributeType::S)?)
                    .attribute_definitions(attr("seq", ScalarAttributeType::N)?)
                    .key_schema(key("pk", KeyType::Hash)?)
                    .key_schema(key("sk", KeyType::Range)?)
                    .local_secondary_indexes(
                        LocalSecondaryIndex::builder()
                            .index_name("by_seq")
                            .key_schema(key("pk", KeyType::Hash)?)
                            .key_schema(key("seq", KeyType::Range)?)
                            .projection(
                                Projection::builder()
                                    .projection_type(ProjectionType::All)
                                    .build(),
                            )
                            .build()
                            .map_err(build_err)?,
                    )
                    .billing_mode(BillingMode::PayPerRequest)
                    .deletion_protection_enabled(true)
                    .send();
                probe.call("creating the state table", req)?;
                true
            }
            Err(e) => {
                return Err(StoreError::Storage(format!(
                    "reading table `{}`: {}",
                    config.table,
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                )));
            }
        };
        let arn = probe.wait_active()?;
        // Deletion protection on a table that existed without it.
        let req = client
            .update_table()
            .table_name(&config.table)
            .deletion_protection_enabled(true)
            .send();
        if !created {
            probe.call("turning on deletion protection", req)?;
            probe.wait_active()?;
        }
        let req = client
            .update_continuous_backups()
            .table_name(&config.table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(build_err)?,
            )
            .send();
        probe.call("turning on point-in-time recovery", req)?;
        let ttl = probe.ensure_ttl()?;
        let req = client.describe_table().table_name(&config.table).send();
        let table = probe.call("reading the state table", req)?.table;
        let req = client
            .describe_continuous_backups()
            .table_name(&config.table)
            .send();
        let pitr = probe
            .call("reading point-in-time recovery", req)?
            .continuous_backups_description
            .and_then(|c| c.point_in_time_recovery_description)
            .and_then(|p| p.point_in_time_recovery_status)
            .is_some_and(|s| s.as_str() == "ENABLED");
        let report = TableReport {
            table: config.table.clone(),
            region: config.region.clone(),
            created,
            arn,
            deletion_protection: table
                .as_ref()
                .and_then(|t| t.deletion_protection_enabled())
                .unwrap_or(false),
            point_in_time_recovery: pitr,
            ttl_attribute: ttl,
            billing: table
                .as_ref()
                .and_then(|t| t.billing_mode_summary())
                .and_then(|b| b.billing_mode())
                .map(|b| b.as_str().to_string())
                .unwrap_or_else(|| "PAY_PER_REQUEST".into()),
        };
        Ok((DynamoStore::open(config)?, report))
    }

    /// Wait (up to two minutes) until the table is active; its ARN.
    fn wait_active(&self) -> Result<Option<String>, StoreError> {
        let start = Instant::now();
        loop {
            let req = self.client.describe_table().table_name(&self.table).send();
            let table = self.call("waiting for the state table", req)?.table;
            if table
                .as_ref()
                .and_then(|t| t.table_status())
                .is_some_and(|s| *s == TableStatus::Active)
            {
                return Ok(table.and_then(|t| t.table_arn().map(str::to_string)));
            }
            if start.elapsed() > Duration::from_secs(120) {
                return Err(StoreError::Storage(format!(
                    "table `{}` is not active after two minutes; run `infraguard state init` again",
                    self.table
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Turn on the TTL on `ttl` unless it is on already.
    fn ensure_ttl(&self) -> Result<String, StoreError> {
        let req = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send();
        let on = self
            .call("reading the TTL setting", req)?
            .time_to_live_description
            .is_some_and(|d| {
                d.attribute_name() == Some("ttl")
                    && d.time_to_live_status()
                        .is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING"))
            });
        if !on {
            let req = self
                .client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name("ttl")
                        .enabled(true)
                        .build()
                        .map_err(build_err)?,
                )
                .send();
            self.call("turning on the TTL", req)?;
        }
        Ok("ttl".into())
    }
}
