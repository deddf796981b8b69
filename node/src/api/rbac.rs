//! `icc.v1.RbacService` (role bindings and tokens, for admins) and `icc.v1.PolicySyncService`
//! (node-internal copy of the security state). Changes are commands in the global group: this
//! node proposes them if it hosts the group, forwards once to its leader, or sends them to a
//! global voter when it does not host the group.

use std::future::Future;
use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::policy_sync_service_server::PolicySyncService;
use icc_proto::v1::rbac_service_client::RbacServiceClient;
use icc_proto::v1::rbac_service_server::RbacService;
use tonic::{Code, Request, Response, Status};

use super::authn::token_hash;
use super::identity::Principal;
use super::model::{Binding, Permission, Role, SecurityOp, TokenRecord};
use super::policy::PolicyHandle;
use crate::config::GLOBAL_GROUP;
use crate::domain::{Command, Stamp};
use crate::peers::PeerChannel;
use crate::raft::{NodeInfo, Outcome};
use crate::services::{Hops, NodeCtx};

/// tonic implementation of `icc.v1.RbacService`.
pub struct RbacApi {
    ctx: Arc<NodeCtx>,
    policy: PolicyHandle,
}

impl RbacApi {
    /// The service over the node's context and its copy of the security state.
    pub fn new(ctx: Arc<NodeCtx>, policy: PolicyHandle) -> Self {
        Self { ctx, policy }
    }

    fn caller<T>(req: &Request<T>) -> Result<Principal, Status> {
        req.extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
    }

    /// The security state as this node knows it now: re-read from its own copy of the global
    /// group when it hosts it (so an admin sees a change they just made), else the last copy
    /// fetched from a global voter.
    fn current(&self) -> Arc<super::policy::Policy> {
        if let Some(global) = self.ctx.groups.get(GLOBAL_GROUP) {
            match global.state.security() {
                Ok((b, t)) => self.policy.set(b, t),
                Err(e) => tracing::warn!("reading the security state: {e}"),
            }
        }
        self.policy.get()
    }

    fn admin<T>(&self, req: &Request<T>) -> Result<Principal, Status> {
        let who = Self::caller(req)?;
        self.policy
            .get()
            .check(&who, Permission::RbacAdmin, GLOBAL_GROUP)?;
        Ok(who)
    }

    /// Commits `op` (see [`commit_global`]) and refreshes this node's copy on success.
    async fn commit<M, Call, Fut, R>(
        &self,
        hops: Hops,
        msg: M,
        request_id: &str,
        op: SecurityOp,
        call: Call,
    ) -> Result<Result<(), R>, Status>
    where
        M: Clone,
        Call: Fn(RbacServiceClient<PeerChannel>, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        let done = commit_global(&self.ctx, hops, msg, request_id, op, |ch, r| {
            call(RbacServiceClient::new(ch), r)
        })
        .await?;
        if done.is_ok() {
            // Decisions on this node see the change at once.
            self.current();
        }
        Ok(done)
    }
}

/// Sends `msg` to the global group's voters in turn (this node does not host the group) and
/// returns the first answer; a request already routed here is not routed again.
pub async fn via_global_voter<M, Call, Fut, R>(
    ctx: &NodeCtx,
    hops: &Hops,
    msg: M,
    call: Call,
) -> Result<R, Status>
where
    M: Clone,
    Call: Fn(PeerChannel, Request<M>) -> Fut,
    Fut: Future<Output = Result<Response<R>, Status>>,
{
    if hops.routed_from.is_some() {
        return Err(Status::failed_precondition(
            "group: this node does not host the global group and the request was already routed",
        ));
    }
    let mut last = Status::unavailable("no global voter answered");
    for node in ctx.topology.group_members(GLOBAL_GROUP) {
        let req = ctx.onward_request(msg.clone(), hops, false);
        match call(ctx.peers.channel(&node.addr)?, req).await {
            Ok(r) => return Ok(r.into_inner()),
            Err(s)
                if matches!(
                    s.code(),
                    Code::Unavailable | Code::DeadlineExceeded | Code::Unknown
                ) =>
            {
                last = s
            }
            Err(s) => return Err(s),
        }
    }
    Err(last)
}

