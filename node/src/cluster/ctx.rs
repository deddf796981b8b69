//! The gRPC services clients use. Handlers translate between the wire (`icc.v1`) and the domain,
//! locate the Raft group a request belongs to (by the region in an incident id), route it to that
//! group's nodes when this node does not host it, forward writes and linearizable reads to the
//! group leader, and map every error to one gRPC status in `status`.
//!
//! Hops: at most one cross-region route (marked `icc-routed-from`) and one forward to a leader
//! (marked `icc-forwarded`); a node never forwards a request twice.

pub mod audit;
pub mod cluster;
pub mod convert;
pub mod incidents;
pub mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use icc_proto::v1::{Hlc, ServedBy};
use icc_proto::{
    FORWARDED_METADATA_KEY, HLC_METADATA_KEY, ORIGIN_REGION_METADATA_KEY, ROUTED_FROM_METADATA_KEY,
};
use openraft::ReadPolicy;
use openraft::errors::ForwardToLeader;
use tokio::sync::broadcast;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Response, Status};

use crate::access_log::{AccessLog, AccessRecord};
use crate::config::ClusterConfig;
use crate::domain::{self, Applied, Command, Op};
use crate::hlc::NodeClock;
use crate::peers::Peers;
use crate::raft::state_machine::{ChangeRecord, GroupState};
use crate::raft::{NodeInfo, Raft, TypeConfig};

/// How long a write may wait for Raft to commit before the client is told to retry.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// One Raft group hosted by this node, as the services see it.
pub struct Group {
    /// Group name: a region, or `global`.
    pub name: String,
    /// Its Raft instance.
    pub raft: Raft,
    /// Its committed state, for reads.
    pub state: GroupState,
    /// Committed changes, for watchers.
    pub changes: broadcast::Sender<ChangeRecord>,
    /// Woken by the state machine after it applied a purge (see `crate::maintenance`).
    pub purged: Arc<tokio::sync::Notify>,
    /// Set once the state machine has applied what the cluster had committed at start; local
    /// reads wait for it so a restarted node never serves an older state than before.
    pub recovered: AtomicBool,
}

impl Group {
    /// Refuses local reads until the group has recovered its pre-restart state.
    pub fn local_read_allowed(&self, node: u64) -> Result<(), Status> {
        if self.recovered.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(Status::unavailable(format!(
                "node {node} is still catching up with group {} after start; retry or read linearizably",
                self.name
            )))
        }
    }
}

/// What every handler needs to know about the node.
pub struct NodeCtx {
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
    /// Node-local log of cross-jurisdiction reads.
    pub access: AccessLog,
    /// The node's copy of the replicated security state and severity policy.
    pub policy: crate::security::policy::PolicyHandle,
}

/// Where a request must go when this node cannot finish it.
#[derive(Debug)]
pub enum Route {
    /// To the group leader at this address.
    Leader(String),
    /// Nowhere right now: the status says why.
    Fail(Status),
}

impl From<Status> for Route {
    fn from(s: Status) -> Self {
        Route::Fail(s)
    }
}

/// Where the group a request belongs to lives, seen from this node.
pub enum Located {
    /// This node hosts it.
    Here(Arc<Group>),
    /// Only these nodes (addresses) host it.
    Elsewhere(Vec<String>),
}

/// The hops a request has already made.
#[derive(Debug, Clone, Default)]
pub struct Hops {
    /// Already forwarded once to a leader.
    pub forwarded: bool,
    /// Routed here from a node of this region (the origin of the client request).
    pub routed_from: Option<String>,
    /// The region through which the request entered the cluster, when it came from another node.
    pub origin: Option<String>,
    /// The identity the request acts for (set by the authentication interceptor); onward hops
    /// carry it so the next node authorizes the original caller, not this node.
    pub caller: Option<String>,
}

impl Hops {
    /// Reads the hop marks of an incoming request.
    pub fn of<T>(req: &Request<T>) -> Self {
        let md = req.metadata();
        Hops {
            forwarded: md.contains_key(FORWARDED_METADATA_KEY),
            routed_from: md
                .get(ROUTED_FROM_METADATA_KEY)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            origin: md
                .get(ORIGIN_REGION_METADATA_KEY)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            caller: md
                .get(icc_proto::security::CALLER_METADATA_KEY)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}

/// The group an incident id belongs to: the part before the last `-`.
pub fn group_of_incident(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(group, _)| group)
}

impl NodeCtx {
    /// The group this node hosts for its own region.
    pub fn home(&self) -> Result<Arc<Group>, Status> {
        self.groups.get(&self.region).cloned().ok_or_else(|| {
            Status::internal(format!("node {} hosts no group for its region", self.id))
        })
    }

