//! Security group rules: ingress open to the world (0.0.0.0/0 or ::/0) on
//! SSH, RDP, HTTP, database and other administration ports or on every port,
//! and rules without a description.
//!
//! An `IpProtocol` of `-1` opens every port whatever `FromPort`/`ToPort`
//! say; Checkov only compares the port numbers and so misses such rules.

use serde_json::Value;

use super::{Ctx, Out, Rule};
use crate::value::Val;
use crate::{RuleInfo, Severity};

const SG: &[&str] = &["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"];

/// Ports where an open-to-the-world rule exposes an administration or data
/// service (22, 3389 and 80 have their own rules).
const SENSITIVE: &[(i64, &str)] = &[
    (20, "FTP data"),
    (21, "FTP"),
    (23, "Telnet"),
    (25, "SMTP"),
    (135, "MS RPC"),
    (139, "NetBIOS"),
    (445, "SMB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (2049, "NFS"),
    (2375, "Docker API"),
    (2376, "Docker API (TLS)"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (5601, "Kibana"),
    (5900, "VNC"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (9042, "Cassandra"),
    (9200, "Elasticsearch"),
    (11211, "Memcached"),
    (27017, "MongoDB"),
];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-EC2-001",
                checkov_id: Some("CKV_AWS_24"),
                severity: Severity::High,
                title: "Security group allows SSH (22) from anywhere",
                resource_types: SG,
                remediation: "Limit port 22 to known CIDR ranges or a bastion's security group, or drop SSH and use SSM Session Manager.",
            },
            check: |c, o| world_port(c, o, Some(22), "SSH"),
        },
        Rule {
            info: RuleInfo {
                id: "IG-EC2-002",
                checkov_id: Some("CKV_AWS_25"),
                severity: Severity::High,
                title: "Security group allows RDP (3389) from anywhere",
                resource_types: SG,
                remediation: "Limit port 3389 to known CIDR ranges or use SSM Fleet Manager / a VPN.",
            },
            check: |c, o| world_port(c, o, Some(3389), "RDP"),
        },
        Rule {
            info: RuleInfo {
                id: "IG-EC2-003",
                checkov_id: Some("CKV_AWS_260"),
                severity: Severity::Medium,
                title: "Security group allows HTTP (80) from anywhere",
                resource_types: SG,
                remediation: "Serve public traffic through a load balancer or CloudFront on HTTPS and limit port 80 on instances to the load balancer's security group.",
            },
            check: |c, o| world_port(c, o, Some(80), "HTTP"),
        },
        Rule {
            info: RuleInfo {
                id: "IG-EC2-004",
                checkov_id: Some("CKV_AWS_23"),
                severity: Severity::Low,
                title: "Security group rule has no description",
                resource_types: &[
                    "AWS::EC2::SecurityGroup",
                    "AWS::EC2::SecurityGroupIngress",
                    "AWS::EC2::SecurityGroupEgress",
                ],
                remediation: "Give every ingress and egress rule a Description saying who or what it lets in or out.",
            },
            check: descriptions,
        },
        Rule {
            info: RuleInfo {
                id: "IG-EC2-005",
                checkov_id: None,
                severity: Severity::High,
                title: "Security group opens every port or a database/administration port to the world",
                resource_types: SG,
                remediation: "Allow only the ports the service needs, from specific CIDR ranges or security groups; databases and caches belong behind the application's security group.",
            },
            check: |c, o| world_port(c, o, None, ""),
        },
    ]
}

/// One ingress rule and where it is.
struct Ingress<'a> {
    path: String,
    rule: &'a Value,
}

fn ingress_rules<'a>(ctx: &Ctx<'a>, out: &mut Out) -> Vec<Ingress<'a>> {
    match ctx.type_name {
        "AWS::EC2::SecurityGroupIngress" => vec![Ingress {
            path: "Properties".into(),
            rule: ctx.props,
        }],
        _ => match ctx.prop(&["SecurityGroupIngress"]) {
            Val::Known(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, rule)| Ingress {
                    path: format!("Properties/SecurityGroupIngress/{i}"),
                    rule,
                })
                .collect(),
            Val::Unknown(name) => {
                out.unknown("Properties/SecurityGroupIngress", format!("set by {name}"));
                Vec::new()
            }
            _ => Vec::new(),
        },
    }
}

/// The open CIDR of a rule, if it is open to the world.
fn world_cidr(rule: &Value, path: &str, out: &mut Out) -> Option<String> {
    for key in ["CidrIp", "CidrIpv6"] {
        match Val::at(rule, &[key]) {
            Val::Known(Value::String(c)) => {
                let c = c.trim();
                let open = matches!(
                    c,
                    "0.0.0.0/0" | "::/0" | "0000:0000:0000:0000:0000:0000:0000:0000/0" | "::0/0"
                );
                if open {
                    return Some(format!("{path}/{key}"));
                }
            }
            Val::Unknown(name) => {
                out.unknown(format!("{path}/{key}"), format!("set by {name}"));
            }
            _ => {}
        }
    }
    None
}

