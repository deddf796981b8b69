//! The writes: declare (regional and global), update, note, war room, legal hold. Each builds
//! its domain command here, on the node that received it, and commits it in the incident's
//! group (here, at its leader, or in its region; see `NodeCtx::route`).

use std::future::Future;

use icc_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{IncidentApi, Resp, client, invalid};
use crate::api::convert;
use crate::cluster::{Hops, group_of_incident};
use crate::domain::incident::{
    Declare, DeclareGlobal, IncidentOp, Note, SetLegalHold, Severity, Update,
};
use crate::domain::policy::Versioned;
use crate::domain::{Aggregate, DomainError, GLOBAL_GROUP};
use crate::raft::peers::PeerChannel;

impl IncidentApi {
    /// The write path shared by the RPCs that answer with an incident: commit `op` in `group`
    /// and answer as the reader may see it; `call` sends the request on when this node cannot.
    async fn change<M, Call, Fut>(
        &self,
        group: &str,
        hops: Hops,
        msg: M,
        request_id: String,
        op: IncidentOp,
        call: Call,
    ) -> Resp<pb::IncidentResponse>
    where
        M: Clone,
        Call: Fn(PeerChannel, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<pb::IncidentResponse>, Status>>,
    {
        // Refused here, before any hop: a malformed request is never sent on.
        op.check().map_err(invalid)?;
        let fwd = hops.forwarded;
        let reader = self.ctx.reader(group, &hops);
        self.ctx
            .route(
                group,
                hops.clone(),
                msg,
                |g| async move {
                    let applied = self.commit(&g, &request_id, op, &hops).await?;
                    Ok(pb::IncidentResponse {
                        incident: Some(convert::incident_for(&applied.incident, &reader).0),
                        served_by: Some(self.ctx.served_by(&g, fwd)),
                    })
                },
                call,
            )
            .await
    }

    pub(super) async fn declare(
        &self,
        req: Request<pb::DeclareIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let region = self.region_or_home(&msg.region)?;
        let policy = self.ctx.policy.get().severity.clone();
        let (severity, classified_by) = classify(&policy, &msg)?;
        let op = IncidentOp::Declare(Declare {
            region: region.clone(),
            title: msg.title.clone(),
            severity,
            service: msg.service.clone(),
            commander: msg.commander.clone(),
            author: msg.author.clone(),
            parent_id: msg.parent_id.clone(),
            details: msg.details.clone(),
            customer_ids: msg.customer_ids.clone(),
            sla: policy.targets(severity),
            channels: self.ctx.topology.channels(),
            policy_version: policy.record.version,
            classified_by,
        });
        let request_id = msg.request_id.clone();
        self.change(&region, hops, msg, request_id, op, |ch, r| async move {
            client(ch).declare_incident(r).await
        })
        .await
    }

    pub(super) async fn declare_global(
        &self,
        req: Request<pb::DeclareGlobalIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        for region in &msg.regions {
            self.region_or_home(region)?;
        }
        let op = IncidentOp::DeclareGlobal(DeclareGlobal {
            title: msg.title.clone(),
            severity: convert::severity("severity", msg.severity).map_err(invalid)?,
            service: msg.service.clone(),
            commander: msg.commander.clone(),
            author: msg.author.clone(),
            regions: msg.regions.clone(),
        });
        let request_id = msg.request_id.clone();
        self.change(
            GLOBAL_GROUP,
            hops,
            msg,
            request_id,
            op,
            |ch, r| async move { client(ch).declare_global_incident(r).await },
        )
        .await
    }

    pub(super) async fn update(
        &self,
        req: Request<pb::UpdateIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let group = group_of_incident(&msg.id).to_owned();
        let op = IncidentOp::Update(Update {
            id: msg.id.clone(),
            title: msg.title.clone(),
            severity: msg
                .severity
                .map(|s| convert::severity("severity", s))
                .transpose()
                .map_err(invalid)?,
            status: msg
                .status
                .map(|s| convert::status("status", s))
                .transpose()
                .map_err(invalid)?,
            commander: msg.commander.clone(),
            reason: msg.reason.clone(),
            author: msg.author.clone(),
            classifier: msg.classifier.clone(),
            channels: self.ctx.topology.channels(),
            roles: msg
                .assign_roles
                .iter()
                .map(|r| (r.role.clone(), r.person.clone()))
                .collect(),
            // Only a close needs them: retention counts from the close.
            retention: if msg.status == Some(pb::Status::Closed as i32) {
                self.ctx.topology.retention_rules(&group)
            } else {
                Vec::new()
            },
        });
        let request_id = msg.request_id.clone();
        self.change(&group, hops, msg, request_id, op, |ch, r| async move {
            client(ch).update_incident(r).await
        })
        .await
    }

    pub(super) async fn war_room(
        &self,
        req: Request<pb::WarRoomRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = IncidentOp::WarRoom(convert::war_room_change(&msg).map_err(invalid)?);
        let (request_id, group) = (
            msg.request_id.clone(),
            group_of_incident(&msg.id).to_owned(),
        );
        self.change(&group, hops, msg, request_id, op, |ch, r| async move {
            client(ch).change_war_room(r).await
        })
        .await
    }

    pub(super) async fn legal_hold(
        &self,
        req: Request<pb::SetLegalHoldRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        // A hold is a legal act: without a name, it is recorded under the authenticated caller.
        let author = match (msg.author.trim(), &hops.caller) {
            ("", Some(caller)) => caller.clone(),
            _ => msg.author.clone(),
        };
        let op = IncidentOp::SetLegalHold(SetLegalHold {
            id: msg.id.clone(),
            hold: msg.hold,
            reason: msg.reason.clone(),
            author,
        });
        let (request_id, group) = (
            msg.request_id.clone(),
            group_of_incident(&msg.id).to_owned(),
        );
        self.change(&group, hops, msg, request_id, op, |ch, r| async move {
            client(ch).set_legal_hold(r).await
        })
        .await
    }

    /// A note answers with the event it recorded as well as the incident.
    pub(super) async fn note(
        &self,
        req: Request<pb::AppendTimelineRequest>,
    ) -> Resp<pb::AppendTimelineResponse> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = IncidentOp::Note(Note {
            id: msg.id.clone(),
            author: msg.author.clone(),
            text: msg.text.clone(),
            restricted: msg.restricted,
            status_update: msg.status_update,
        });
        op.check().map_err(invalid)?;
        let (request_id, fwd, group) = (
            msg.request_id.clone(),
            hops.forwarded,
            group_of_incident(&msg.id).to_owned(),
        );
        let reader = self.ctx.reader(&group, &hops);
        self.ctx
            .route(
                &group,
                hops.clone(),
                msg,
                |g| async move {
                    let a = self.commit(&g, &request_id, op, &hops).await?;
                    let (events, _) = convert::events_for(&a.incident.id, &a.events, &reader);
                    Ok(pb::AppendTimelineResponse {
                        event: events.last().cloned(),
                        incident: Some(convert::incident_for(&a.incident, &reader).0),
                        served_by: Some(self.ctx.served_by(&g, fwd)),
                    })
                },
                |ch, r| async move { client(ch).append_timeline(r).await },
            )
            .await
    }
}

