//! The ONE commit path: every command, whether a client's (through a handler) or a leader
//! task's, is checked, stamped with this node's HLC and written through its group's Raft here;
//! and the read barrier that linearizable reads wait on.

use std::time::Duration;

use openraft::ReadPolicy;
use openraft::errors::ForwardToLeader;
use tonic::Status;

use super::route::Route;
use super::{Group, NodeCtx, status};
use crate::domain::{Command, Registered, validate};
use crate::raft::{NodeInfo, TypeConfig};

/// How long a write may wait for Raft to commit before the client is told to retry.
pub(crate) const COMMIT_TIMEOUT: Duration = Duration::from_secs(5);

impl NodeCtx {
    /// Checks `op`, stamps it with the HLC and commits it through `group`'s Raft on this node,
    /// waiting at most the commit timeout; returns what apply answered. `caller` is the
    /// identity this node (or the node that forwarded the request) authenticated; apply audits
    /// it as the actor. `Route::Leader` when another node leads the group.
    pub(crate) async fn commit<A: Registered>(
        &self,
        group: &Group,
        request_id: &str,
        op: A,
        caller: Option<&str>,
    ) -> Result<A::Reply, Route> {
        op.check().map_err(status::domain)?;
        validate::request_id(request_id).map_err(status::domain)?;
        let cmd = Command {
            request_id: request_id.to_owned(),
            stamp: self.clock.now(),
            op: op.into(),
            caller: caller.unwrap_or_default().to_owned(),
        };
        let written = tokio::time::timeout(COMMIT_TIMEOUT, group.raft.client_write(cmd))
            .await
            .map_err(|_| {
                Status::unavailable("commit timed out (no quorum?); retry with the same request_id")
            })?;
        let outcome = match written {
            Ok(resp) => resp.data,
            Err(e) => {
                return Err(self.route_raft_error(
                    group,
                    e.forward_to_leader().cloned(),
                    &e.to_string(),
                ));
            }
        };
        let reply = outcome.map_err(|e| Route::Fail(status::domain(e)))?;
        A::reply_of(reply).ok_or_else(|| {
            Route::Fail(Status::failed_precondition(format!(
                "request_id: {request_id} was already used for another kind of command; use a new request id"
            )))
        })
    }

    /// Waits until this node may serve a read of `group` at `consistency`.
    pub(crate) async fn read_barrier(&self, group: &Group, consistency: i32) -> Result<(), Route> {
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
                "group {}: no leader right now (election in progress); retry",
                group.name
            ))),
            None => Route::Fail(Status::unavailable(format!(
                "group {}: {text}; retry",
                group.name
            ))),
        }
    }
}
