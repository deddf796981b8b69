//! `icc.v1.IncidentService`: declare, read, change, annotate and watch incidents.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use icc_proto::v1 as pb;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use icc_proto::v1::incident_service_server::IncidentService;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status};

use super::{Group, Hops, Located, NodeCtx, Route, convert, group_of_incident, status};
use crate::domain::{
    Applied, Declare, DeclareGlobal, DomainError, GLOBAL_PREFIX, Incident, Note, Op, SetLegalHold,
    Update, validate,
};
use crate::peers::PeerChannel;
use crate::raft::state_machine::ChangeRecord;

/// Largest page of ListIncidents.
const MAX_PAGE: usize = 1000;
/// Page size when the request names none.
const DEFAULT_PAGE: usize = 100;
/// How long a merged timeline waits for each region's child timeline.
const CHILD_TIMELINE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// tonic implementation of `icc.v1.IncidentService`.
pub struct IncidentApi {
    ctx: Arc<NodeCtx>,
}

impl IncidentApi {
    /// The service over the node's context.
    pub fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    /// Runs `local` on group `group` if this node hosts it; otherwise, or when `local` says the
    /// leader is elsewhere, sends `msg` on with `call`: to the leader (once), or to the nodes of
    /// the group's region in turn until one answers.
    async fn serve<M, Resp, Local, LFut, Call, CFut>(
        &self,
        group: &str,
        hops: Hops,
        msg: M,
        local: Local,
        call: Call,
    ) -> Result<Response<Resp>, Status>
    where
        M: Clone,
        Local: FnOnce(Arc<Group>) -> LFut,
        LFut: Future<Output = Result<Resp, Route>>,
        Call: Fn(IncidentServiceClient<PeerChannel>, Request<M>) -> CFut,
        CFut: Future<Output = Result<Response<Resp>, Status>>,
    {
        match self.ctx.locate(group, &hops)? {
            Located::Here(g) => match local(g.clone()).await {
                Ok(resp) => Ok(self.ctx.reply(resp)),
                Err(Route::Leader(addr)) if hops.forwarded => {
                    Err(self.ctx.no_second_hop(&g, &addr))
                }
                Err(Route::Leader(addr)) => {
                    let req = self.ctx.onward_request(msg, &hops, true);
                    let answer = call(self.ctx.peers.incidents(&addr)?, req).await;
                    if let Err(s) = &answer {
                        self.ctx.note_refusal(&addr, s);
                    }
                    answer.map_err(|s| unreachable_peer(&addr, s))
                }
                Err(Route::Fail(s)) => Err(s),
            },
            Located::Elsewhere(addrs) => {
                // Emulated distance between regions (cluster file `latency`), zero by default.
                let delay = self.ctx.topology.latency(&self.ctx.region, group);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut last = Status::unavailable(format!("no node of group {group} answered"));
                for addr in addrs {
                    let req = self.ctx.onward_request(msg.clone(), &hops, false);
                    let answer = call(self.ctx.peers.incidents(&addr)?, req)
                        .await
                        .map_err(|s| unreachable_peer(&addr, s));
                    if let Err(s) = &answer {
                        self.ctx.note_refusal(&addr, s);
                    }
                    match answer {
                        Err(s)
                            if matches!(
                                s.code(),
                                Code::Unavailable | Code::DeadlineExceeded | Code::Unknown
                            ) =>
                        {
                            last = Status::unavailable(format!(
                                "group {group}: node {addr} did not answer ({}); no node of the region answered",
                                s.message()
                            ));
                        }
                        answer => return answer,
                    }
                }
                Err(last)
            }
        }
    }