/// Commits a security command `op` in the global group: here, at its leader (one forward), or
/// through a global voter when this node does not host the group. `Ok(Err(r))` is the answer
/// of the node the request was passed to; `call` sends `msg` to a peer over its channel.
pub async fn commit_global<M, Call, Fut, R>(
    ctx: &NodeCtx,
    hops: Hops,
    msg: M,
    request_id: &str,
    op: SecurityOp,
    call: Call,
) -> Result<Result<(), R>, Status>
where
    M: Clone,
    Call: Fn(PeerChannel, Request<M>) -> Fut,
    Fut: Future<Output = Result<Response<R>, Status>>,
{
    {
        if let Err(e) = op.check() {
            return Err(Status::invalid_argument(e));
        }
        crate::domain::validate::request_id(request_id).map_err(crate::services::status::domain)?;
        let Some(global) = ctx.groups.get(GLOBAL_GROUP).cloned() else {
            return via_global_voter(ctx, &hops, msg, call).await.map(Err);
        };
        let cmd = Command {
            request_id: request_id.to_owned(),
            stamp: ctx.clock.now(),
            op: crate::domain::Op::Security(op),
            caller: String::new(),
        };
        let written = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            global.raft.client_write(cmd),
        )
        .await
        .map_err(|_| Status::unavailable("commit timed out (no quorum?); retry"))?;
        match written {
            Ok(resp) => match resp.data {
                Outcome::Security(Ok(())) => Ok(Ok(())),
                Outcome::Security(Err(e)) => Err(Status::failed_precondition(e)),
                Outcome::Incident(_) => Err(Status::internal("unexpected outcome")),
            },
            Err(e) => match e.forward_to_leader() {
                Some(openraft::errors::ForwardToLeader {
                    leader_node: Some(NodeInfo { addr, .. }),
                    leader_id: Some(id),
                    ..
                }) if *id != ctx.id && !hops.forwarded => {
                    let req = ctx.onward_request(msg, &hops, true);
                    Ok(Err(call(ctx.peers.channel(addr)?, req).await?.into_inner()))
                }
                _ => Err(Status::unavailable(format!(
                    "group global: no leader reachable right now ({e}); retry"
                ))),
            },
        }
    }
}

