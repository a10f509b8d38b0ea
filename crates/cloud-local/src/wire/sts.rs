//! STS `GetCallerIdentity`, the one non-Cloud Control call served here.

use infraguard_core::Cloud;

/// STS `GetCallerIdentity` (awsQuery: a form body, an XML reply), so that an
/// `aws` backend pointed at this endpoint (`AWS_ENDPOINT_URL`) can identify
/// itself as the local account. `None` when the body is not that call.
pub(super) fn sts_identity<C: Cloud + ?Sized>(
    cloud: &C,
    body: &[u8],
    request_id: &str,
) -> Option<Result<String, String>> {
    let form = std::str::from_utf8(body).ok()?;
    if !form.split('&').any(|kv| kv == "Action=GetCallerIdentity") {
        return None;
    }
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    Some(match cloud.identity() {
        Ok(id) => Ok(format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
            escape(&id.arn),
            escape(&format!("AIDALOCAL{}", id.account_id)),
            escape(&id.account_id)
        )),
        Err(e) => Err(format!(
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            escape(&e.to_string())
        )),
    })
}
