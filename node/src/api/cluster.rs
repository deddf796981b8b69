//! `icc.v1.ClusterService`: status of every group and member, membership changes of this
//! node's region group, leader transfer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use icc_proto::v1 as pb;
use icc_proto::v1::cluster_service_server::ClusterService;
use openraft::ServerState;
use openraft::errors::ForwardToLeader;
use openraft::type_config::async_runtime::watch::WatchReceiver;
use tonic::{Request, Response, Status};

use crate::cluster::{Group, NodeCtx};
use crate::domain::GLOBAL_GROUP;
use crate::raft::{NodeInfo, TypeConfig};

/// How long status waits for each member.
const MEMBER_STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// tonic implementation of `icc.v1.ClusterService`.
pub(crate) struct ClusterApi {
    ctx: Arc<NodeCtx>,
}

impl ClusterApi {
    /// The service over the node's context.
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    fn local_status(&self, g: &Group) -> pb::NodeStatus {
        let m = g.raft.metrics().borrow_watched().clone();
        let role = match m.state {
            ServerState::Leader => pb::Role::Leader,
            ServerState::Follower => pb::Role::Follower,
            ServerState::Candidate => pb::Role::Candidate,
            ServerState::Learner => pb::Role::Learner,
            ServerState::Shutdown => pb::Role::Shutdown,
        };
        let membership = m.membership_config.membership();
        let voter = membership.voter_ids().any(|id| id == self.ctx.id);
        let addr = membership
            .get_node(&self.ctx.id)
            .map(|n| n.addr.clone())
            .unwrap_or_default();
        pb::NodeStatus {
            node_id: self.ctx.id,
            addr,
            region: self.ctx.region.clone(),
            role: role as i32,
            term: m.current_term,
            leader_id: m.current_leader.unwrap_or(0),
            last_log_index: m.last_log_index.unwrap_or(0),
            committed_index: m.local_committed.map_or(0, |l| l.index()),
            applied_index: m.last_applied.map_or(0, |l| l.index()),
            hlc: Some(self.ctx.hlc()),
            reachable: true,
            error: String::new(),
            clock_skew_rejections: self.ctx.clock.rejections(),
            voter,
            clock_refused_by: self.ctx.peers.clock_refused_by().len() as u32,
            snapshot_index: m.snapshot.map_or(0, |l| l.index()),
            purged_index: m.purged.map_or(0, |l| l.index()),
        }
    }

    /// Members of `group`: from the replicated membership where this node hosts it, else from
    /// the cluster file.
    fn members(&self, group: &str) -> BTreeMap<u64, NodeInfo> {
        if let Some(g) = self.ctx.groups.get(group) {
            let m = g.raft.metrics().borrow_watched().membership_config.clone();
            return m
                .membership()
                .nodes()
                .map(|(id, n)| (*id, n.clone()))
                .collect();
        }
        self.ctx
            .topology
            .group_members(group)
            .into_iter()
            .map(|n| {
                (
                    n.id,
                    NodeInfo {
                        addr: n.addr.clone(),
                        region: n.region.clone(),
                    },
                )
            })
            .collect()
    }

    async fn remote_status(&self, group: &str, id: u64, node: NodeInfo) -> pb::NodeStatus {
        let unreachable = |error: String| pb::NodeStatus {
            node_id: id,
            addr: node.addr.clone(),
            region: node.region.clone(),
            reachable: false,
            error,
            ..Default::default()
        };
        let mut client = match self.ctx.peers.cluster(&node.addr) {
            Ok(c) => c,
            Err(e) => return unreachable(e.message().to_owned()),
        };
        let mut req = Request::new(pb::StatusRequest {
            local_only: true,
            group: group.to_owned(),
        });
        req.set_timeout(MEMBER_STATUS_TIMEOUT);
        match tokio::time::timeout(MEMBER_STATUS_TIMEOUT, client.status(req)).await {
            Ok(Ok(resp)) => resp
                .into_inner()
                .groups
                .into_iter()
                .next()
                .and_then(|g| g.nodes.into_iter().next())
                .unwrap_or_else(|| unreachable("empty status answer".into())),
            Ok(Err(s)) => unreachable(format!("{}: {}", s.code(), s.message())),
            Err(_) => unreachable("no answer within 1s".into()),
        }
    }

    fn membership_response(&self, g: &Group, log_index: u64) -> pb::MembershipResponse {
        let m = g.raft.metrics().borrow_watched().membership_config.clone();
        let voters: BTreeSet<u64> = m.membership().voter_ids().collect();
        let learners = m.membership().learner_ids().collect();
        pb::MembershipResponse {
            voters: voters.into_iter().collect(),
            learners,
            log_index,
        }
    }

    /// The status for a membership call that only the leader can make.
    fn leader_only(&self, fwd: Option<&ForwardToLeader<TypeConfig>>, text: String) -> Status {
        match fwd {
            Some(f) => match &f.leader_node {
                Some(n) => {
                    let mut s = Status::unavailable(format!(
                        "not the leader; send this to the leader at {}",
                        n.addr
                    ));
                    if let Ok(v) = tonic::metadata::MetadataValue::try_from(n.addr.as_str()) {
                        s.metadata_mut()
                            .insert(icc_proto::LEADER_HINT_METADATA_KEY, v);
                    }
                    s
                }
                None => Status::unavailable("no leader right now; retry"),
            },
            None => Status::failed_precondition(text),
        }
    }
}