    /// The write path shared by the RPCs that answer with an incident: check the operation,
    /// commit it in `group` (here, at the leader, or in its region) and answer as the reader may
    /// see it.
    async fn write_incident<M, Call, CFut>(
        &self,
        group: &str,
        hops: Hops,
        msg: M,
        request_id: String,
        op: Op,
        call: Call,
    ) -> Result<Response<pb::IncidentResponse>, Status>
    where
        M: Clone,
        Call: Fn(IncidentServiceClient<PeerChannel>, Request<M>) -> CFut,
        CFut: Future<Output = Result<Response<pb::IncidentResponse>, Status>>,
    {
        crate::domain::check(&op).map_err(invalid)?;
        let fwd = hops.forwarded;
        let reader = self.ctx.reader(group, &hops);
        let caller = hops.caller.clone();
        self.serve(
            group,
            hops,
            msg,
            |g| async move {
                let applied = self
                    .ctx
                    .propose_as(&g, &request_id, op, caller.as_deref())
                    .await?;
                Ok(self.incident_response(&g, &applied, fwd, &reader))
            },
            call,
        )
        .await
    }

    fn incident_response(
        &self,
        g: &Group,
        applied: &Applied,
        forwarded: bool,
        reader: &convert::Reader,
    ) -> pb::IncidentResponse {
        pb::IncidentResponse {
            incident: Some(convert::incident_for(&applied.incident, reader).0),
            served_by: Some(self.ctx.served_by(g, forwarded)),
        }
    }

    /// The timelines of a global incident's linked children, fetched in parallel (one fan-out,
    /// each through the normal routing), plus the regions that did not answer in time.
    async fn child_timelines(
        &self,
        incident: &Incident,
        origin: &str,
        caller: Option<&str>,
    ) -> (Vec<pb::TimelineEvent>, Vec<String>) {
        let fetches = incident.children.iter().filter_map(|c| {
            let child = c.incident_id.clone()?;
            let region = c.region.clone();
            let mut req = Request::new(pb::GetTimelineRequest {
                id: child,
                consistency: pb::Consistency::Linearizable as i32,
            });
            // The child's home node redacts for the original reader, not for this node.
            if let Ok(v) = tonic::metadata::MetadataValue::try_from(origin) {
                req.metadata_mut()
                    .insert(icc_proto::ORIGIN_REGION_METADATA_KEY, v);
            }
            // ... and acts for the original caller.
            if let Some(v) = caller.and_then(|c| tonic::metadata::MetadataValue::try_from(c).ok()) {
                req.metadata_mut()
                    .insert(icc_proto::security::CALLER_METADATA_KEY, v);
            }
            Some(async move {
                let answer =
                    tokio::time::timeout(CHILD_TIMELINE_DEADLINE, self.get_timeline(req)).await;
                (region, answer)
            })
        });
        let mut events = Vec::new();
        let mut unavailable = Vec::new();
        for (region, answer) in futures::future::join_all(fetches).await {
            match answer {
                Ok(Ok(resp)) => events.extend(resp.into_inner().events),
                Ok(Err(status)) => {
                    tracing::warn!(%region, "child timeline unavailable: {}", status.message());
                    unavailable.push(region);
                }
                Err(_) => {
                    tracing::warn!(%region, "child timeline not fetched within {CHILD_TIMELINE_DEADLINE:?}");
                    unavailable.push(region);
                }
            }
        }
        (events, unavailable)
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
}

fn invalid(e: DomainError) -> Status {
    status::domain(e)
}

/// The severity of a declare: the one given, else the one the policy's impact x exposure matrix
/// proposes (and which cell chose it, for the timeline).
fn classify(
    policy: &crate::severity::Versioned,
    msg: &pb::DeclareIncidentRequest,
) -> Result<(crate::domain::Severity, String), Status> {
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
        "sev1" => crate::domain::Severity::Sev1,
        "sev2" => crate::domain::Severity::Sev2,
        "sev3" => crate::domain::Severity::Sev3,
        _ => crate::domain::Severity::Sev4,
    };
    Ok((
        severity,
        format!(
            "policy v{} matrix: {} x {}",
            policy.record.version, cell.impact, cell.exposure
        ),
    ))
}

/// NOT_FOUND for an incident this group does not hold: "purged on ... under ..." when its
/// tombstone says so, else plainly not found.
fn missing(g: &Group, id: &str) -> Status {
    match g.state.tombstone(id) {
        Ok(Some(t)) => status::domain(t.error()),
        Ok(None) => status::domain(DomainError::NotFound { id: id.to_owned() }),
        Err(e) => status::storage(e),
    }
}

