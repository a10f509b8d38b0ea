//! Compute: Lambda functions, Step Functions state machines, Amplify
//! Hosting branches, and the two EC2 types the price table covers (NAT
//! gateways and t3.micro instances).

use rust_decimal::Decimal;
use serde_json::Value;

use super::free;
use crate::dec::dec;
use crate::model::{Ctx, MIB_PER_GIB, MILLION, Model, Pricing, THOUSAND, key};
use crate::usage::UsageKey;

static FUNCTION_USAGE: &[UsageKey] = &[
    key(
        "monthly_requests",
        "requests",
        "100000",
        "invocations a month",
    ),
    key(
        "average_duration_ms",
        "ms",
        "100",
        "average billed duration of one invocation",
    ),
];

const FUNCTION: Model = Model {
    type_name: "AWS::Lambda::Function",
    service: "Lambda Execution",
    usage: FUNCTION_USAGE,
    pricing: Pricing::Priced(function),
};

/// GB-seconds for `requests` runs of `duration_ms` each at `memory_mb`.
fn gb_seconds(
    ctx: &mut Ctx<'_>,
    requests: Decimal,
    duration_ms: Decimal,
    memory_mb: Decimal,
) -> Option<Decimal> {
    let seconds = ctx.mul(requests, duration_ms / THOUSAND)?;
    ctx.mul(seconds, memory_mb / MIB_PER_GIB)
}

fn function(ctx: &mut Ctx<'_>, props: &Value) {
    // A one-item list in the schema; a bare string is read leniently.
    let arch_pointer = if props.pointer("/Architectures").is_some_and(Value::is_array) {
        "/Architectures/0"
    } else {
        "/Architectures"
    };
    let (Ok(memory), Ok(arch), Ok(ephemeral)) = (
        ctx.number(props, "/MemorySize"),
        ctx.text(props, arch_pointer),
        ctx.number(props, "/EphemeralStorage/Size"),
    ) else {
        return;
    };
    let memory = memory.unwrap_or_else(|| {
        ctx.note("MemorySize is not set: AWS's default of 128 MB is assumed");
        dec("128")
    });
    let arch = match arch.unwrap_or("x86_64") {
        "arm64" => "arm64",
        "x86_64" => "x86_64",
        other => {
            ctx.unknown(format!("unknown price for Lambda architecture `{other}`"));
            return;
        }
    };
    let requests = ctx.usage("monthly_requests");
    let duration = ctx.usage("average_duration_ms");
    ctx.charge("Requests", "lambda.requests", requests / MILLION);
    if let Some(q) = gb_seconds(ctx, requests, duration, memory) {
        ctx.charge(
            format!("Compute ({arch}, {} MB)", memory.normalize()),
            &format!("lambda.duration.{arch}"),
            q,
        );
    }
    // Only ephemeral storage configured above the included 512 MB is billed.
    if let Some(size) = ephemeral.filter(|s| *s > dec("512"))
        && let Some(q) = gb_seconds(ctx, requests, duration, size - dec("512"))
    {
        ctx.charge(
            format!("Ephemeral storage above 512 MB ({} MB)", size.normalize()),
            "lambda.ephemeral_storage",
            q,
        );
    }
    ctx.note(
        "the account's free tier (1M requests and 400,000 GB-seconds a month) is not subtracted",
    );
}

static STATE_MACHINE_USAGE: &[UsageKey] = &[
    key(
        "monthly_state_transitions",
        "transitions",
        "10000",
        "state transitions a month (Standard workflows)",
    ),
    key(
        "monthly_requests",
        "requests",
        "100000",
        "executions a month (Express workflows)",
    ),
    key(
        "average_duration_ms",
        "ms",
        "1000",
        "average duration of one execution (Express workflows)",
    ),
    key(
        "average_memory_mb",
        "MB",
        "64",
        "average memory of one execution, billed in 64 MB steps (Express workflows)",
    ),
];

const STATE_MACHINE: Model = Model {
    type_name: "AWS::StepFunctions::StateMachine",
    service: "Step Functions",
    usage: STATE_MACHINE_USAGE,
    pricing: Pricing::Priced(state_machine),
};

fn state_machine(ctx: &mut Ctx<'_>, props: &Value) {
    let Ok(kind) = ctx.text(props, "/StateMachineType") else {
        return;
    };
    match kind.unwrap_or("STANDARD").to_ascii_uppercase().as_str() {
        "STANDARD" => {
            let transitions = ctx.usage("monthly_state_transitions");
            ctx.charge(
                "State transitions (Standard)",
                "stepfunctions.standard.transitions",
                transitions / THOUSAND,
            );
            ctx.note("the account's 4,000 free state transitions a month are not subtracted");
        }
        "EXPRESS" => {
            let requests = ctx.usage("monthly_requests");
            let duration = ctx.usage("average_duration_ms");
            let memory = ctx.usage("average_memory_mb");
            // Express bills memory in 64 MB steps, rounded up.
            let step = dec("64");
            let billed_mb = ((memory / step).ceil() * step).max(step);
            ctx.charge(
                "Requests (Express)",
                "stepfunctions.express.requests",
                requests / MILLION,
            );
            if let Some(q) = gb_seconds(ctx, requests, duration, billed_mb) {
                ctx.charge(
                    format!("Duration (Express, {} MB)", billed_mb.normalize()),
                    "stepfunctions.express.duration",
                    q,
                );
            }
        }
        other => ctx.unknown(format!("unknown price for state machine type `{other}`")),
    }
}

