//! The gRPC services clients use. Handlers translate between the wire (`icc.v1`) and the domain,
//! route writes and linearizable reads to the group leader (forwarding once), and map every error
//! to one gRPC status in `status`.

pub mod cluster;
pub mod convert;
pub mod incidents;
pub mod status;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use icc_proto::v1::{Hlc, ServedBy};
use icc_proto::{FORWARDED_METADATA_KEY, HLC_METADATA_KEY};
use openraft::ReadPolicy;
use openraft::errors::ForwardToLeader;
use tokio::sync::broadcast;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Response, Status};

use crate::domain::{self, Applied, Command, Op};
use crate::hlc::NodeClock;
use crate::peers::Peers;
use crate::raft::state_machine::{ChangeRecord, GroupState};
use crate::raft::{NodeInfo, Raft, TypeConfig};

/// How long a write may wait for Raft to commit before the client is told to retry.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// One Raft group as the services see it.
pub struct Group {
    /// Group name (the region for a regional group).
    pub name: String,
    /// Its Raft instance.
    pub raft: Raft,
    /// Its committed state, for reads.
    pub state: GroupState,
    /// Committed changes, for watchers.
    pub changes: broadcast::Sender<ChangeRecord>,
}

/// What every handler needs to know about the node.
pub struct NodeCtx {
    /// This node's id.
    pub id: u64,
    /// This node's region.
    pub region: String,
    /// The node's HLC.
    pub clock: Arc<NodeClock>,
    /// Channels to peers.
    pub peers: Arc<Peers>,
    /// The region group.
    pub group: Group,
    /// Set once the state machine has applied what the cluster had committed at start; local
    /// reads wait for it so a restarted node never serves an older state than before.
    pub recovered: AtomicBool,
    /// Becomes true when the node starts shutting down; long-lived streams end on it.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// Where a request must go when this node cannot serve it.
#[derive(Debug)]
pub enum Route {
    /// To the leader at this address.
    Leader(String),
    /// Nowhere right now: the status says why.
    Fail(Status),
}

impl From<Status> for Route {
    fn from(s: Status) -> Self {
        Route::Fail(s)
    }
}

impl NodeCtx {
    /// Who answers, at which applied index and HLC.
    pub fn served_by(&self, forwarded: bool) -> ServedBy {
        let s = self.clock.now();
        ServedBy {
            node_id: self.id,
            region: self.region.clone(),
            applied_index: self.group.state.applied_index().unwrap_or(0),
            hlc: Some(Hlc {
                wall_ns: s.wall_ns,
                logical: s.logical,
                node_id: s.node_id,
            }),
            forwarded,
        }
    }

    /// Wraps a reply with this node's HLC in the metadata.
    pub fn reply<T>(&self, msg: T) -> Response<T> {
        let mut resp = Response::new(msg);
        let s = self.clock.now();
        let text = Hlc {
            wall_ns: s.wall_ns,
            logical: s.logical,
            node_id: s.node_id,
        }
        .to_header();
        if let Ok(v) = MetadataValue::try_from(text) {
            resp.metadata_mut().insert(HLC_METADATA_KEY, v);
        }
        resp
    }

    /// Stamps `op` with the HLC and commits it through Raft; returns what apply decided.
    pub async fn propose(&self, request_id: &str, op: Op) -> Result<Applied, Route> {
        domain::check(&op).map_err(status::domain)?;
        domain::validate::request_id(request_id).map_err(status::domain)?;
        let cmd = Command {
            request_id: request_id.to_owned(),
            stamp: self.clock.now(),
            op,
        };
        let written = tokio::time::timeout(COMMIT_TIMEOUT, self.group.raft.client_write(cmd))
            .await
            .map_err(|_| {
                Status::unavailable("commit timed out (no quorum?); retry with the same request_id")
            })?;
        match written {
            Ok(resp) => resp.data.map_err(|e| Route::Fail(status::domain(e))),
            Err(e) => Err(self.route_raft_error(e.forward_to_leader().cloned(), &e.to_string())),
        }
    }