    /// Finds the group `name`: here, or the addresses of its members.
    pub fn locate(&self, name: &str, hops: &Hops) -> Result<Located, Status> {
        if let Some(g) = self.groups.get(name) {
            return Ok(Located::Here(g.clone()));
        }
        let members: Vec<String> = self
            .topology
            .group_members(name)
            .iter()
            .map(|n| n.addr.clone())
            .collect();
        if members.is_empty() {
            return Err(status::domain(domain::DomainError::NotFound {
                id: format!("{name} (no such region)"),
            }));
        }
        if hops.routed_from.is_some() {
            return Err(Status::failed_precondition(format!(
                "node {} does not host group {name} and the request was already routed once",
                self.id
            )));
        }
        Ok(Located::Elsewhere(members))
    }

    /// The region a request entered the cluster through (this node's, if it came from a client).
    pub fn origin_region(&self, hops: &Hops) -> String {
        hops.origin.clone().unwrap_or_else(|| self.region.clone())
    }

    /// Residency view of a read of `group`'s data by the request's origin. The global group
    /// holds no restricted data, so its reads are always complete.
    pub fn reader(&self, group: &str, hops: &Hops) -> convert::Reader {
        let origin = self.origin_region(hops);
        let reader = self
            .topology
            .jurisdiction(&origin)
            .unwrap_or("unknown")
            .to_owned();
        let home = self
            .topology
            .jurisdiction(group)
            .map_or_else(|| reader.clone(), str::to_owned);
        let allowed = self.topology.export_allowed(&home, &reader);
        convert::Reader {
            home,
            reader,
            allowed,
        }
    }

    /// Appends a read of `incident_id` this node served to its access log: who, what was
    /// returned and withheld, and whether the read crossed jurisdictions.
    pub fn log_access(
        &self,
        incident_id: &str,
        hops: &Hops,
        reader: &convert::Reader,
        withheld: Vec<String>,
    ) {
        let mut returned = vec!["shareable".to_owned()];
        if reader.full() {
            returned.push("restricted".to_owned());
        }
        let record = AccessRecord {
            at: convert::hlc(self.clock.now()),
            reader: hops
                .caller
                .clone()
                .unwrap_or_else(|| "unauthenticated".to_owned()),
            incident_id: incident_id.to_owned(),
            reader_region: self.origin_region(hops),
            reader_jurisdiction: reader.reader.clone(),
            home_jurisdiction: reader.home.clone(),
            returned,
            withheld,
        };
        if let Err(e) = self.access.record(record) {
            tracing::error!("access log write failed: {e}");
        }
    }

    /// Notes a peer's refusal of this node's clock (seen on a forwarded or routed request).
    pub fn note_refusal(&self, addr: &str, status: &Status) {
        let refused = status.code() == tonic::Code::FailedPrecondition
            && status.message().starts_with("clock skew");
        if let (true, Some(node)) = (refused, self.topology.nodes.iter().find(|n| n.addr == addr)) {
            self.peers.record_clock_refusal(node.id);
        }
    }