type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::IncidentChange, Status>> + Send>>;

#[tonic::async_trait]
impl IncidentService for IncidentApi {
    async fn declare_incident(
        &self,
        req: Request<pb::DeclareIncidentRequest>,
    ) -> Result<Response<pb::IncidentResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let region = self.region_or_home(&msg.region)?;
        let policy = self.ctx.policy.get().severity.clone();
        let (severity, classified_by) = classify(&policy, &msg)?;
        let op = Op::Declare(Declare {
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
        self.write_incident(&region, hops, msg, request_id, op, |mut c, r| async move {
            c.declare_incident(r).await
        })
        .await
    }

    async fn get_incident(
        &self,
        req: Request<pb::GetIncidentRequest>,
    ) -> Result<Response<pb::IncidentResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        validate::incident_id(&msg.id).map_err(invalid)?;
        let (id, consistency, fwd) = (msg.id.clone(), msg.consistency, hops.forwarded);
        let group = group_of_incident(&msg.id).to_owned();
        let reader = self.ctx.reader(&group, &hops);
        let access = hops.clone();
        self.serve(
            &group,
            hops,
            msg,
            |g| async move {
                self.ctx.read_barrier(&g, consistency).await?;
                let Some(inc) = g.state.incident(&id).map_err(status::storage)? else {
                    return Err(missing(&g, &id).into());
                };
                let (view, withheld) = convert::incident_for(&inc, &reader);
                self.ctx.log_access(&id, &access, &reader, withheld);
                Ok(pb::IncidentResponse {
                    incident: Some(view),
                    served_by: Some(self.ctx.served_by(&g, fwd)),
                })
            },
            |mut c, r| async move { c.get_incident(r).await },
        )
        .await
    }