    /// Refuses local reads until the node has recovered its pre-restart state.
    pub fn local_read_allowed(&self) -> Result<(), Status> {
        if self.recovered.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(Status::unavailable(format!(
                "node {} is still catching up with the cluster after start; retry or read linearizably",
                self.id
            )))
        }
    }

    /// Waits until this node may serve a linearizable read (read index through the leader).
    pub async fn read_barrier(&self) -> Result<(), Route> {
        let r = tokio::time::timeout(
            COMMIT_TIMEOUT,
            self.group.raft.ensure_linearizable(ReadPolicy::ReadIndex),
        )
        .await
        .map_err(|_| {
            Status::unavailable(
                "linearizable read timed out (no quorum?); retry or read with consistency LOCAL",
            )
        })?;
        r.map(|_| ())
            .map_err(|e| self.route_raft_error(e.forward_to_leader().cloned(), &e.to_string()))
    }

    fn route_raft_error(&self, fwd: Option<ForwardToLeader<TypeConfig>>, text: &str) -> Route {
        match fwd {
            Some(ForwardToLeader {
                leader_node: Some(NodeInfo { addr, .. }),
                leader_id: Some(id),
                ..
            }) if id != self.id => Route::Leader(addr),
            Some(_) => Route::Fail(Status::unavailable(format!(
                "group {}: no leader right now (election in progress); retry shortly",
                self.group.name
            ))),
            None => Route::Fail(Status::unavailable(format!(
                "group {}: {text}; retry",
                self.group.name
            ))),
        }
    }

    /// Turns a route into the final status when this request may not be forwarded again.
    pub fn no_second_hop(&self, addr: &str) -> Status {
        let mut s = Status::unavailable(format!(
            "node {} is not the leader of {} either (leader moved to {addr}); retry",
            self.id, self.group.name
        ));
        if let Ok(v) = MetadataValue::try_from(addr) {
            s.metadata_mut()
                .insert(icc_proto::LEADER_HINT_METADATA_KEY, v);
        }
        s
    }
}

/// Resolves once `stopping` turns true (or its sender is gone). Holds no borrow across an await,
/// so the future is `Send`.
pub async fn until_stopping(mut stopping: tokio::sync::watch::Receiver<bool>) {
    while !*stopping.borrow_and_update() {
        if stopping.changed().await.is_err() {
            return;
        }
    }
}

/// True when the request was already forwarded once by another node.
pub fn is_forwarded<T>(req: &Request<T>) -> bool {
    req.metadata().contains_key(FORWARDED_METADATA_KEY)
}

/// Builds the request a node sends when it forwards `msg` to the leader.
pub fn forwarded_request<T>(msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut()
        .insert(FORWARDED_METADATA_KEY, MetadataValue::from_static("1"));
    req.set_timeout(COMMIT_TIMEOUT + Duration::from_secs(1));
    req
}

/// Server-side gate on every incoming RPC: observes the sender's HLC and refuses a sender whose
/// clock is too far ahead (the refusal is counted and logged by the clock).
#[derive(Clone)]
pub struct HlcGate(pub Arc<NodeClock>);

impl Interceptor for HlcGate {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(value) = req.metadata().get(HLC_METADATA_KEY) else {
            return Ok(req);
        };
        let text = value
            .to_str()
            .map_err(|_| Status::invalid_argument("icc-hlc: must be ASCII"))?;
        let hlc = Hlc::from_header(text).ok_or_else(|| {
            Status::invalid_argument("icc-hlc: must be <wall_ns>.<logical>.<node_id>")
        })?;
        let stamp = domain::Stamp {
            wall_ns: hlc.wall_ns,
            logical: hlc.logical,
            node_id: hlc.node_id,
        };
        self.0
            .observe(stamp)
            .map_err(|e| Status::failed_precondition(e.to_string()))?;
        Ok(req)
    }
}
