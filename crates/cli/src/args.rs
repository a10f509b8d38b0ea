//! The command line as clap parses it. Resolution (project folder, config,
//! environment variables) happens in `project`, after parsing.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "infraguard",
    version,
    about = "Guarded AWS infrastructure changes for people and coding agents",
    long_about = "Every change takes one path: CloudFormation template -> explanation -> security scan -> \
monthly cost estimate -> approval gate -> apply through the Cloud Control API -> audit record.\n\
Without an AWS account it runs on an embedded local cloud. Start with `infraguard quickstart`.",
    after_help = crate::exit::HELP
)]
pub struct Cli {
    /// Run as if started in DIR (the project is found by walking up from there).
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Output for people (table) or programs (json).
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the whole guarded workflow in a new scratch project, narrating each step.
    Quickstart(QuickstartArgs),
    /// Create infraguard.toml and .mcp.json in the current (empty) folder.
    Init(InitArgs),
    /// Show the environments: backend, account, region, profile, read-only and scanning flags.
    Envs,
    /// List the supported resource types.
    Types,
    /// Plan a change: template, explanation, security scan, cost estimate and gate decision.
    Plan(PlanArgs),
    /// Show a plan made earlier.
    #[command(name = "show")]
    Show { plan_id: String },
    /// List recent plans.
    Plans(PlansArgs),
    /// Apply a plan, if the gate allows it.
    Apply { plan_id: String },
    /// Read and change resources.
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// List approvals (pending by default).
    Approvals(ApprovalsArgs),
    /// Approve a pending plan with a proof the engine weighs: in an advisory project a `yes` typed at a terminal (recorded as unverified), in a guarded one an enrolled approver's code.
    Approve(ApproveArgs),
    /// Deny a pending plan.
    Deny(DecideArgs),
    /// Show the audit log, or verify its hash chain.
    Audit(AuditArgs),
    /// Status of an asynchronous Cloud Control request.
    Status {
        #[arg(long)]
        env: String,
        request_token: String,
    },
    /// Monthly cost review per environment, with alert thresholds.
    Costs(crate::commands::costs::CostsArgs),
    /// Promote a dev resource to prod (the normal gated chain in prod).
    Promote(crate::commands::promote::PromoteArgs),
    /// Which resources are dev-only, prod-only, synced or need review.
    Sync(crate::commands::promote::SyncArgs),
    /// Property-level drift between synced dev/prod pairs, and between what infraguard applied and what is live.
    Drift(crate::commands::promote::DriftArgs),
    /// The deployment checklist: exit 0 only when the environment is ready.
    Preflight(crate::commands::promote::PreflightArgs),
    /// Bring an existing resource (made outside infraguard) under tracking: a gated plan that tags it.
    Import(crate::commands::plan::ImportArgs),
    /// IAM least privilege: lint, suggest, extend, expand wildcards.
    Iam(crate::commands::iam::IamArgs),
    /// The local cloud on the Cloud Control wire protocol, for boto3 / the AWS CLI / SDKs.
    #[command(subcommand)]
    Cloud(crate::commands::cloud::CloudCommand),
    /// Run the MCP server (stdio by default, streamable HTTP with --http).
    Serve(crate::commands::serve::ServeArgs),
    /// Scan CloudFormation templates for security problems.
    Scan(crate::commands::scan::ScanArgs),
    /// The level each environment runs at (advisory / guarded / aws-enforced), why, and what would raise it.
    Doctor(DoctorArgs),
    /// Where the state lives; a team's DynamoDB table (init, migrate); resource locks (locks, unlock).
    #[command(subcommand)]
    State(crate::commands::state::StateCommand),
    /// The guard: run, install, enrol approvers, adopt this project, change its policy.
    #[command(subcommand)]
    Guard(crate::commands::guard::GuardCommand),
}

