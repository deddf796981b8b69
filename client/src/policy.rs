//! The severity policy (`icc.v1.PolicyService`) through the same retry loop as every call. An
//! apply carries one request id across retries, so a retried apply makes one version.

use icc_proto::v1::policy_service_client::PolicyServiceClient;
use icc_proto::v1::{
    ApplySeverityPolicyRequest, GetSeverityPolicyRequest, SeverityPolicyHistoryRequest,
    SeverityPolicyHistoryResponse, SeverityPolicyVersion,
};

use crate::{Client, ClientError};

impl Client {
    /// The current severity policy as the answering node uses it, or one stored version.
    pub async fn policy_get(
        &self,
        version: Option<u64>,
    ) -> Result<SeverityPolicyVersion, ClientError> {
        let req = GetSeverityPolicyRequest { version };
        self.unary(req, false, |ch, r| async move {
            PolicyServiceClient::new(ch).get(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Applies `yaml` as the next version. Validate it first with
    /// `icc_policy::parse`: the cluster refuses what that refuses.
    pub async fn policy_apply(
        &self,
        yaml: &str,
        reason: &str,
    ) -> Result<SeverityPolicyVersion, ClientError> {
        let req = ApplySeverityPolicyRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            yaml: yaml.to_owned(),
            reason: reason.to_owned(),
        };
        self.unary(req, true, |ch, r| async move {
            PolicyServiceClient::new(ch).apply(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Every version, oldest first (version 0 is the built-in default).
    pub async fn policy_history(&self) -> Result<SeverityPolicyHistoryResponse, ClientError> {
        self.unary(SeverityPolicyHistoryRequest {}, false, |ch, r| async move {
            PolicyServiceClient::new(ch).history(r).await
        })
        .await
        .map(|(r, _)| r)
    }
}
