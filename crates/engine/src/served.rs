//! An environment as the Cloud Control wire endpoint serves it when it must
//! not be written there: reads go through the engine API (so an adopted
//! project's reads reach the guard), every write goes to the engine, which
//! refuses and audits it ([`EngineApi::wire_write`]). boto3 or the AWS CLI
//! pointed at `infraguard cloud serve` then sees AWS's `AccessDenied`.

use std::sync::Arc;

use infraguard_core::cloud::{
    Cloud, CloudError, ErrorCode, Identity, ListPage, ProgressEvent, ResourceDescription,
};
use infraguard_core::{ResourceSchema, ResourceType};
use serde_json::Value;

use crate::api::{Caller, EngineApi};
use crate::error::{EngineError, ErrorKind};
use crate::redact::Shown;

/// [`Cloud`] over the engine API's reads for one environment.
pub struct ReadOnlyCloud {
    api: Arc<dyn EngineApi>,
    caller: Caller,
    env: String,
}

impl ReadOnlyCloud {
    pub fn new(api: Arc<dyn EngineApi>, caller: Caller, env: &str) -> ReadOnlyCloud {
        ReadOnlyCloud {
            api,
            caller,
            env: env.to_string(),
        }
    }

    fn refuse(&self, operation: &str, t: &ResourceType, id: Option<&str>) -> CloudError {
        match self.api.wire_write(
            &self.caller,
            self.env.clone(),
            operation.into(),
            t.to_string(),
            id.map(str::to_string),
        ) {
            Err(e) => to_cloud(e),
            // An engine that allowed it is a bug; still write nothing here.
            Ok(()) => CloudError::service(
                ErrorCode::AccessDenied,
                format!("{} is served read-only", self.env),
            ),
        }
    }
}

/// The cloud's own error where the engine passed one on; a refusal as
/// AWS's `AccessDenied`; anything else as an invalid request.
fn to_cloud(e: EngineError) -> CloudError {
    match e {
        EngineError::Cloud { source, .. } => *source,
        other => {
            let code = match other.kind() {
                ErrorKind::Gated => ErrorCode::AccessDenied,
                ErrorKind::Cloud | ErrorKind::Failure => ErrorCode::ServiceInternalError,
                _ => ErrorCode::InvalidRequest,
            };
            CloudError::service(code, other.to_string())
        }
    }
}

impl Cloud for ReadOnlyCloud {
    fn create(&self, t: &ResourceType, _: &Value, _: &str) -> Result<ProgressEvent, CloudError> {
        Err(self.refuse("create", t, None))
    }

    fn get(&self, t: &ResourceType, id: &str) -> Result<ResourceDescription, CloudError> {
        self.api
            .get_resource(&self.caller, self.env.clone(), t.to_string(), id.into())
            .map(Shown::into_inner)
            .map_err(to_cloud)
    }

    fn update(
        &self,
        t: &ResourceType,
        id: &str,
        _: &Value,
        _: &str,
    ) -> Result<ProgressEvent, CloudError> {
        Err(self.refuse("update", t, Some(id)))
    }

    fn delete(&self, t: &ResourceType, id: &str, _: &str) -> Result<ProgressEvent, CloudError> {
        Err(self.refuse("delete", t, Some(id)))
    }

    fn list(
        &self,
        t: &ResourceType,
        next_token: Option<&str>,
        _: Option<&Value>,
    ) -> Result<ListPage, CloudError> {
        self.api
            .list_page(
                &self.caller,
                self.env.clone(),
                t.to_string(),
                next_token.map(str::to_string),
            )
            .map(Shown::into_inner)
            .map_err(to_cloud)
    }

    fn request_status(&self, request_token: &str) -> Result<ProgressEvent, CloudError> {
        self.api
            .request_status(&self.caller, self.env.clone(), request_token.into())
            .map_err(to_cloud)
    }

    fn schema(&self, t: &ResourceType) -> Result<ResourceSchema, CloudError> {
        Err(CloudError::service(
            ErrorCode::InvalidRequest,
            format!("{t}: schemas are not served on a read-only endpoint"),
        ))
    }

    fn identity(&self) -> Result<Identity, CloudError> {
        let envs = self.api.environments(&self.caller).map_err(to_cloud)?;
        envs.into_iter()
            .find(|e| e.env.name == self.env)
            .and_then(|e| e.identity)
            .ok_or_else(|| {
                CloudError::service(
                    ErrorCode::InvalidRequest,
                    format!("no identity for `{}`", self.env),
                )
            })
    }
}