static BRANCH_USAGE: &[UsageKey] = &[
    key(
        "monthly_build_minutes",
        "minutes",
        "100",
        "build and deploy minutes a month",
    ),
    key("storage_gb", "GB", "1", "hosted data stored"),
    key(
        "monthly_data_served_gb",
        "GB",
        "5",
        "data served to visitors a month",
    ),
];

const BRANCH: Model = Model {
    type_name: "AWS::Amplify::Branch",
    service: "Amplify Hosting",
    usage: BRANCH_USAGE,
    pricing: Pricing::Priced(|ctx, _props| {
        let minutes = ctx.usage("monthly_build_minutes");
        ctx.charge("Build and deploy", "amplify.build", minutes);
        let gb = ctx.usage("storage_gb");
        ctx.charge("Data storage", "amplify.storage", gb);
        let served = ctx.usage("monthly_data_served_gb");
        ctx.charge("Data transfer out", "amplify.transfer", served);
        ctx.note("server-side rendering (SSR) requests and duration are not included");
    }),
};

static NAT_USAGE: &[UsageKey] = &[
    key(
        "monthly_hours",
        "hours",
        "730",
        "hours the gateway exists in a month",
    ),
    key(
        "monthly_data_processed_gb",
        "GB",
        "10",
        "data processed by the gateway a month",
    ),
];

const NAT_GATEWAY: Model = Model {
    type_name: "AWS::EC2::NatGateway",
    service: "VPC Networking",
    usage: NAT_USAGE,
    pricing: Pricing::Priced(|ctx, props| {
        if let Ok(Some(kind)) = ctx.text(props, "/ConnectivityType")
            && kind.eq_ignore_ascii_case("private")
        {
            ctx.note("a private NAT gateway is billed like a public one, without the Elastic IP");
        }
        let hours = ctx.usage("monthly_hours");
        ctx.charge("NAT gateway", "ec2.natgateway.hours", hours);
        let gb = ctx.usage("monthly_data_processed_gb");
        ctx.charge("Data processed", "ec2.natgateway.data", gb);
    }),
};

static INSTANCE_USAGE: &[UsageKey] = &[
    key(
        "monthly_hours",
        "hours",
        "730",
        "hours the instance runs in a month",
    ),
    key("root_volume_gb", "GB", "8", "size of the gp3 root volume"),
];

const INSTANCE: Model = Model {
    type_name: "AWS::EC2::Instance",
    service: "EC2 Instances",
    usage: INSTANCE_USAGE,
    pricing: Pricing::Priced(instance),
};

fn instance(ctx: &mut Ctx<'_>, props: &Value) {
    let Ok(kind) = ctx.text(props, "/InstanceType") else {
        return;
    };
    let Some(kind) = kind.map(str::to_ascii_lowercase) else {
        ctx.unknown("InstanceType is not set: cannot price the instance");
        return;
    };
    let price_key = format!("ec2.instance.linux.{kind}");
    if ctx.has_price(&price_key) {
        let hours = ctx.usage("monthly_hours");
        ctx.charge(
            format!("Instance ({kind}, Linux, on-demand)"),
            &price_key,
            hours,
        );
    } else {
        ctx.unknown(format!("unknown price for EC2 {kind} (Linux)"));
    }
    if props.pointer("/BlockDeviceMappings").is_some() {
        ctx.unknown("BlockDeviceMappings are not read: EBS volumes not included");
    } else {
        let gb = ctx.usage("root_volume_gb");
        ctx.charge("Root volume (EBS gp3)", "ebs.gp3.storage", gb);
    }
    ctx.note("Linux pricing is assumed (ImageId is not read); the public IPv4 address charge and data transfer are not included");
}

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[
    FUNCTION,
    STATE_MACHINE,
    BRANCH,
    NAT_GATEWAY,
    INSTANCE,
    free(
        "AWS::EC2::SecurityGroup",
        "VPC Networking",
        "security groups are free",
    ),
    free(
        "AWS::EC2::Subnet",
        "VPC Networking",
        "subnets are free; NAT gateways and public IPv4 addresses in them are charged separately",
    ),
    free(
        "AWS::EC2::VPC",
        "VPC Networking",
        "the VPC itself is free; NAT gateways, endpoints and public IPv4 addresses are charged separately",
    ),
    free(
        "AWS::Amplify::App",
        "Amplify Hosting",
        "the app itself is free; builds, storage and data served are priced per AWS::Amplify::Branch",
    ),
];