    async fn list_incidents(
        &self,
        req: Request<pb::ListIncidentsRequest>,
    ) -> Result<Response<pb::ListIncidentsResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let region = self.region_or_home(&msg.region)?;
        let want_status = convert::status_filter(msg.status).map_err(invalid)?;
        let want_severity = convert::severity_filter(msg.severity).map_err(invalid)?;
        let page = match msg.page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => {
                return Err(invalid(DomainError::invalid(
                    "page_size",
                    format!("must be at most {MAX_PAGE}"),
                )));
            }
            n => n,
        };
        let (service, token, consistency) =
            (msg.service.clone(), msg.page_token.clone(), msg.consistency);
        let fwd = hops.forwarded;
        let reader = self.ctx.reader(&region, &hops);
        let access = hops.clone();
        self.serve(
            &region,
            hops,
            msg,
            |g| async move {
                self.ctx.read_barrier(&g, consistency).await?;
                let all = g.state.incidents().map_err(status::storage)?;
                let mut matching = all.iter().filter(|i| {
                    i.id.as_str() > token.as_str()
                        && want_status.is_none_or(|s| i.status == s)
                        && want_severity.is_none_or(|s| i.severity == s)
                        && (service.is_empty() || i.service == service)
                });
                let incidents: Vec<_> = matching
                    .by_ref()
                    .take(page)
                    .map(|i| {
                        let (view, withheld) = convert::incident_for(i, &reader);
                        self.ctx.log_access(&i.id, &access, &reader, withheld);
                        view
                    })
                    .collect();
                let more = matching.next().is_some();
                let next_page_token = match (more, incidents.last()) {
                    (true, Some(last)) => last.id.clone(),
                    _ => String::new(),
                };
                Ok(pb::ListIncidentsResponse {
                    incidents,
                    next_page_token,
                    served_by: Some(self.ctx.served_by(&g, fwd)),
                })
            },
            |mut c, r| async move { c.list_incidents(r).await },
        )
        .await
    }

    async fn update_incident(
        &self,
        req: Request<pb::UpdateIncidentRequest>,
    ) -> Result<Response<pb::IncidentResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = Op::Update(Update {
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
                self.ctx
                    .topology
                    .retention_rules(group_of_incident(&msg.id))
            } else {
                Vec::new()
            },
        });
        let (request_id, group) = (
            msg.request_id.clone(),
            group_of_incident(&msg.id).to_owned(),
        );
        self.write_incident(&group, hops, msg, request_id, op, |mut c, r| async move {
            c.update_incident(r).await
        })
        .await
    }

    async fn append_timeline(
        &self,
        req: Request<pb::AppendTimelineRequest>,
    ) -> Result<Response<pb::AppendTimelineResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = Op::Note(Note {
            id: msg.id.clone(),
            author: msg.author.clone(),
            text: msg.text.clone(),
            restricted: msg.restricted,
            status_update: msg.status_update,
        });
        crate::domain::check(&op).map_err(invalid)?;
        let (rid, fwd, group) = (
            msg.request_id.clone(),
            hops.forwarded,
            group_of_incident(&msg.id).to_owned(),
        );
        let reader = self.ctx.reader(&group, &hops);
        let caller = hops.caller.clone();
        self.serve(
            &group,
            hops,
            msg,
            |g| async move {
                let a = self.ctx.propose_as(&g, &rid, op, caller.as_deref()).await?;
                let (events, _) = convert::events_for(&a.incident.id, &a.events, &reader);
                Ok(pb::AppendTimelineResponse {
                    event: events.last().cloned(),
                    incident: Some(convert::incident_for(&a.incident, &reader).0),
                    served_by: Some(self.ctx.served_by(&g, fwd)),
                })
            },
            |mut c, r| async move { c.append_timeline(r).await },
        )
        .await
    }

    async fn get_timeline(
        &self,
        req: Request<pb::GetTimelineRequest>,
    ) -> Result<Response<pb::GetTimelineResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        validate::incident_id(&msg.id).map_err(invalid)?;
        let (id, consistency, fwd) = (msg.id.clone(), msg.consistency, hops.forwarded);
        let group = group_of_incident(&msg.id).to_owned();
        let reader = self.ctx.reader(&group, &hops);
        let origin = self.ctx.origin_region(&hops);
        let caller = hops.caller.clone();
        let access = hops.clone();
        self.serve(
            &group,
            hops,
            msg,
            |g| async move {
                self.ctx.read_barrier(&g, consistency).await?;
                let Some(incident) = g.state.incident(&id).map_err(status::storage)? else {
                    return Err(Route::Fail(missing(&g, &id)));
                };
                let own = g.state.timeline(&id).map_err(status::storage)?;
                let (mut events, withheld) = convert::events_for(&id, &own, &reader);
                let redaction = (!reader.full()).then(|| pb::Redaction {
                    home_jurisdiction: reader.home.clone(),
                    reader_jurisdiction: reader.reader.clone(),
                    withheld: vec![format!("{withheld} restricted timeline entries")],
                });
                let logged = (withheld > 0)
                    .then(|| format!("{withheld} restricted timeline entries"))
                    .into_iter()
                    .collect();
                self.ctx.log_access(&id, &access, &reader, logged);
                let (children, unavailable_regions) = self
                    .child_timelines(&incident, &origin, caller.as_deref())
                    .await;
                events.extend(children);
                let events = merge_in_hlc_order(events);
                Ok(pb::GetTimelineResponse {
                    id: id.clone(),
                    events,
                    served_by: Some(self.ctx.served_by(&g, fwd)),
                    unavailable_regions,
                    redaction,
                })
            },
            |mut c, r| async move { c.get_timeline(r).await },
        )
        .await
    }

    async fn declare_global_incident(
        &self,
        req: Request<pb::DeclareGlobalIncidentRequest>,
    ) -> Result<Response<pb::IncidentResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        for region in &msg.regions {
            self.region_or_home(region)?;
        }
        let op = Op::DeclareGlobal(DeclareGlobal {
            title: msg.title.clone(),
            severity: convert::severity("severity", msg.severity).map_err(invalid)?,
            service: msg.service.clone(),
            commander: msg.commander.clone(),
            author: msg.author.clone(),
            regions: msg.regions.clone(),
        });
        let request_id = msg.request_id.clone();
        self.write_incident(
            GLOBAL_PREFIX,
            hops,
            msg,
            request_id,
            op,
            |mut c, r| async move { c.declare_global_incident(r).await },
        )
        .await
    }

    async fn change_war_room(
        &self,
        req: Request<pb::WarRoomRequest>,
    ) -> Result<Response<pb::IncidentResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let op = Op::WarRoom(convert::war_room_change(&msg).map_err(invalid)?);
        let (request_id, group) = (
            msg.request_id.clone(),
            group_of_incident(&msg.id).to_owned(),
        );
        self.write_incident(&group, hops, msg, request_id, op, |mut c, r| async move {
            c.change_war_room(r).await
        })
        .await
    }

    async fn set_legal_hold(
        &self,
        req: Request<pb::SetLegalHoldRequest>,
    ) -> Result<Response<pb::IncidentResponse>, Status> {
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        // A hold is a legal act: without a name, it is recorded under the authenticated caller.
        let author = match (msg.author.trim(), &hops.caller) {
            ("", Some(caller)) => caller.clone(),
            _ => msg.author.clone(),
        };
        let op = Op::SetLegalHold(SetLegalHold {
            id: msg.id.clone(),
            hold: msg.hold,
            reason: msg.reason.clone(),
            author,
        });
        let (request_id, group) = (
            msg.request_id.clone(),
            group_of_incident(&msg.id).to_owned(),
        );
        self.write_incident(&group, hops, msg, request_id, op, |mut c, r| async move {
            c.set_legal_hold(r).await
        })
        .await
    }

    type WatchIncidentsStream = ChangeStream;

    async fn watch_incidents(
        &self,
        req: Request<pb::WatchIncidentsRequest>,
    ) -> Result<Response<Self::WatchIncidentsStream>, Status> {
        let msg = req.into_inner();
        let region = self.region_or_home(&msg.region)?;
        let Some(group) = self.ctx.groups.get(&region).cloned() else {
            let addrs: Vec<String> = self
                .ctx
                .topology
                .region_nodes(&region)
                .map(|n| n.addr.clone())
                .collect();
            return Err(Status::failed_precondition(format!(
                "region: node {} does not host {region}; watch it on one of its nodes: {}",
                self.ctx.id,
                addrs.join(", ")
            )));
        };
        let from = msg.from_index;
        // Subscribe before reading the backlog so nothing committed in between is missed;
        // duplicates are skipped by index.
        let live = group.changes.subscribe();
        let state = group.state.clone();
        let start = if from == 0 {
            state.applied_index().map_err(status::storage)? + 1
        } else {
            let trimmed = state.changes_trimmed_below().map_err(status::storage)?;
            if from < trimmed {
                return Err(Status::out_of_range(format!(
                    "from_index: changes below {trimmed} are no longer kept; list incidents, then watch from {trimmed}"
                )));
            }
            from
        };
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(pump_changes(
            state,
            live,
            start,
            tx,
            self.ctx.stopping.clone(),
        ));
        Ok(self
            .ctx
            .reply(Box::pin(ReceiverStream::new(rx)) as ChangeStream))
    }
}

