//! Networking: EC2 security groups, VPCs and subnets.

use serde_json::json;

use super::{Context, Gen, Rules};

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::EC2::SecurityGroup",
        create: security_group,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::EC2::VPC",
        create: vpc,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::EC2::Subnet",
        create: subnet,
        update: None,
        max_name_len: None,
    },
];

fn security_group(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    g.name("GroupName", cx.rng);
    let id = format!("sg-{}", cx.rng.hex(17));
    g.put("/Id", id.clone());
    g.put("/GroupId", id);
}

fn vpc(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let rng = &mut *cx.rng;
    g.put("/VpcId", format!("vpc-{}", rng.hex(17)));
    g.put("/DefaultNetworkAcl", format!("acl-{}", rng.hex(17)));
    g.put("/DefaultSecurityGroup", format!("sg-{}", rng.hex(17)));
    g.put(
        "/CidrBlockAssociations",
        json!([format!("vpc-cidr-assoc-{}", rng.hex(17))]),
    );
}

fn subnet(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    g.put("/SubnetId", format!("subnet-{}", cx.rng.hex(17)));
    g.put(
        "/NetworkAclAssociationId",
        format!("aclassoc-{}", cx.rng.hex(17)),
    );
}
