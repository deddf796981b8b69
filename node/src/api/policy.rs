//! `icc.v1.PolicyService`: the severity policy's current version, one version, the history,
//! and applying a new version. Reads of the current version answer from this node's copy (what
//! its declares use); a given version and the history come from the global group (here, or
//! from a global voter); applying is a security command in the global group.

use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::policy_service_client::PolicyServiceClient;
use icc_proto::v1::policy_service_server::PolicyService;
use tonic::{Request, Response, Status};

use super::{PolicyRecord, Versioned};
use crate::config::GLOBAL_GROUP;
use crate::domain::Stamp;
use crate::security::identity::Principal;
use crate::security::model::{Permission, SecurityOp};
use crate::security::rbac_service::{commit_global, via_global_voter};
use crate::services::{Hops, NodeCtx, status};

/// tonic implementation of `icc.v1.PolicyService`.
pub struct PolicyApi {
    ctx: Arc<NodeCtx>,
}

/// A stored version to wire; `with_document` false leaves `yaml` and `json` empty.
pub fn version_pb(r: &PolicyRecord, with_document: bool) -> pb::SeverityPolicyVersion {
    let json = if with_document {
        icc_proto::policy::parse(&r.yaml)
            .ok()
            .and_then(|p| serde_json::to_string_pretty(&p).ok())
            .unwrap_or_default()
    } else {
        String::new()
    };
    pb::SeverityPolicyVersion {
        version: r.version,
        yaml: if with_document {
            r.yaml.clone()
        } else {
            String::new()
        },
        author: r.author.clone(),
        reason: r.reason.clone(),
        at: Some(pb::Hlc {
            wall_ns: r.at.wall_ns,
            logical: r.at.logical,
            node_id: r.at.node_id,
        }),
        json,
    }
}

/// Wire to a stored version (the node-internal sync carries the document).
pub fn record_of(v: pb::SeverityPolicyVersion) -> PolicyRecord {
    let at = v.at.unwrap_or_default();
    PolicyRecord {
        version: v.version,
        yaml: v.yaml,
        author: v.author,
        reason: v.reason,
        at: Stamp {
            wall_ns: at.wall_ns,
            logical: at.logical,
            node_id: at.node_id,
        },
        request_id: String::new(),
    }
}

impl PolicyApi {
    /// The service over the node's context (its policy copy is `ctx.policy`).
    pub fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    fn allow<T>(
        &self,
        req: &Request<T>,
        perm: Permission,
        scope: &str,
    ) -> Result<Principal, Status> {
        crate::security::policy::caller_allowed(&self.ctx.policy, req, perm, scope)
    }

    /// This node's current version, re-read from its own copy of the global group when it
    /// hosts it (so an apply made here is seen at once).
    fn current(&self) -> Arc<Versioned> {
        if let Some(global) = self.ctx.groups.get(GLOBAL_GROUP) {
            match global.state.severity_policy(None) {
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
        self.allow(&req, Permission::ClusterRead, &self.ctx.region)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let record = match msg.version {
            None => self.current().record.clone(),
            Some(0) => self.built_in(),
            Some(v) => match self.ctx.groups.get(GLOBAL_GROUP) {
                Some(global) => global
                    .state
                    .severity_policy(Some(v))
                    .map_err(status::storage)?
                    .ok_or_else(|| {
                        Status::not_found(format!("version: no severity policy version {v}"))
                    })?,
                None => {
                    let got = via_global_voter(&self.ctx, &hops, msg, |ch, r| async move {
                        PolicyServiceClient::new(ch).get(r).await
                    })
                    .await?;
                    return Ok(self.ctx.reply(got));
                }
            },
        };
        Ok(self.ctx.reply(version_pb(&record, true)))
    }

    async fn apply(
        &self,
        req: Request<pb::ApplySeverityPolicyRequest>,
    ) -> Result<Response<pb::SeverityPolicyVersion>, Status> {
        let who = self.allow(&req, Permission::PolicyApply, GLOBAL_GROUP)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = SecurityOp::ApplyPolicy {
            yaml: msg.yaml.clone(),
            reason: msg.reason.trim().to_owned(),
            by: who.name(),
        };
        let request_id = msg.request_id.clone();
        let done = commit_global(&self.ctx, hops, msg, &request_id, op, |ch, r| async move {
            PolicyServiceClient::new(ch).apply(r).await
        })
        .await?;
        if let Err(forwarded) = done {
            return Ok(self.ctx.reply(forwarded));
        }
        // Committed here: find the version this request made (a retry finds the same one).
        let global = self
            .ctx
            .groups
            .get(GLOBAL_GROUP)
            .ok_or_else(|| Status::internal("committed without the global group"))?;
        let history = global.state.severity_history().map_err(status::storage)?;
        let made = history
            .into_iter()
            .rev()
            .find(|r| r.request_id == request_id)
            .ok_or_else(|| Status::internal("the applied version is not stored"))?;
        self.ctx.policy.set_severity(made.clone());
        Ok(self.ctx.reply(version_pb(&made, true)))
    }

    async fn history(
        &self,
        req: Request<pb::SeverityPolicyHistoryRequest>,
    ) -> Result<Response<pb::SeverityPolicyHistoryResponse>, Status> {
        self.allow(&req, Permission::ClusterRead, &self.ctx.region)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let Some(global) = self.ctx.groups.get(GLOBAL_GROUP) else {
            let got = via_global_voter(&self.ctx, &hops, msg, |ch, r| async move {
                PolicyServiceClient::new(ch).history(r).await
            })
            .await?;
            return Ok(self.ctx.reply(got));
        };
        let mut versions = vec![version_pb(&self.built_in(), false)];
        for r in global.state.severity_history().map_err(status::storage)? {
            versions.push(version_pb(&r, false));
        }
        Ok(self
            .ctx
            .reply(pb::SeverityPolicyHistoryResponse { versions }))
    }
}