/// The inclusive port range a rule opens; `None` when an intrinsic decides.
fn port_range(rule: &Value) -> Option<(i64, i64)> {
    let proto = Val::at(rule, &["IpProtocol"]);
    let proto_s = proto
        .as_str()
        .map(str::to_string)
        .or_else(|| proto.as_i64().map(|n| n.to_string()))
        .unwrap_or_default();
    if proto_s == "-1" || proto_s.eq_ignore_ascii_case("all") {
        return Some((0, 65535));
    }
    if !matches!(
        proto_s.to_ascii_lowercase().as_str(),
        "tcp" | "udp" | "6" | "17"
    ) {
        return Some((-1, -1)); // ICMP and other protocols have no ports
    }
    let from = Val::at(rule, &["FromPort"]);
    let to = Val::at(rule, &["ToPort"]);
    if matches!(from, Val::Unknown(_)) || matches!(to, Val::Unknown(_)) {
        return None;
    }
    match (from.as_i64(), to.as_i64()) {
        (Some(-1), _) | (_, Some(-1)) => Some((0, 65535)),
        (Some(f), Some(t)) => Some((f, t)),
        _ => Some((-1, -1)),
    }
}

/// With `port`: the rule for that port. Without: every other sensitive port
/// and all-port ranges.
fn world_port(ctx: &Ctx<'_>, out: &mut Out, port: Option<i64>, service: &str) {
    for ing in ingress_rules(ctx, out) {
        let range = port_range(ing.rule);
        // A rule that cannot reach the port is irrelevant, whatever its CIDR.
        let relevant = match (range, port) {
            (None, _) => true,
            (Some((from, to)), Some(p)) => from <= p && p <= to,
            (Some((from, to)), None) => {
                (from <= 0 && to >= 65535) || SENSITIVE.iter().any(|(p, _)| from <= *p && *p <= to)
            }
        };
        if !relevant {
            continue;
        }
        let Some(cidr_path) = world_cidr(ing.rule, &ing.path, out) else {
            continue;
        };
        let Some((from, to)) = range else {
            out.unknown(
                format!("{}/FromPort", ing.path),
                "port range set by an intrinsic function",
            );
            continue;
        };
        let cidr = ing
            .rule
            .get("CidrIp")
            .or_else(|| ing.rule.get("CidrIpv6"))
            .and_then(Value::as_str)
            .unwrap_or("the internet")
            .to_string();
        match port {
            Some(p) if from <= p && p <= to => out.fail(
                cidr_path,
                format!(
                    "{service} (port {p}) is open to {cidr} (rule opens {})",
                    describe(from, to)
                ),
            ),
            Some(_) => {}
            None => {
                let all = from <= 0 && to >= 65535;
                let exposed: Vec<String> = SENSITIVE
                    .iter()
                    .filter(|(p, _)| from <= *p && *p <= to)
                    .map(|(p, name)| format!("{name} ({p})"))
                    .collect();
                if all {
                    out.fail(cidr_path, format!("every port is open to {cidr}"));
                } else if !exposed.is_empty() {
                    out.fail(cidr_path, format!("{} open to {cidr}", exposed.join(", ")));
                }
            }
        }
    }
}

fn describe(from: i64, to: i64) -> String {
    if from <= 0 && to >= 65535 {
        "every port".into()
    } else if from == to {
        format!("port {from}")
    } else {
        format!("ports {from}-{to}")
    }
}

fn descriptions(ctx: &Ctx<'_>, out: &mut Out) {
    let missing = |rule: &Value| match Val::at(rule, &["Description"]) {
        Val::Known(Value::String(s)) => s.trim().is_empty(),
        Val::Unknown(_) => false,
        v => v.is_absent(),
    };
    match ctx.type_name {
        "AWS::EC2::SecurityGroup" => {
            for key in ["SecurityGroupIngress", "SecurityGroupEgress"] {
                if let Val::Known(Value::Array(items)) = ctx.prop(&[key]) {
                    for (i, rule) in items.iter().enumerate() {
                        if rule.is_object()
                            && crate::value::intrinsic_name(rule).is_none()
                            && missing(rule)
                        {
                            out.fail(
                                format!("Properties/{key}/{i}/Description"),
                                format!("{key} rule {i} has no description"),
                            );
                        }
                    }
                }
            }
        }
        _ => {
            if missing(ctx.props) {
                out.fail("Properties/Description", "the rule has no description");
            }
        }
    }
}
