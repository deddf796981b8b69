//! `icc.v1.IncidentService`: declare, read, change, annotate and watch incidents. Writes are in
//! `write.rs`, reads and merged timelines in `read.rs`, the change feed in `watch.rs`; this
//! file holds what they share and the service's one impl block, which only delegates.

mod read;
mod watch;
mod write;

use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use icc_proto::v1::incident_service_server::IncidentService;
use tonic::{Request, Response, Status};

use crate::cluster::{Group, Hops, NodeCtx, Route, status};
use crate::domain::DomainError;
use crate::domain::incident::{Applied, IncidentOp};
use crate::raft::peers::PeerChannel;

/// tonic implementation of `icc.v1.IncidentService`.
pub(crate) struct IncidentApi {
    ctx: Arc<NodeCtx>,
}

impl IncidentApi {
    /// The service over the node's context.
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    /// The region a request names, or this node's; unknown regions are refused.
    fn region_or_home(&self, region: &str) -> Result<String, Status> {
        if region.is_empty() {
            return Ok(self.ctx.region.clone());
        }
        if self.ctx.topology.jurisdiction(region).is_none() {
            let known: Vec<&str> = self
                .ctx
                .topology
                .regions
                .iter()
                .map(|r| r.name.as_str())
                .collect();
            return Err(invalid(DomainError::invalid(
                "region",
                format!("unknown region {region:?}; known: {}", known.join(", ")),
            )));
        }
        Ok(region.to_owned())
    }

    /// Commits `op` in `group` for the request's caller, on this node (the group's leader);
    /// the changed incident, or where to go instead.
    async fn commit(
        &self,
        group: &Group,
        request_id: &str,
        op: IncidentOp,
        hops: &Hops,
    ) -> Result<Applied, Route> {
        let reply = self
            .ctx
            .commit(group, request_id, op, hops.caller.as_deref())
            .await?;
        reply.into_applied().map_err(|e| Route::Fail(invalid(e)))
    }
}

/// The incident service client over a peer channel (requests this node sends on).
fn client(ch: PeerChannel) -> IncidentServiceClient<PeerChannel> {
    IncidentServiceClient::new(ch)
}

/// A domain refusal as a gRPC status.
fn invalid(e: DomainError) -> Status {
    status::domain(e)
}

type Resp<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl IncidentService for IncidentApi {
    async fn declare_incident(
        &self,
        req: Request<pb::DeclareIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.declare(req).await
    }

    async fn get_incident(
        &self,
        req: Request<pb::GetIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.get(req).await
    }

    async fn list_incidents(
        &self,
        req: Request<pb::ListIncidentsRequest>,
    ) -> Resp<pb::ListIncidentsResponse> {
        self.list(req).await
    }

    async fn update_incident(
        &self,
        req: Request<pb::UpdateIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.update(req).await
    }

    async fn append_timeline(
        &self,
        req: Request<pb::AppendTimelineRequest>,
    ) -> Resp<pb::AppendTimelineResponse> {
        self.note(req).await
    }

    async fn get_timeline(
        &self,
        req: Request<pb::GetTimelineRequest>,
    ) -> Resp<pb::GetTimelineResponse> {
        self.timeline(req).await
    }

    async fn declare_global_incident(
        &self,
        req: Request<pb::DeclareGlobalIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.declare_global(req).await
    }

    async fn change_war_room(
        &self,
        req: Request<pb::WarRoomRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.war_room(req).await
    }

    async fn set_legal_hold(
        &self,
        req: Request<pb::SetLegalHoldRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.legal_hold(req).await
    }

    type WatchIncidentsStream = watch::ChangeStream;

    async fn watch_incidents(
        &self,
        req: Request<pb::WatchIncidentsRequest>,
    ) -> Resp<Self::WatchIncidentsStream> {
        self.watch(req).await
    }
}
