//! `icc.v1.RbacService`: role bindings and bearer tokens, for admins (the permission is checked
//! by `super::guard`). Changes are commands of the global group, routed like any other request
//! to it (`NodeCtx::route`); reads answer from this node's copy of the global group's state.

use std::future::Future;
use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::rbac_service_client::RbacServiceClient;
use icc_proto::v1::rbac_service_server::RbacService;
use tonic::{Request, Response, Status};

use super::{caller, convert, unpack};
use crate::cluster::policy::Policy;
use crate::cluster::{Hops, NodeCtx, Route};
use crate::domain::GLOBAL_GROUP;
use crate::domain::rbac::{ROLES, RbacOp, RbacReply, Role, TokenRecord};
use crate::raft::peers::PeerChannel;
use crate::security::authn::token_hash;

/// tonic implementation of `icc.v1.RbacService`.
pub(crate) struct RbacApi {
    ctx: Arc<NodeCtx>,
}

impl RbacApi {
    /// The service over the node's context (its copy of the security state is `ctx.policy`).
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    /// The security state as this node knows it now: re-read from its own copy of the global
    /// group when it hosts it (so an admin sees a change they just made), else the last copy
    /// fetched from a global voter.
    fn current(&self) -> Arc<Policy> {
        if let Some(global) = self.ctx.groups.get(GLOBAL_GROUP) {
            match global.store.security() {
                Ok((b, t)) => self.ctx.policy.set(b, t),
                Err(e) => tracing::warn!("reading the security state: {e}"),
            }
        }
        self.ctx.policy.get()
    }

    /// Commits `op` in the global group (here, at its leader, or through a global voter) and
    /// answers with `answer(reply)`; `call` sends the request on when this node cannot.
    async fn commit<M, R, Call, Fut>(
        &self,
        hops: Hops,
        msg: M,
        request_id: String,
        op: RbacOp,
        answer: impl FnOnce(RbacReply) -> Result<R, Status>,
        call: Call,
    ) -> Result<Response<R>, Status>
    where
        M: Clone,
        Call: Fn(PeerChannel, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        self.ctx
            .route(
                GLOBAL_GROUP,
                hops,
                msg,
                |g| async move {
                    let reply = self.ctx.commit(&g, &request_id, op, None).await?;
                    // Decisions on this node see the change at once.
                    self.current();
                    answer(reply).map_err(Route::Fail)
                },
                call,
            )
            .await
    }

