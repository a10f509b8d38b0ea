//! `DynamoStore`: the `Store` port over one DynamoDB table, so that every
//! machine of a team shares one set of plans, approvals, token use, locks
//! and one audit chain.
//!
//! # The table
//!
//! One table, keys `pk` and `sk` (strings), one local secondary index
//! `by_seq` on `(pk, seq)` so that listings are in order *and* strongly
//! consistent (a global index would not be). Records by `pk`:
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `meta` | `secret`, `seal` | the audit chain's HMAC key; the key that seals secrets |
//! | `plan` | plan id | `seq`, `env`, `status`, `approval_id` (its latest), `body` (sealed JSON) |
//! | `approval` | approval id | `seq`, `plan_id`, `status`, `body` |
//! | `pending` | content hash | the plan whose pending approval has that content |
//! | `lock` | env, type and name | the plan holding the resource, and its holder |
//! | `token` | token id | spent; `ttl` lets DynamoDB forget it a day after it expired |
//! | `question` | approval id | the open approval question's nonce |
//! | `applied#ENV` | type and identifier | what infraguard last applied (sealed) |
//! | `audit` | seq, 20 digits | one audit entry |
//! | `audit-head` | `head` | the chain's last seq and hash |
//! | `counter` | `plan`, `approval` | the next `seq` |
//!
//! # Why two machines can never both win
//!
//! Every state change is a conditional write, in one `TransactWriteItems`
//! with the audit entries that explain it. Each append to the audit chain
//! also writes `audit-head` on the condition that it still names the seq
//! this writer read, so entries are never forked or lost: a writer that
//! loses the head re-reads it and tries again; a writer whose own condition
//! fails (a plan no longer `planned`, an approval already decided, a lock
//! taken) gets `StoreError::Conflict` and nothing it asked for is written.
//!
//! Reads that decide something (`plan`, `approval`, the lock's holder, a
//! spent token) are strongly consistent.
//!
//! # Who may write it
//!
//! Whoever can write the table can write an approval: grant `dynamodb:*`
//! on it only to the principals that host the engine (the guard's role, or
//! the people), never to an agent's credentials. `infraguard doctor
//! --iam-templates` prints a read-only policy for the agent.

mod items;
mod migrate;
mod store;
mod table;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Region;
use infraguard_cloud_aws::{ConnectOptions, StaticCredentials, sdk};
use infraguard_core::store::StoreError;
use infraguard_engine::seal::Sealer;

pub use migrate::MigrationReport;
pub use table::TableReport;

/// Where the shared state is: `[state] backend = "dynamodb"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamoConfig {
    pub table: String,
    pub region: String,
    /// The profile whose credentials read and write the table.
    pub profile: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB` (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Keys given in code (tests); `None` uses the profile's chain.
    pub credentials: Option<(String, String)>,
}

/// How long one DynamoDB call may take before it counts as failed.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct DynamoStore {
    client: Client,
    table: String,
    runtime: Arc<tokio::runtime::Runtime>,
    /// The audit chain's HMAC key (record `meta/secret`).
    key: Vec<u8>,
    /// Seals secrets in plan bodies and applied states (record `meta/seal`).
    sealer: Sealer,
    config: DynamoConfig,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .field("region", &self.config.region)
            .finish_non_exhaustive()
    }
}

/// The SDK client for `config`, and the runtime its futures run on.
fn connect(config: &DynamoConfig) -> Result<(Client, Arc<tokio::runtime::Runtime>), StoreError> {
    let storage = |e: infraguard_core::CloudError| StoreError::Storage(e.to_string());
    if let Some(why) = infraguard_engine::config::table_name_problem(&config.table) {
        return Err(StoreError::Storage(why));
    }
    let mut options = ConnectOptions::for_emulator("state", &config.region, "");
    options.endpoint_url = config.endpoint_url.clone();
    options.profile = config.profile.clone();
    options.max_attempts = 3;
    options.credentials = config
        .credentials
        .as_ref()
        .map(|(id, secret)| StaticCredentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: None,
        });
    sdk::check_endpoints(options.endpoint_url.iter()).map_err(storage)?;
    let runtime = sdk::runtime("infraguard-state").map_err(storage)?;
    let loader = sdk::loader(
        &options,
        options.profile.as_deref(),
        CONNECT_TIMEOUT,
        ATTEMPT_TIMEOUT,
    )
    .region(Region::new(config.region.clone()));
    let sdk_config = runtime.block_on(loader.load());
    Ok((Client::new(&sdk_config), Arc::new(runtime)))
}

impl DynamoStore {
    /// Open the shared state in `config.table` (made by [`DynamoStore::init`]).
    /// The first store to open a new table makes its two keys.
    pub fn open(config: &DynamoConfig) -> Result<DynamoStore, StoreError> {
        let (client, runtime) = connect(config)?;
        let mut store = DynamoStore {
            client,
            table: config.table.clone(),
            runtime,
            key: Vec::new(),
            sealer: Sealer::ephemeral()?,
            config: config.clone(),
        };
        store.key = store.meta_key("secret")?;
        store.sealer = Sealer::from_key(&store.meta_key("seal")?)?;
        Ok(store)
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The table and region, for messages (`dynamodb table T in R`).
    pub fn describe(&self) -> String {
        format!("DynamoDB table `{}` in {}", self.table, self.config.region)
    }
}
