//! `icc.v1.PolicySyncService` (node-internal): every node keeps a copy of the global group's
//! role bindings, token hashes and current severity policy (`crate::cluster::policy`). A node
//! that hosts the global group reads its own copy; the others fetch it from a global voter
//! through this service. Both sides of that exchange are here.

use std::sync::Arc;
use std::time::Duration;

use icc_proto::v1 as pb;
use icc_proto::v1::policy_sync_service_client::PolicySyncServiceClient;
use icc_proto::v1::policy_sync_service_server::PolicySyncService;
use tonic::{Request, Response, Status};

use super::convert;
use crate::cluster::policy::PolicyHandle;
use crate::cluster::{NodeCtx, status, until_stopping};
use crate::domain::GLOBAL_GROUP;
use crate::domain::policy::PolicyRecord;
use crate::domain::rbac::{Binding, TokenRecord};

/// tonic implementation of `icc.v1.PolicySyncService` (nodes only, see `authn::Audience`).
pub(crate) struct PolicySyncApi {
    ctx: Arc<NodeCtx>,
}

impl PolicySyncApi {
    /// Serves this node's copy of the global group's security state.
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
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
        let (bindings, tokens) = global.store.security().map_err(status::storage)?;
        let severity = global
            .store
            .severity_policy(None)
            .map_err(status::storage)?;
        Ok(Response::new(pb::PolicySnapshot {
            severity_policy: severity.map(|r| convert::version_pb(&r, true)),
            bindings: bindings.iter().map(convert::binding_pb).collect(),
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
pub(crate) async fn refresh(ctx: Arc<NodeCtx>, policy: PolicyHandle) {
    let every = Duration::from_millis(ctx.topology.security.policy_refresh_ms.max(50));
    let stop = until_stopping(ctx.stopping.clone());
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
type Fetched = (Vec<Binding>, Vec<TokenRecord>, Option<PolicyRecord>);

async fn fetch(ctx: &NodeCtx) -> Result<Fetched, String> {
    if let Some(global) = ctx.groups.get(GLOBAL_GROUP) {
        let (b, t) = global.store.security().map_err(|e| e.to_string())?;
        let severity = global
            .store
            .severity_policy(None)
            .map_err(|e| e.to_string())?;
        return Ok((b, t, severity));
    }
    let mut last = String::from("no global voter");
    for node in ctx.topology.group_members(GLOBAL_GROUP) {
        let channel = ctx.peers.channel(&node.addr).map_err(|s| s.to_string())?;
        let mut req = Request::new(pb::GetPolicyRequest {});
        req.set_timeout(Duration::from_secs(1));
        match PolicySyncServiceClient::new(channel).get_policy(req).await {
            Ok(r) => {
                let snap = r.into_inner();
                let bindings = snap
                    .bindings
                    .into_iter()
                    .filter_map(convert::binding_of)
                    .collect();
                let tokens = snap
                    .tokens
                    .into_iter()
                    .map(|t| TokenRecord {
                        hash: t.hash,
                        identity: t.identity,
                        at: Default::default(),
                    })
                    .collect();
                let severity = snap.severity_policy.map(convert::record_of);
                return Ok((bindings, tokens, severity));
            }
            Err(s) => last = format!("node {}: {}", node.addr, s.message()),
        }
    }
    Err(last)
}