    /// Commits a change whose answer is its own description (bind, unbind, revoke).
    async fn change<M, Call, Fut>(
        &self,
        hops: Hops,
        msg: M,
        request_id: String,
        op: RbacOp,
        call: Call,
    ) -> Result<Response<pb::RbacChangeResponse>, Status>
    where
        M: Clone,
        Call: Fn(PeerChannel, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<pb::RbacChangeResponse>, Status>>,
    {
        use crate::domain::Aggregate;
        let done = op.describe();
        self.commit(
            hops,
            msg,
            request_id,
            op,
            |_| Ok(pb::RbacChangeResponse { done }),
            call,
        )
        .await
    }
}

/// The RBAC service client over a peer channel (requests this node sends on).
fn client(ch: PeerChannel) -> RbacServiceClient<PeerChannel> {
    RbacServiceClient::new(ch)
}

fn role(name: &str) -> Result<Role, Status> {
    Role::parse(name).ok_or_else(|| {
        let all: Vec<&str> = ROLES.iter().map(|r| r.name()).collect();
        Status::invalid_argument(format!(
            "role: unknown role {name:?}; one of {}",
            all.join(", ")
        ))
    })
}

#[tonic::async_trait]
impl RbacService for RbacApi {
    async fn bind(
        &self,
        req: Request<pb::BindRequest>,
    ) -> Result<Response<pb::RbacChangeResponse>, Status> {
        let (who, hops, msg) = unpack(req)?;
        for r in &msg.regions {
            if r != GLOBAL_GROUP && self.ctx.topology.jurisdiction(r).is_none() {
                return Err(Status::invalid_argument(format!(
                    "regions: unknown region {r:?}"
                )));
            }
        }
        let op = RbacOp::Bind {
            identity: msg.identity.clone(),
            role: role(&msg.role)?,
            regions: msg.regions.clone(),
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        self.change(hops, msg, rid, op, |ch, r| async move {
            client(ch).bind(r).await
        })
        .await
    }

    async fn unbind(
        &self,
        req: Request<pb::UnbindRequest>,
    ) -> Result<Response<pb::RbacChangeResponse>, Status> {
        let (who, hops, msg) = unpack(req)?;
        let op = RbacOp::Unbind {
            identity: msg.identity.clone(),
            role: role(&msg.role)?,
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        self.change(hops, msg, rid, op, |ch, r| async move {
            client(ch).unbind(r).await
        })
        .await
    }

    async fn list_bindings(
        &self,
        req: Request<pb::ListBindingsRequest>,
    ) -> Result<Response<pb::ListBindingsResponse>, Status> {
        let want = req.into_inner().identity;
        let p = self.current();
        let mut bindings: Vec<pb::RoleBinding> = p
            .bindings
            .values()
            .flatten()
            .filter(|b| want.is_empty() || b.identity == want)
            .map(convert::binding_pb)
            .collect();
        bindings.sort_by(|a, b| (&a.identity, &a.role).cmp(&(&b.identity, &b.role)));
        Ok(self.ctx.reply(pb::ListBindingsResponse {
            bindings,
            config_admins: p.admins.clone(),
        }))
    }

    async fn create_token(
        &self,
        req: Request<pb::CreateTokenRequest>,
    ) -> Result<Response<pb::CreateTokenResponse>, Status> {
        let (who, hops, msg) = unpack(req)?;
        let token = format!("icc_{}", hex::encode(rand::random::<[u8; 32]>()));
        let hash = token_hash(&token);
        let id = hash.get(..12).unwrap_or_default().to_owned();
        let op = RbacOp::CreateToken {
            identity: msg.identity.clone(),
            hash: hash.clone(),
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        let identity = msg.identity.clone();
        let answer = move |reply| match reply {
            // A retry of a request already applied would hand out a token that is not stored.
            RbacReply::TokenStored { hash: stored } if stored != hash => {
                Err(Status::failed_precondition(
                    "request_id: this token request was already applied; create another token",
                ))
            }
            _ => Ok(pb::CreateTokenResponse {
                token,
                id,
                identity,
            }),
        };
        self.commit(hops, msg, rid, op, answer, |ch, r| async move {
            client(ch).create_token(r).await
        })
        .await
    }

    async fn revoke_token(
        &self,
        req: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::RbacChangeResponse>, Status> {
        let (who, hops, msg) = unpack(req)?;
        let op = RbacOp::RevokeToken {
            id: msg.id.clone(),
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        self.change(hops, msg, rid, op, |ch, r| async move {
            client(ch).revoke_token(r).await
        })
        .await
    }

    async fn list_tokens(
        &self,
        _req: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        let p = self.current();
        let mut tokens: Vec<pb::TokenInfo> = p
            .tokens
            .values()
            .map(|t: &TokenRecord| pb::TokenInfo {
                id: t.id().to_owned(),
                identity: t.identity.clone(),
                created: Some(convert::hlc(t.at)),
            })
            .collect();
        tokens.sort_by(|a, b| (&a.identity, &a.id).cmp(&(&b.identity, &b.id)));
        Ok(self.ctx.reply(pb::ListTokensResponse { tokens }))
    }

    async fn who_am_i(
        &self,
        req: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let who = caller(&req)?;
        let roles = self
            .current()
            .roles_of(&who.name())
            .iter()
            .map(convert::binding_pb)
            .collect();
        Ok(self.ctx.reply(pb::WhoAmIResponse {
            identity: who.name(),
            roles,
        }))
    }
}
