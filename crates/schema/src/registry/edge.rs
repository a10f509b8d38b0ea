//! The edge: API Gateway REST and HTTP/WebSocket APIs and CloudFront
//! distributions.

use super::{Deletion, Name, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::ApiGateway::RestApi",
        name: Some(Name::resource("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::ApiGatewayV2::Api",
        name: Some(Name::resource("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::CloudFront::Distribution",
        // Identified by a generated id; the domain names are aliases.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