#[derive(Args, Debug)]
pub struct QuickstartArgs {
    /// Where to make the scratch project (default: a new folder under the system temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Project name, used in the `Project` tag (e.g. SynthCore).
    #[arg(long)]
    pub project: String,
    /// Lowercase prefix of resource names (e.g. synthcoreai -> synthcoreai-documents-dev).
    #[arg(long)]
    pub prefix: String,
    /// Backend of both environments.
    #[arg(long, value_enum, default_value_t = BackendArg::Local)]
    pub backend: BackendArg,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Local,
    Aws,
}

#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    #[arg(long)]
    pub env: String,
    /// create (default), update or delete.
    #[arg(long, default_value = "create")]
    pub operation: String,
    /// Resource type, e.g. AWS::S3::Bucket.
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: String,
    /// What the resource is for; names it `<prefix>-<purpose>-<env>` and sets the Purpose tag.
    #[arg(long)]
    pub purpose: Option<String>,
    /// Desired properties as a JSON object (create). `@FILE` reads a file.
    #[arg(long)]
    pub properties: Option<String>,
    /// Primary identifier of the resource (update, delete).
    #[arg(long)]
    pub id: Option<String>,
    /// RFC 6902 JSON Patch (update). `@FILE` reads a file.
    #[arg(long)]
    pub patch: Option<String>,
    /// Usage for the cost estimate, e.g. `storage_gb=50,monthly_get_requests=100000`.
    #[arg(long)]
    pub usage: Option<String>,
}

#[derive(Args, Debug)]
pub struct PlansArgs {
    #[arg(long)]
    pub env: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Subcommand, Debug)]
pub enum ResourcesCommand {
    /// List resources of one type, or of every supported type.
    List {
        #[arg(long)]
        env: String,
        #[arg(long = "type", value_name = "TYPE")]
        type_name: Option<String>,
    },
    /// Show one resource's live properties.
    Get {
        #[arg(long)]
        env: String,
        #[arg(long = "type", value_name = "TYPE")]
        type_name: String,
        #[arg(long)]
        id: String,
    },
    /// Plan and apply an update (same gate as `plan` + `apply`).
    Update {
        #[arg(long)]
        env: String,
        #[arg(long = "type", value_name = "TYPE")]
        type_name: String,
        #[arg(long)]
        id: String,
        /// RFC 6902 JSON Patch. `@FILE` reads a file.
        #[arg(long)]
        patch: String,
    },
    /// Plan and apply a delete (always needs a human's approval).
    Delete {
        #[arg(long)]
        env: String,
        #[arg(long = "type", value_name = "TYPE")]
        type_name: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct ApprovalsArgs {
    /// Show every approval, not only pending ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct DecideArgs {
    pub approval_id: String,
    /// A note kept with the decision in the audit log.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args, Debug)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub decide: DecideArgs,
    /// The enrolled approver whose code is given (guarded projects; default: whichever approver the code matches).
    #[arg(long, value_name = "NAME")]
    pub approver: Option<String>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
}

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Print the two CloudFormation templates that make an AWS environment
    /// aws-enforced: a read-only policy for the agent's principal and the
    /// MFA-gated approval role (apply them through `infraguard plan`).
    #[arg(long)]
    pub iam_templates: bool,
    /// The environment of the templates (default: every AWS environment).
    #[arg(long, requires = "iam_templates")]
    pub env: Option<String>,
    /// The agent's IAM role, to attach the read-only policy to.
    #[arg(long, requires = "iam_templates")]
    pub agent_role: Option<String>,
    /// The approver's IAM user ARN the role trusts (default: the account's root, i.e. any principal the account allows).
    #[arg(long, requires = "iam_templates")]
    pub approver_arn: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain: detects a changed, removed or reordered entry.
    Verify,
    /// CloudTrail's write events of an AWS environment, matched to this audit log:
    /// the unmatched ones are changes made outside infraguard (exit 4 when there are any).
    Cloudtrail {
        #[arg(long)]
        env: String,
        /// How many days back (1 to 90, CloudTrail's event history).
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
}
