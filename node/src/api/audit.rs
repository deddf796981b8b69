//! `icc.v1.AuditService`: export a group's audit chain and verify this node's copy of it.
//! Served from the answering node's own storage (that copy is what an auditor checks), so the
//! node must host the group.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use icc_proto::v1 as pb;
use icc_proto::v1::audit_service_server::AuditService;
use tonic::{Request, Response, Status};

use crate::cluster::{Group, NodeCtx, status};

/// tonic implementation of `icc.v1.AuditService`.
pub(crate) struct AuditApi {
    ctx: Arc<NodeCtx>,
}

impl AuditApi {
    /// The service over the node's context.
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    fn hosted(&self, group: &str) -> Result<Arc<Group>, Status> {
        let name = if group.is_empty() {
            self.ctx.region.as_str()
        } else {
            group
        };
        self.ctx.groups.get(name).cloned().ok_or_else(|| {
            let nodes: Vec<String> = self
                .ctx
                .topology
                .group_members(name)
                .iter()
                .map(|n| n.addr.clone())
                .collect();
            Status::failed_precondition(format!(
                "group: node {} holds no copy of {name:?}; ask one of its nodes: {}",
                self.ctx.id,
                nodes.join(", ")
            ))
        })
    }
}

type EntryStream = Pin<Box<dyn Stream<Item = Result<pb::AuditEntry, Status>> + Send>>;
type AccessStream = Pin<Box<dyn Stream<Item = Result<pb::AccessEntry, Status>> + Send>>;

impl AuditApi {
    /// The access log is node-local: only the node it names answers for it.
    fn this_node(&self, node_id: u64) -> Result<(), Status> {
        if node_id == self.ctx.id {
            return Ok(());
        }
        let addr = self
            .ctx
            .topology
            .nodes
            .iter()
            .find(|n| n.id == node_id)
            .map_or_else(|| "no such node".to_owned(), |n| format!("at {}", n.addr));
        Err(Status::failed_precondition(format!(
            "node_id: the access log is kept by each node; this is node {}, ask node {node_id} ({addr})",
            self.ctx.id
        )))
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    type ExportAuditStream = EntryStream;

    async fn export_audit(
        &self,
        req: Request<pb::ExportAuditRequest>,
    ) -> Result<Response<Self::ExportAuditStream>, Status> {
        let msg = req.into_inner();
        let group = self.hosted(&msg.group)?;
        let entries = group
            .store
            .audit_entries(msg.from_seq.max(1))
            .map_err(status::storage)?;
        let stream = futures::stream::iter(entries.into_iter().map(Ok));
        Ok(self.ctx.reply(Box::pin(stream) as EntryStream))
    }

    type ExportAccessStream = AccessStream;

    async fn export_access(
        &self,
        req: Request<pb::ExportAccessRequest>,
    ) -> Result<Response<Self::ExportAccessStream>, Status> {
        let msg = req.into_inner();
        self.this_node(msg.node_id)?;
        let entries = self
            .ctx
            .access
            .entries(msg.from_seq.max(1))
            .map_err(status::storage)?;
        let stream = futures::stream::iter(entries.into_iter().map(Ok));
        Ok(self.ctx.reply(Box::pin(stream) as AccessStream))
    }

    async fn verify_access(
        &self,
        req: Request<pb::VerifyAccessRequest>,
    ) -> Result<Response<pb::VerifyAuditResponse>, Status> {
        self.this_node(req.into_inner().node_id)?;
        let entries = self.ctx.access.entries(1).map_err(status::storage)?;
        let served_by = self.ctx.home().ok().map(|g| self.ctx.served_by(&g, false));
        let resp = verify_response(icc_proto::access::verify(&entries), served_by, "access log");
        Ok(self.ctx.reply(resp))
    }

    async fn verify_audit(
        &self,
        req: Request<pb::VerifyAuditRequest>,
    ) -> Result<Response<pb::VerifyAuditResponse>, Status> {
        let group = self.hosted(&req.into_inner().group)?;
        let entries = group.store.audit_entries(1).map_err(status::storage)?;
        let served_by = Some(self.ctx.served_by(&group, false));
        let what = format!("{} audit chain", group.name);
        let resp = verify_response(icc_proto::audit::verify(&entries), served_by, &what);
        Ok(self.ctx.reply(resp))
    }
}

/// The answer to a chain verification (audit or access log); a broken chain is also logged as
/// an error on the node, since it means tampering or corruption of its files.
fn verify_response(
    verified: Result<u64, icc_proto::audit::Broken>,
    served_by: Option<pb::ServedBy>,
    what: &str,
) -> pb::VerifyAuditResponse {
    match verified {
        Ok(n) => pb::VerifyAuditResponse {
            ok: true,
            entries: n,
            first_bad_seq: 0,
            reason: String::new(),
            served_by,
        },
        Err(broken) => {
            tracing::error!(seq = broken.seq, "{what} broken: {}", broken.reason);
            pb::VerifyAuditResponse {
                ok: false,
                entries: broken.seq,
                first_bad_seq: broken.seq,
                reason: broken.reason,
                served_by,
            }
        }
    }
}