/// The severity of a declare: the one given, else the one the policy's impact x exposure matrix
/// proposes (and which cell chose it, for the timeline).
fn classify(
    policy: &Versioned,
    msg: &pb::DeclareIncidentRequest,
) -> Result<(Severity, String), Status> {
    let by_matrix = !msg.impact.is_empty() || !msg.exposure.is_empty();
    if msg.severity != 0 || !by_matrix {
        return Ok((
            convert::severity("severity", msg.severity).map_err(invalid)?,
            String::new(),
        ));
    }
    let (impacts, exposures) = policy.policy.axes();
    let Some(cell) = policy.policy.classify(&msg.impact, &msg.exposure) else {
        let (field, known) = if impacts.contains(&msg.impact.as_str()) {
            ("exposure", exposures.join(", "))
        } else {
            ("impact", impacts.join(", "))
        };
        return Err(invalid(DomainError::invalid(
            field,
            format!(
                "no cell for {:?} x {:?} in severity policy v{}; known: {known}",
                msg.impact, msg.exposure, policy.record.version
            ),
        )));
    };
    let severity = match cell.severity.as_str() {
        "sev1" => Severity::Sev1,
        "sev2" => Severity::Sev2,
        "sev3" => Severity::Sev3,
        _ => Severity::Sev4,
    };
    Ok((
        severity,
        format!(
            "policy v{} matrix: {} x {}",
            policy.record.version, cell.impact, cell.exposure
        ),
    ))
}