fn change_pb(c: &ChangeRecord) -> pb::IncidentChange {
    pb::IncidentChange {
        index: c.index,
        at: Some(convert::hlc(c.at)),
        incident: Some(convert::incident(&c.incident)),
        events: c
            .events
            .iter()
            .map(|e| convert::event(&c.incident.id, e))
            .collect(),
    }
}

/// Sends stored changes from `next` on, then live ones, in index order without gaps or repeats.
/// When the live feed lags, the gap is refilled from storage.
async fn pump_changes(
    state: crate::raft::state_machine::GroupState,
    mut live: broadcast::Receiver<ChangeRecord>,
    mut next: u64,
    tx: mpsc::Sender<Result<pb::IncidentChange, Status>>,
    stopping: tokio::sync::watch::Receiver<bool>,
) {
    let stop = super::until_stopping(stopping);
    tokio::pin!(stop);
    loop {
        let backlog = match state.changes_from(next) {
            Ok(b) => b,
            Err(e) => {
                let _ = tx.send(Err(status::storage(e))).await;
                return;
            }
        };
        for c in &backlog {
            if tx.send(Ok(change_pb(c))).await.is_err() {
                return;
            }
            next = c.index + 1;
        }
        loop {
            let received = tokio::select! {
                r = live.recv() => r,
                _ = &mut stop => {
                    let _ = tx.send(Err(Status::unavailable("node shutting down; resume the watch on another node"))).await;
                    return;
                }
            };
            match received {
                Ok(c) if c.index < next => continue,
                Ok(c) if c.index == next || backlog_is_complete(&state, next, c.index) => {
                    if tx.send(Ok(change_pb(&c))).await.is_err() {
                        return;
                    }
                    next = c.index + 1;
                }
                // A gap (lag or a change that raced the backlog read): refill from storage.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// True when no change record exists between `next` and `index` (indices without a change:
/// blank, membership or rejected entries).
fn backlog_is_complete(
    state: &crate::raft::state_machine::GroupState,
    next: u64,
    index: u64,
) -> bool {
    state
        .changes_from(next)
        .map(|v| v.first().is_none_or(|c| c.index >= index))
        .unwrap_or(false)
}

/// A forward or route that failed in the transport (the peer died or is cut off) becomes
/// UNAVAILABLE, so the client retries elsewhere with the same request id; passed on as is,
/// tonic's local "transport error" (Unknown) or "operation was canceled" (Cancelled) reached
/// the client as a server answer it must not retry. Found by the chaos suite (kill-leader; and
/// kill-region for routed requests).
fn unreachable_peer(addr: &str, s: Status) -> Status {
    if std::error::Error::source(&s).is_none() {
        return s;
    }
    Status::unavailable(format!(
        "node {addr} did not answer ({}); retry",
        s.message()
    ))
}

/// Interleaves incidents' timelines by HLC but keeps each incident's own events in commit
/// (seq) order. Their stamps may disagree with that order: the leader stamps a command before
/// proposing it, and two concurrent proposals can enter the log the other way round. Sorting
/// everything by HLC showed an incident's severity changes out of order. Found by the chaos
/// suite (pause-leader, seed 4).
fn merge_in_hlc_order(events: Vec<pb::TimelineEvent>) -> Vec<pb::TimelineEvent> {
    let key = |e: &pb::TimelineEvent| e.at.map(|h| (h.wall_ns, h.logical, h.node_id));
    let mut lanes: Vec<std::collections::VecDeque<pb::TimelineEvent>> = Vec::new();
    for e in events {
        match lanes
            .iter_mut()
            .find(|l| l.front().is_some_and(|f| f.incident_id == e.incident_id))
        {
            Some(lane) => lane.push_back(e),
            None => lanes.push(std::collections::VecDeque::from([e])),
        }
    }
    let mut out = Vec::new();
    while let Some((_, lane)) = lanes
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.front().map(|f| (key(f), i)))
        .min()
    {
        if let Some(e) = lanes[lane].pop_front() {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(incident: &str, seq: u32, wall_ns: u64) -> pb::TimelineEvent {
        pb::TimelineEvent {
            seq,
            incident_id: incident.into(),
            at: Some(pb::Hlc {
                wall_ns,
                logical: 0,
                node_id: 1,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn merged_timelines_keep_each_incidents_commit_order() {
        // Incident a's seq 2 was stamped before its seq 1 (concurrent proposals swapped).
        let merged = merge_in_hlc_order(vec![
            ev("a", 1, 20),
            ev("a", 2, 10),
            ev("a", 3, 40),
            ev("b", 1, 15),
            ev("b", 2, 30),
        ]);
        let order: Vec<(String, u32)> = merged
            .iter()
            .map(|e| (e.incident_id.clone(), e.seq))
            .collect();
        let expect = [("b", 1), ("a", 1), ("a", 2), ("b", 2), ("a", 3)];
        assert_eq!(
            order,
            expect
                .iter()
                .map(|(i, s)| (i.to_string(), *s))
                .collect::<Vec<_>>()
        );
    }
}
