//! Role bindings and tokens (`icc.v1.RbacService`) through the same retry loop as every call.
//! Changes carry one request id across retries; a retried token creation is refused by the
//! cluster rather than answered with a token it did not store.

use icc_proto::v1::rbac_service_client::RbacServiceClient;
use icc_proto::v1::{
    BindRequest, CreateTokenRequest, CreateTokenResponse, ListBindingsRequest,
    ListBindingsResponse, ListTokensRequest, ListTokensResponse, RbacChangeResponse,
    RevokeTokenRequest, UnbindRequest, WhoAmIRequest, WhoAmIResponse,
};

use crate::{Client, ClientError};

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Client {
    /// Gives `identity` `role` on `regions` (empty: every region).
    pub async fn rbac_bind(
        &self,
        identity: &str,
        role: &str,
        regions: Vec<String>,
    ) -> Result<RbacChangeResponse, ClientError> {
        let req = BindRequest {
            request_id: request_id(),
            identity: identity.to_owned(),
            role: role.to_owned(),
            regions,
        };
        self.unary(req, true, |ch, r| async move {
            RbacServiceClient::new(ch).bind(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Takes `role` from `identity`.
    pub async fn rbac_unbind(
        &self,
        identity: &str,
        role: &str,
    ) -> Result<RbacChangeResponse, ClientError> {
        let req = UnbindRequest {
            request_id: request_id(),
            identity: identity.to_owned(),
            role: role.to_owned(),
        };
        self.unary(req, true, |ch, r| async move {
            RbacServiceClient::new(ch).unbind(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Lists bindings (of one identity, or all when empty).
    pub async fn rbac_list(&self, identity: &str) -> Result<ListBindingsResponse, ClientError> {
        let req = ListBindingsRequest {
            identity: identity.to_owned(),
        };
        self.unary(req, true, |ch, r| async move {
            RbacServiceClient::new(ch).list_bindings(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Creates a bearer token for `identity`; the answer is the only place the token appears.
    pub async fn token_create(&self, identity: &str) -> Result<CreateTokenResponse, ClientError> {
        let req = CreateTokenRequest {
            request_id: request_id(),
            identity: identity.to_owned(),
        };
        self.unary(req, true, |ch, r| async move {
            RbacServiceClient::new(ch).create_token(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Lists tokens (ids and identities, never the tokens).
    pub async fn token_list(&self) -> Result<ListTokensResponse, ClientError> {
        self.unary(ListTokensRequest {}, true, |ch, r| async move {
            RbacServiceClient::new(ch).list_tokens(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Revokes the token with this id.
    pub async fn token_revoke(&self, id: &str) -> Result<RbacChangeResponse, ClientError> {
        let req = RevokeTokenRequest {
            request_id: request_id(),
            id: id.to_owned(),
        };
        self.unary(req, true, |ch, r| async move {
            RbacServiceClient::new(ch).revoke_token(r).await
        })
        .await
        .map(|(r, _)| r)
    }

    /// Who the cluster thinks the caller is, and its roles.
    pub async fn who_am_i(&self) -> Result<WhoAmIResponse, ClientError> {
        self.unary(WhoAmIRequest {}, true, |ch, r| async move {
            RbacServiceClient::new(ch).who_am_i(r).await
        })
        .await
        .map(|(r, _)| r)
    }
}
