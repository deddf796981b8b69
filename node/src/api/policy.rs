//! `icc.v1.PolicyService`: the severity policy's current version, one version, the history, and
//! applying a new version. The current version answers from this node's copy (what its declares
//! use); a given version and the history come from the global group, and applying is a command
//! there, both routed like any other request to that group (`NodeCtx::route`).

use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::policy_service_client::PolicyServiceClient;
use icc_proto::v1::policy_service_server::PolicyService;
use tonic::{Request, Response, Status};

use super::{convert, unpack};
use crate::cluster::{Hops, NodeCtx, Route, status};
use crate::domain::GLOBAL_GROUP;
use crate::domain::policy::{PolicyOp, PolicyRecord, Versioned};
use crate::raft::peers::PeerChannel;

/// tonic implementation of `icc.v1.PolicyService`.
pub(crate) struct PolicyApi {
    ctx: Arc<NodeCtx>,
}

/// The policy service client over a peer channel (requests this node sends on).
fn client(ch: PeerChannel) -> PolicyServiceClient<PeerChannel> {
    PolicyServiceClient::new(ch)
}

impl PolicyApi {
    /// The service over the node's context (its policy copy is `ctx.policy`).
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    /// This node's current version, re-read from its own copy of the global group when it
    /// hosts it (so an apply made here is seen at once).
    fn current(&self) -> Arc<Versioned> {
        if let Some(global) = self.ctx.groups.get(GLOBAL_GROUP) {
            match global.store.severity_policy(None) {
                Ok(Some(r)) => self.ctx.policy.set_severity(r),
                Ok(None) => {}
                Err(e) => tracing::warn!("reading the severity policy: {e}"),
            }
        }
        self.ctx.policy.get().severity.clone()
    }

    /// Version 0, the built-in policy seeded from the cluster file.
    fn built_in(&self) -> PolicyRecord {
        self.ctx.topology.seed_policy().record
    }
}

#[tonic::async_trait]
impl PolicyService for PolicyApi {
    async fn get(
        &self,
        req: Request<pb::GetSeverityPolicyRequest>,
    ) -> Result<Response<pb::SeverityPolicyVersion>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let version = match msg.version {
            None => {
                return Ok(self
                    .ctx
                    .reply(convert::version_pb(&self.current().record, true)));
            }
            Some(0) => {
                return Ok(self.ctx.reply(convert::version_pb(&self.built_in(), true)));
            }
            Some(v) => v,
        };
        self.ctx
            .route(
                GLOBAL_GROUP,
                hops,
                msg,
                |g| async move {
                    let record = g
                        .store
                        .severity_policy(Some(version))
                        .map_err(status::storage)?
                        .ok_or_else(|| {
                            Status::not_found(format!(
                                "version: no severity policy version {version}"
                            ))
                        })?;
                    Ok(convert::version_pb(&record, true))
                },
                |ch, r| async move { client(ch).get(r).await },
            )
            .await
    }

    async fn apply(
        &self,
        req: Request<pb::ApplySeverityPolicyRequest>,
    ) -> Result<Response<pb::SeverityPolicyVersion>, Status> {
        let (who, hops, msg) = unpack(req)?;
        let op = PolicyOp::Apply {
            yaml: msg.yaml.clone(),
            reason: msg.reason.trim().to_owned(),
            by: who.name(),
        };
        let request_id = msg.request_id.clone();
        self.ctx
            .route(
                GLOBAL_GROUP,
                hops,
                msg,
                |g| async move {
                    let made = self.ctx.commit(&g, &request_id, op, None).await?;
                    self.ctx.policy.set_severity(made.clone());
                    Ok::<_, Route>(convert::version_pb(&made, true))
                },
                |ch, r| async move { client(ch).apply(r).await },
            )
            .await
    }

    async fn history(
        &self,
        req: Request<pb::SeverityPolicyHistoryRequest>,
    ) -> Result<Response<pb::SeverityPolicyHistoryResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let built_in = self.built_in();
        self.ctx
            .route(
                GLOBAL_GROUP,
                hops,
                msg,
                |g| async move {
                    let mut versions = vec![convert::version_pb(&built_in, false)];
                    for r in g.store.severity_history().map_err(status::storage)? {
                        versions.push(convert::version_pb(&r, false));
                    }
                    Ok(pb::SeverityPolicyHistoryResponse { versions })
                },
                |ch, r| async move { client(ch).history(r).await },
            )
            .await
    }
}
