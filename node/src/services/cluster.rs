//! `icc.v1.ClusterService`: status of every member, membership changes, leader transfer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use icc_proto::v1 as pb;
use icc_proto::v1::cluster_service_server::ClusterService;
use openraft::ServerState;
use openraft::type_config::async_runtime::watch::WatchReceiver;
use tonic::{Request, Response, Status};

use super::{NodeCtx, Route, convert};
use crate::raft::NodeInfo;

/// How long status waits for each member.
const MEMBER_STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// tonic implementation of `icc.v1.ClusterService`.
pub struct ClusterApi {
    ctx: Arc<NodeCtx>,
}

impl ClusterApi {
    /// The service over the node's context.
    pub fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    fn local_status(&self) -> pb::NodeStatus {
        let g = &self.ctx.group;
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
            hlc: Some(convert::hlc(self.ctx.clock.now())),
            reachable: true,
            error: String::new(),
            clock_skew_rejections: self.ctx.clock.rejections(),
            voter,
            snapshot_index: m.snapshot.map_or(0, |l| l.index()),
            purged_index: m.purged.map_or(0, |l| l.index()),
        }
    }

    fn members(&self) -> BTreeMap<u64, NodeInfo> {
        let m = self
            .ctx
            .group
            .raft
            .metrics()
            .borrow_watched()
            .membership_config
            .clone();
        m.membership()
            .nodes()
            .map(|(id, n)| (*id, n.clone()))
            .collect()
    }

    async fn remote_status(&self, id: u64, node: NodeInfo) -> pb::NodeStatus {
        let unreachable = |error: String| pb::NodeStatus {
            node_id: id,
            addr: node.addr.clone(),
            region: node.region.clone(),
            reachable: false,
            error,
            ..Default::default()
        };
        let client = match self.ctx.peers.cluster(&node.addr) {
            Ok(c) => c,
            Err(e) => return unreachable(e.message().to_owned()),
        };
        let mut req = Request::new(pb::StatusRequest {
            local_only: true,
            group: String::new(),
        });
        req.set_timeout(MEMBER_STATUS_TIMEOUT);
        let mut client = client;
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

    fn membership_response(&self, log_index: u64) -> pb::MembershipResponse {
        let m = self
            .ctx
            .group
            .raft
            .metrics()
            .borrow_watched()
            .membership_config
            .clone();
        let voters: BTreeSet<u64> = m.membership().voter_ids().collect();
        let learners = m.membership().learner_ids().collect();
        pb::MembershipResponse {
            voters: voters.into_iter().collect(),
            learners,
            log_index,
        }
    }

    fn leader_only(
        &self,
        e: Option<&openraft::errors::ForwardToLeader<crate::raft::TypeConfig>>,
        text: String,
    ) -> Status {
        let route = match e {
            Some(f) => match &f.leader_node {
                Some(n) => Route::Leader(n.addr.clone()),
                None => Route::Fail(Status::unavailable("no leader right now; retry")),
            },
            None => Route::Fail(Status::failed_precondition(text)),
        };
        match route {
            Route::Leader(addr) => {
                let mut s = Status::unavailable(format!(
                    "not the leader; send this to the leader at {addr}"
                ));
                if let Ok(v) = tonic::metadata::MetadataValue::try_from(addr.as_str()) {
                    s.metadata_mut()
                        .insert(icc_proto::LEADER_HINT_METADATA_KEY, v);
                }
                s
            }
            Route::Fail(s) => s,
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
        if !msg.group.is_empty() && msg.group != self.ctx.group.name {
            return Err(Status::not_found(format!(
                "group: this node hosts no group named {:?}",
                msg.group
            )));
        }
        let local = self.local_status();
        let mut nodes = vec![];
        if msg.local_only {
            nodes.push(local.clone());
        } else {
            let mut pending = vec![];
            for (id, node) in self.members() {
                if id == self.ctx.id {
                    continue;
                }
                pending.push(self.remote_status(id, node));
            }
            nodes.push(local.clone());
            nodes.extend(futures::future::join_all(pending).await);
            nodes.sort_by_key(|n| n.node_id);
        }
        let group = pb::GroupStatus {
            group: self.ctx.group.name.clone(),
            leader_id: local.leader_id,
            term: local.term,
            nodes,
        };
        Ok(self.ctx.reply(pb::StatusResponse {
            groups: vec![group],
            served_by: Some(self.ctx.served_by(false)),
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
        match self
            .ctx
            .group
            .raft
            .add_learner(msg.node_id, node, true)
            .await
        {
            Ok(r) => Ok(self.ctx.reply(self.membership_response(r.log_id.index()))),
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
        match self.ctx.group.raft.change_membership(voters, false).await {
            Ok(r) => Ok(self.ctx.reply(self.membership_response(r.log_id.index()))),
            Err(e) => Err(self.leader_only(e.forward_to_leader(), e.to_string())),
        }
    }

    async fn transfer_leader(
        &self,
        req: Request<pb::TransferLeaderRequest>,
    ) -> Result<Response<pb::MembershipResponse>, Status> {
        let to = req.into_inner().to_node_id;
        let m = self.ctx.group.raft.metrics().borrow_watched().clone();
        if !m
            .membership_config
            .membership()
            .voter_ids()
            .any(|id| id == to)
        {
            return Err(Status::invalid_argument(format!(
                "to_node_id: node {to} is not a voter of this group"
            )));
        }
        if m.state != ServerState::Leader {
            let leader = m
                .current_leader
                .and_then(|l| Some((l, m.membership_config.membership().get_node(&l)?.clone())));
            return Err(match leader {
                Some((id, node)) => {
                    let fwd = openraft::errors::ForwardToLeader::new(id, node);
                    self.leader_only(Some(&fwd), "not the leader".into())
                }
                None => Status::unavailable("no leader right now; retry"),
            });
        }
        self.ctx
            .group
            .raft
            .trigger()
            .transfer_leader(to)
            .await
            .map_err(|e| Status::unavailable(format!("raft stopped: {e}")))?;
        Ok(self
            .ctx
            .reply(self.membership_response(m.last_applied.map_or(0, |l| l.index()))))
    }
}