impl RbacApi {
    /// Commits a change whose answer is its own description (bind, unbind, revoke).
    async fn change<M, Call, Fut>(
        &self,
        hops: Hops,
        msg: M,
        request_id: &str,
        op: SecurityOp,
        call: Call,
    ) -> Result<Response<pb::RbacChangeResponse>, Status>
    where
        M: Clone,
        Call: Fn(RbacServiceClient<PeerChannel>, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<pb::RbacChangeResponse>, Status>>,
    {
        let done = op.describe();
        Ok(match self.commit(hops, msg, request_id, op, call).await? {
            Ok(()) => self.ctx.reply(pb::RbacChangeResponse { done }),
            Err(forwarded) => self.ctx.reply(forwarded),
        })
    }
}

fn role(name: &str) -> Result<Role, Status> {
    Role::parse(name).ok_or_else(|| {
        let all: Vec<&str> = super::model::ROLES.iter().map(|r| r.name()).collect();
        Status::invalid_argument(format!(
            "role: unknown role {name:?}; one of {}",
            all.join(", ")
        ))
    })
}

fn hlc(s: Stamp) -> pb::Hlc {
    pb::Hlc {
        wall_ns: s.wall_ns,
        logical: s.logical,
        node_id: s.node_id,
    }
}

fn binding_pb(b: &Binding) -> pb::RoleBinding {
    pb::RoleBinding {
        identity: b.identity.clone(),
        role: b.role.name().to_owned(),
        regions: b.regions.clone(),
        at: Some(hlc(b.at)),
    }
}

#[tonic::async_trait]
impl RbacService for RbacApi {
    async fn bind(
        &self,
        req: Request<pb::BindRequest>,
    ) -> Result<Response<pb::RbacChangeResponse>, Status> {
        let who = self.admin(&req)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        for r in &msg.regions {
            if r != GLOBAL_GROUP && self.ctx.topology.jurisdiction(r).is_none() {
                return Err(Status::invalid_argument(format!(
                    "regions: unknown region {r:?}"
                )));
            }
        }
        let op = SecurityOp::Bind {
            identity: msg.identity.clone(),
            role: role(&msg.role)?,
            regions: msg.regions.clone(),
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        self.change(
            hops,
            msg,
            &rid,
            op,
            |mut c, r| async move { c.bind(r).await },
        )
        .await
    }

    async fn unbind(
        &self,
        req: Request<pb::UnbindRequest>,
    ) -> Result<Response<pb::RbacChangeResponse>, Status> {
        let who = self.admin(&req)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = SecurityOp::Unbind {
            identity: msg.identity.clone(),
            role: role(&msg.role)?,
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        self.change(
            hops,
            msg,
            &rid,
            op,
            |mut c, r| async move { c.unbind(r).await },
        )
        .await
    }

    async fn list_bindings(
        &self,
        req: Request<pb::ListBindingsRequest>,
    ) -> Result<Response<pb::ListBindingsResponse>, Status> {
        self.admin(&req)?;
        let want = req.into_inner().identity;
        let p = self.current();
        let mut bindings: Vec<pb::RoleBinding> = p
            .bindings
            .values()
            .flatten()
            .filter(|b| want.is_empty() || b.identity == want)
            .map(binding_pb)
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
        let who = self.admin(&req)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let token = format!("icc_{}", hex::encode(rand::random::<[u8; 32]>()));
        let hash = token_hash(&token);
        let id = hash.get(..12).unwrap_or_default().to_owned();
        let op = SecurityOp::CreateToken {
            identity: msg.identity.clone(),
            hash,
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        let identity = msg.identity.clone();
        match self
            .commit(hops, msg, &rid, op, |mut c, r| async move {
                c.create_token(r).await
            })
            .await?
        {
            Ok(()) => Ok(self.ctx.reply(pb::CreateTokenResponse {
                token,
                id,
                identity,
            })),
            Err(forwarded) => Ok(self.ctx.reply(forwarded)),
        }
    }

    async fn revoke_token(
        &self,
        req: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::RbacChangeResponse>, Status> {
        let who = self.admin(&req)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = SecurityOp::RevokeToken {
            id: msg.id.clone(),
            by: who.name(),
        };
        let rid = msg.request_id.clone();
        self.change(hops, msg, &rid, op, |mut c, r| async move {
            c.revoke_token(r).await
        })
        .await
    }

    async fn list_tokens(
        &self,
        req: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        self.admin(&req)?;
        let p = self.current();
        let mut tokens: Vec<pb::TokenInfo> = p
            .tokens
            .values()
            .map(|t: &TokenRecord| pb::TokenInfo {
                id: t.id().to_owned(),
                identity: t.identity.clone(),
                created: Some(hlc(t.at)),
            })
            .collect();
        tokens.sort_by(|a, b| (&a.identity, &a.id).cmp(&(&b.identity, &b.id)));
        Ok(self.ctx.reply(pb::ListTokensResponse { tokens }))
    }

    async fn who_am_i(
        &self,
        req: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let who = Self::caller(&req)?;
        let roles = self
            .current()
            .roles_of(&who.name())
            .iter()
            .map(binding_pb)
            .collect();
        Ok(self.ctx.reply(pb::WhoAmIResponse {
            identity: who.name(),
            roles,
        }))
    }
}

/// tonic implementation of `icc.v1.PolicySyncService` (nodes only, see `authn::Audience`).
pub struct PolicySyncApi {
    ctx: Arc<NodeCtx>,
}

impl PolicySyncApi {
    /// Serves this node's copy of the global group's security state.
    pub fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }
}

#[tonic::async_trait]
impl PolicySyncService for PolicySyncApi {
    async fn get_policy(
        &self,
        _req: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::PolicySnapshot>, Status> {
        let global = self.ctx.groups.get(GLOBAL_GROUP).ok_or_else(|| {
            Status::failed_precondition("group: this node does not host the global group")
        })?;
        let (bindings, tokens) = global
            .state
            .security()
            .map_err(crate::services::status::storage)?;
        let severity = global
            .state
            .severity_policy(None)
            .map_err(crate::services::status::storage)?;
        Ok(Response::new(pb::PolicySnapshot {
            severity_policy: severity.map(|r| crate::severity::service::version_pb(&r, true)),
            bindings: bindings.iter().map(binding_pb).collect(),
            tokens: tokens
                .into_iter()
                .map(|t| pb::TokenHash {
                    hash: t.hash,
                    identity: t.identity,
                })
                .collect(),
        }))
    }
}

/// Keeps `policy` up to date: from this node's copy of the global group when it hosts it, else
/// from a global voter. Runs until the node stops.
pub async fn refresh(ctx: Arc<NodeCtx>, policy: PolicyHandle) {
    let every = std::time::Duration::from_millis(ctx.topology.security.policy_refresh_ms.max(50));
    let stop = crate::services::until_stopping(ctx.stopping.clone());
    tokio::pin!(stop);
    loop {
        match fetch(&ctx).await {
            Ok((b, t, severity)) => {
                policy.set(b, t);
                if let Some(r) = severity {
                    policy.set_severity(r);
                }
            }
            Err(e) => tracing::debug!("security policy refresh: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut stop => return,
        }
    }
}

/// What one refresh brings: bindings, token records and the latest severity policy version.
type Fetched = (
    Vec<Binding>,
    Vec<TokenRecord>,
    Option<crate::severity::PolicyRecord>,
);

async fn fetch(ctx: &NodeCtx) -> Result<Fetched, String> {
    if let Some(global) = ctx.groups.get(GLOBAL_GROUP) {
        let (b, t) = global.state.security().map_err(|e| e.to_string())?;
        let severity = global
            .state
            .severity_policy(None)
            .map_err(|e| e.to_string())?;
        return Ok((b, t, severity));
    }
    let mut last = String::from("no global voter");
    for node in ctx.topology.group_members(GLOBAL_GROUP) {
        let channel = ctx.peers.channel(&node.addr).map_err(|s| s.to_string())?;
        let mut client =
            icc_proto::v1::policy_sync_service_client::PolicySyncServiceClient::new(channel);
        let mut req = Request::new(pb::GetPolicyRequest {});
        req.set_timeout(std::time::Duration::from_secs(1));
        match client.get_policy(req).await {
            Ok(r) => {
                let snap = r.into_inner();
                let bindings = snap
                    .bindings
                    .into_iter()
                    .filter_map(|b| {
                        Some(Binding {
                            role: Role::parse(&b.role)?,
                            identity: b.identity,
                            regions: b.regions,
                            at: b
                                .at
                                .map(|h| Stamp {
                                    wall_ns: h.wall_ns,
                                    logical: h.logical,
                                    node_id: h.node_id,
                                })
                                .unwrap_or_default(),
                        })
                    })
                    .collect();
                let tokens = snap
                    .tokens
                    .into_iter()
                    .map(|t| TokenRecord {
                        hash: t.hash,
                        identity: t.identity,
                        at: Stamp::default(),
                    })
                    .collect();
                let severity = snap
                    .severity_policy
                    .map(crate::severity::service::record_of);
                return Ok((bindings, tokens, severity));
            }
            Err(s) => last = format!("node {}: {}", node.addr, s.message()),
        }
    }
    Err(last)
}