    /// Who answers for `group`, at which applied index and HLC.
    pub fn served_by(&self, group: &Group, forwarded: bool) -> ServedBy {
        let s = self.clock.now();
        ServedBy {
            node_id: self.id,
            region: self.region.clone(),
            applied_index: group.state.applied_index().unwrap_or(0),
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

    /// Stamps `op` with the HLC and commits it through `group`'s Raft; returns what apply decided.
    pub async fn propose(&self, group: &Group, request_id: &str, op: Op) -> Result<Applied, Route> {
        self.propose_as(group, request_id, op, None).await
    }

    /// Like [`propose`](Self::propose), for a request made by `caller`, the identity this node
    /// (or the node that forwarded the request) authenticated; apply audits it as the actor.
    pub async fn propose_as(
        &self,
        group: &Group,
        request_id: &str,
        op: Op,
        caller: Option<&str>,
    ) -> Result<Applied, Route> {
        domain::check(&op).map_err(status::domain)?;
        match self.commit(group, request_id, op, caller).await? {
            crate::raft::Outcome::Incident(r) => r.map_err(|e| Route::Fail(status::domain(e))),
            crate::raft::Outcome::Security(_) => Err(Route::Fail(Status::internal(
                "a security command answered an incident proposal",
            ))),
        }
    }

    /// Stamps `op` with the HLC and commits it through `group`'s Raft on this node, waiting at
    /// most the commit timeout; returns what apply answered. The one place commands meet
    /// `client_write` for proposals made here (handlers and leader tasks alike).
    pub async fn commit(
        &self,
        group: &Group,
        request_id: &str,
        op: Op,
        caller: Option<&str>,
    ) -> Result<crate::raft::Outcome, Route> {
        domain::validate::request_id(request_id).map_err(status::domain)?;
        let cmd = Command {
            request_id: request_id.to_owned(),
            stamp: self.clock.now(),
            op,
            caller: caller.unwrap_or_default().to_owned(),
        };
        let written = tokio::time::timeout(COMMIT_TIMEOUT, group.raft.client_write(cmd))
            .await
            .map_err(|_| {
                Status::unavailable("commit timed out (no quorum?); retry with the same request_id")
            })?;
        match written {
            Ok(resp) => Ok(resp.data),
            Err(e) => {
                Err(self.route_raft_error(group, e.forward_to_leader().cloned(), &e.to_string()))
            }
        }
    }

    /// Waits until this node may serve a read of `group` at `consistency`.
    pub async fn read_barrier(&self, group: &Group, consistency: i32) -> Result<(), Route> {
        if consistency == icc_proto::v1::Consistency::Local as i32 {
            return group.local_read_allowed(self.id).map_err(Route::Fail);
        }
        let r = tokio::time::timeout(
            COMMIT_TIMEOUT,
            group.raft.ensure_linearizable(ReadPolicy::ReadIndex),
        )
        .await
        .map_err(|_| {
            Status::unavailable(
                "linearizable read timed out (no quorum?); retry or read with consistency LOCAL",
            )
        })?;
        r.map(|_| ()).map_err(|e| {
            self.route_raft_error(group, e.forward_to_leader().cloned(), &e.to_string())
        })
    }

    fn route_raft_error(
        &self,
        group: &Group,
        fwd: Option<ForwardToLeader<TypeConfig>>,
        text: &str,
    ) -> Route {
        match fwd {
            Some(ForwardToLeader {
                leader_node: Some(NodeInfo { addr, .. }),
                leader_id: Some(id),
                ..
            }) if id != self.id => Route::Leader(addr),
            Some(_) => Route::Fail(Status::unavailable(format!(
                "group {}: no leader right now (election in progress); retry shortly",
                group.name
            ))),
            None => Route::Fail(Status::unavailable(format!(
                "group {}: {text}; retry",
                group.name
            ))),
        }
    }

    /// The status for a request that would need a second forward to a leader.
    pub fn no_second_hop(&self, group: &Group, addr: &str) -> Status {
        let mut s = Status::unavailable(format!(
            "node {} is not the leader of {} either (leader moved to {addr}); retry",
            self.id, group.name
        ));
        if let Ok(v) = MetadataValue::try_from(addr) {
            s.metadata_mut()
                .insert(icc_proto::LEADER_HINT_METADATA_KEY, v);
        }
        s
    }

    /// Builds the request this node sends on: to the leader of a group it hosts (`to_leader`),
    /// or to another region's node.
    pub fn onward_request<T>(&self, msg: T, hops: &Hops, to_leader: bool) -> Request<T> {
        let mut req = Request::new(msg);
        let md = req.metadata_mut();
        if to_leader {
            md.insert(FORWARDED_METADATA_KEY, MetadataValue::from_static("1"));
        }
        if let Some(v) = hops
            .caller
            .as_deref()
            .and_then(|c| MetadataValue::try_from(c).ok())
        {
            md.insert(icc_proto::security::CALLER_METADATA_KEY, v);
        }
        // The origin travels with every hop; the routing mark only across regions.
        let origin = self.origin_region(hops);
        if let Ok(v) = MetadataValue::try_from(origin.as_str()) {
            md.insert(ORIGIN_REGION_METADATA_KEY, v.clone());
            if !to_leader || hops.routed_from.is_some() {
                md.insert(ROUTED_FROM_METADATA_KEY, v);
            }
        }
        req.set_timeout(COMMIT_TIMEOUT + Duration::from_secs(1));
        req
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
