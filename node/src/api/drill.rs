//! `icc.v1.DrillService`: the node's side of `icc drill failover` and `icc drill report`.
//!
//! The CLI runs a drill (workload, fault, measurements); the nodes do the two things it cannot
//! do from outside: crash on request (`Crash`, only when the cluster file sets
//! `[drills] allow_kill = true`, so a production cluster opts in) and keep the record of every
//! drill in the global group (`Record`, a drill command there: replicated, once per request id,
//! in the audit chain; `List` reads them back, with claimed scheduled slots that never got a
//! record).

use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::drill_service_client::DrillServiceClient;
use icc_proto::v1::drill_service_server::DrillService;
use tonic::{Request, Response, Status};

use super::{caller, convert, unpack};
use crate::cluster::{Hops, NodeCtx, Route, status};
use crate::domain::GLOBAL_GROUP;
use crate::domain::drill::schedule::unfinished;
use crate::domain::drill::{DrillOp, DrillReply};
use crate::domain::rbac::Principal;
use crate::raft::peers::PeerChannel;

/// tonic implementation of `icc.v1.DrillService`.
pub(crate) struct DrillApi {
    ctx: Arc<NodeCtx>,
}

impl DrillApi {
    /// The service over the node's context.
    pub(crate) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }
}

/// The drill service client over a peer channel (requests this node sends on).
fn client(ch: PeerChannel) -> DrillServiceClient<PeerChannel> {
    DrillServiceClient::new(ch)
}

#[tonic::async_trait]
impl DrillService for DrillApi {
    async fn crash(
        &self,
        req: Request<pb::CrashRequest>,
    ) -> Result<Response<pb::CrashResponse>, Status> {
        let who = caller(&req)?;
        let msg = req.into_inner();
        if msg.node_id != self.ctx.id {
            return Err(Status::failed_precondition(format!(
                "node_id: this is node {}, not node {}",
                self.ctx.id, msg.node_id
            )));
        }
        if !self.ctx.topology.drills.allow_kill {
            return Err(Status::failed_precondition(
                "drills.allow_kill: false in the cluster file; set `[drills] allow_kill = true` \
                 (and run the nodes under a supervisor that restarts them) to allow --kill drills",
            ));
        }
        tracing::warn!(
            by = %who.name(),
            reason = %msg.reason,
            "drill: crashing on request, without a graceful shutdown"
        );
        // Answer first, then exit: no leadership transfer, no flush, no Raft shutdown, like a
        // kill -9 (the OS keeps what RocksDB already wrote; nothing else is saved).
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::process::exit(137);
        });
        Ok(self.ctx.reply(pb::CrashResponse {
            node_id: self.ctx.id,
        }))
    }

    async fn record(
        &self,
        req: Request<pb::RecordDrillRequest>,
    ) -> Result<Response<pb::RecordDrillResponse>, Status> {
        let (who, hops, msg) = unpack(req)?;
        let drill = msg
            .drill
            .clone()
            .ok_or_else(|| Status::invalid_argument("drill: required"))?;
        let mut record = convert::drill_of(drill, who.name());
        match who {
            // Only a node's scheduler runs scheduled slots; its record says so.
            Principal::Node(id) if !record.slot.is_empty() => {
                record.who = format!("scheduler (node {id})");
            }
            // `--insecure-plaintext`: nobody is authenticated, so the slot is taken as given
            // (dropping it would leave the slot's claim looking unfinished forever).
            Principal::Unchecked if !record.slot.is_empty() => {
                record.who = "scheduler (unauthenticated)".to_owned();
            }
            _ => {
                record.schedule.clear();
                record.slot.clear();
            }
        }
        let request_id = format!("drill/{}", record.id);
        let op = DrillOp::Record {
            by: record.who.clone(),
            record,
        };
        self.ctx
            .route(
                GLOBAL_GROUP,
                hops,
                msg,
                |g| async move {
                    match self.ctx.commit(&g, &request_id, op, None).await? {
                        DrillReply::Recorded(stored) => Ok(pb::RecordDrillResponse {
                            drill: Some(convert::drill_pb(&stored)),
                        }),
                        DrillReply::Claimed(_) => Err(Route::Fail(Status::failed_precondition(
                            format!("request_id: {request_id} names a slot claim, not a drill"),
                        ))),
                    }
                },
                |ch, r| async move { client(ch).record(r).await },
            )
            .await
    }

    async fn list(
        &self,
        req: Request<pb::ListDrillsRequest>,
    ) -> Result<Response<pb::ListDrillsResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let region = msg.region.clone();
        self.ctx
            .route(
                GLOBAL_GROUP,
                hops,
                msg,
                |g| async move {
                    let records = g.store.drills().map_err(status::storage)?;
                    let claims = g.store.drill_claims().map_err(status::storage)?;
                    let drills = records
                        .iter()
                        .map(convert::drill_pb)
                        .chain(
                            unfinished(&claims, &records)
                                .into_iter()
                                .map(convert::unfinished_pb),
                        )
                        .filter(|d| region.is_empty() || d.region == region)
                        .collect();
                    Ok::<_, Route>(pb::ListDrillsResponse { drills })
                },
                |ch, r| async move { client(ch).list(r).await },
            )
            .await
    }
}