#[tonic::async_trait]
impl ClusterService for ClusterApi {
    async fn status(
        &self,
        req: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let msg = req.into_inner();
        let names: Vec<String> = if msg.group.is_empty() {
            let mut all: Vec<String> = self
                .ctx
                .topology
                .regions
                .iter()
                .map(|r| r.name.clone())
                .collect();
            all.push(GLOBAL_GROUP.to_owned());
            if msg.local_only {
                all.retain(|n| self.ctx.groups.contains_key(n));
            }
            all
        } else {
            vec![msg.group.clone()]
        };
        let mut groups = Vec::new();
        for name in names {
            let hosted = self.ctx.groups.get(&name).cloned();
            let mut nodes = Vec::new();
            if msg.local_only {
                let g = hosted.ok_or_else(|| {
                    Status::not_found(format!(
                        "group: node {} hosts no group named {name:?}",
                        self.ctx.id
                    ))
                })?;
                nodes.push(self.local_status(&g));
            } else {
                let mut pending = Vec::new();
                for (id, node) in self.members(&name) {
                    match (&hosted, id == self.ctx.id) {
                        (Some(g), true) => nodes.push(self.local_status(g)),
                        _ => pending.push(self.remote_status(&name, id, node)),
                    }
                }
                nodes.extend(futures::future::join_all(pending).await);
                nodes.sort_by_key(|n| n.node_id);
            }
            // The group's leader and term as its reachable members see them (highest term wins).
            let view = nodes
                .iter()
                .filter(|n| n.reachable)
                .max_by_key(|n| (n.term, n.leader_id != 0));
            groups.push(pb::GroupStatus {
                group: name,
                leader_id: view.map_or(0, |n| n.leader_id),
                term: view.map_or(0, |n| n.term),
                nodes,
            });
        }
        let home = self.ctx.home()?;
        let residency_exports = self
            .ctx
            .topology
            .exports
            .iter()
            .map(|e| format!("{} -> {}", e.from, e.to))
            .collect();
        Ok(self.ctx.reply(pb::StatusResponse {
            groups,
            served_by: Some(self.ctx.served_by(&home, false)),
            residency_exports,
        }))
    }

    async fn add_learner(
        &self,
        req: Request<pb::AddLearnerRequest>,
    ) -> Result<Response<pb::MembershipResponse>, Status> {
        let msg = req.into_inner();
        if msg.node_id == 0 {
            return Err(Status::invalid_argument("node_id: must be at least 1"));
        }
        if msg.addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(Status::invalid_argument("addr: must be ip:port"));
        }
        let region = if msg.region.is_empty() {
            self.ctx.region.clone()
        } else {
            msg.region
        };
        let node = NodeInfo {
            addr: msg.addr,
            region,
        };
        let g = self.ctx.home()?;
        match g.raft.add_learner(msg.node_id, node, true).await {
            Ok(r) => Ok(self
                .ctx
                .reply(self.membership_response(&g, r.log_id.index()))),
            Err(e) => Err(self.leader_only(e.forward_to_leader(), e.to_string())),
        }
    }

    async fn change_membership(
        &self,
        req: Request<pb::ChangeMembershipRequest>,
    ) -> Result<Response<pb::MembershipResponse>, Status> {
        let voters: BTreeSet<u64> = req.into_inner().voters.into_iter().collect();
        if voters.is_empty() {
            return Err(Status::invalid_argument(
                "voters: must name at least one node",
            ));
        }
        let g = self.ctx.home()?;
        match g.raft.change_membership(voters, false).await {
            Ok(r) => Ok(self
                .ctx
                .reply(self.membership_response(&g, r.log_id.index()))),
            Err(e) => Err(self.leader_only(e.forward_to_leader(), e.to_string())),
        }
    }

    async fn transfer_leader(
        &self,
        req: Request<pb::TransferLeaderRequest>,
    ) -> Result<Response<pb::MembershipResponse>, Status> {
        let to = req.into_inner().to_node_id;
        let g = self.ctx.home()?;
        let m = g.raft.metrics().borrow_watched().clone();
        let membership = m.membership_config.membership();
        if !membership.voter_ids().any(|id| id == to) {
            return Err(Status::invalid_argument(format!(
                "to_node_id: node {to} is not a voter of this group"
            )));
        }
        if m.state != ServerState::Leader {
            let leader = m
                .current_leader
                .and_then(|l| Some((l, membership.get_node(&l)?.clone())));
            return Err(match leader {
                Some((id, node)) => self.leader_only(
                    Some(&ForwardToLeader::new(id, node)),
                    "not the leader".into(),
                ),
                None => Status::unavailable("no leader right now; retry"),
            });
        }
        g.raft
            .trigger()
            .transfer_leader(to)
            .await
            .map_err(|e| Status::unavailable(format!("raft stopped: {e}")))?;
        Ok(self
            .ctx
            .reply(self.membership_response(&g, m.last_applied.map_or(0, |l| l.index()))))
    }
}
