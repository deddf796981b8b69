//! What every handler and leader task needs to know about the node.

use std::collections::BTreeMap;
use std::sync::Arc;

use icc_proto::HLC_METADATA_KEY;
use icc_proto::v1::{Hlc, ServedBy};
use tonic::metadata::MetadataValue;
use tonic::{Response, Status};

use super::config::ClusterConfig;
use super::group::Group;
use super::policy::PolicyHandle;
use crate::raft::hlc::NodeClock;
use crate::raft::peers::Peers;
use crate::store::access_log::AccessLog;

/// The node: its identity, the cluster it belongs to, and the groups it hosts.
pub(crate) struct NodeCtx {
    /// This node's id.
    pub id: u64,
    /// This node's region.
    pub region: String,
    /// The whole cluster: regions, jurisdictions, members of every group.
    pub topology: Arc<ClusterConfig>,
    /// The node's HLC.
    pub clock: Arc<NodeClock>,
    /// Channels to peers.
    pub peers: Arc<Peers>,
    /// The groups this node hosts, by name.
    pub groups: BTreeMap<String, Arc<Group>>,
    /// Becomes true when the node starts shutting down; long-lived streams end on it.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Node-local, hash-chained log of the reads this node served.
    pub access: AccessLog,
    /// The node's copy of the global group's role bindings, tokens and severity policy.
    pub policy: PolicyHandle,
}

impl NodeCtx {
    /// The group this node hosts for its own region.
    pub(crate) fn home(&self) -> Result<Arc<Group>, Status> {
        self.groups.get(&self.region).cloned().ok_or_else(|| {
            Status::internal(format!("node {} hosts no group for its region", self.id))
        })
    }

    /// This node's HLC now, on the wire.
    pub(crate) fn hlc(&self) -> Hlc {
        let s = self.clock.now();
        Hlc {
            wall_ns: s.wall_ns,
            logical: s.logical,
            node_id: s.node_id,
        }
    }

    /// Who answers for `group`, at which applied index and HLC.
    pub(crate) fn served_by(&self, group: &Group, forwarded: bool) -> ServedBy {
        ServedBy {
            node_id: self.id,
            region: self.region.clone(),
            applied_index: group.applied_index().unwrap_or(0),
            hlc: Some(self.hlc()),
            forwarded,
        }
    }

    /// Wraps a reply with this node's HLC in the metadata.
    pub(crate) fn reply<T>(&self, msg: T) -> Response<T> {
        let mut resp = Response::new(msg);
        if let Ok(v) = MetadataValue::try_from(self.hlc().to_header()) {
            resp.metadata_mut().insert(HLC_METADATA_KEY, v);
        }
        resp
    }

    /// Notes a peer's refusal of this node's clock (seen on a forwarded or routed request).
    pub(crate) fn note_refusal(&self, addr: &str, status: &Status) {
        let refused = status.code() == tonic::Code::FailedPrecondition
            && status.message().starts_with("clock skew");
        if let (true, Some(node)) = (refused, self.topology.nodes.iter().find(|n| n.addr == addr)) {
            self.peers.record_clock_refusal(node.id);
        }
    }
}

/// Resolves once `stopping` turns true (or its sender is gone). Holds no borrow across an await,
/// so the future is `Send`.
pub(crate) async fn until_stopping(mut stopping: tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone: the node is stopping either way.
    let _ = stopping.wait_for(|stopping| *stopping).await;
}
