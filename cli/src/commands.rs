//! One handler per subcommand: build the request, call the client, print the answer.

use futures::StreamExt;
use icc_client::v1::{
    AppendTimelineRequest, Consistency, DeclareGlobalIncidentRequest, DeclareIncidentRequest,
    Incident, ListIncidentsRequest, Status, UpdateIncidentRequest,
};
use serde_json::json;

use super::args::{
    AddLearnerArgs, AuditCmd, AuditExportArgs, AuditVerifyArgs, ChangeMembershipArgs, ClusterCmd,
    Command, DeclareArgs, HoldArgs, IncidentCmd, ListArgs, NotificationsCmd, NotificationsListArgs,
    Output, RiskCmd, ShowArgs, StatusChangeArgs, TimelineAddArgs, TimelineCmd, TransferLeaderArgs,
    UpdateArgs, WatchArgs,
};
use super::parse::status_word;
use super::render;
use super::{Ctx, Failure};

/// Runs one subcommand.
pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<(), Failure> {
    match command {
        Command::Incident(cmd) => match cmd {
            IncidentCmd::Declare(a) => declare(ctx, a).await,
            IncidentCmd::List(a) => list(ctx, a).await,
            IncidentCmd::Show(a) => show(ctx, a).await,
            IncidentCmd::Ack(a) => change_status(ctx, a, Status::Acknowledged).await,
            IncidentCmd::Resolve(a) => change_status(ctx, a, Status::Resolved).await,
            IncidentCmd::Close(a) => change_status(ctx, a, Status::Closed).await,
            IncidentCmd::Update(a) => update(ctx, a).await,
            IncidentCmd::Status(a) => super::warroom::post_status(ctx, a).await,
            IncidentCmd::Action(cmd) => super::warroom::action(ctx, cmd).await,
            IncidentCmd::Decide(a) => super::warroom::decide(ctx, a).await,
            IncidentCmd::Hold(a) => legal_hold(ctx, a, true).await,
            IncidentCmd::Release(a) => legal_hold(ctx, a, false).await,
        },
        Command::Timeline(cmd) => match cmd {
            TimelineCmd::Add(a) => timeline_add(ctx, a).await,
            TimelineCmd::Show(a) => timeline_show(ctx, a).await,
        },
        Command::Watch(a) => watch(ctx, a).await,
        Command::Notifications(NotificationsCmd::List(a)) => notifications_list(ctx, a).await,
        Command::Notifications(NotificationsCmd::Sink(a)) => super::sink::run(a).await,
        Command::Cluster(cmd) => match cmd {
            ClusterCmd::Status(a) => cluster_status(ctx, a.local).await,
            ClusterCmd::AddLearner(a) => add_learner(ctx, a).await,
            ClusterCmd::ChangeMembership(a) => change_membership(ctx, a).await,
            ClusterCmd::TransferLeader(a) => transfer_leader(ctx, a).await,
        },
        Command::Audit(AuditCmd::Verify(a)) => audit_verify(ctx, a).await,
        Command::Audit(AuditCmd::Export(a)) => audit_export(ctx, a).await,
        Command::Access(cmd) => super::access_cmd::run(ctx, cmd).await,
        Command::Certs(cmd) => super::certs_cmd::run(cmd, ctx.output),
        Command::Rbac(cmd) => super::rbac_cmd::run(ctx, cmd).await,
        Command::Policy(cmd) => super::policy_cmd::run(ctx, cmd).await,
        Command::Drill(cmd) => super::drill_cmd::run(ctx, cmd).await,
        Command::Risk(RiskCmd::Export(a)) => super::risk_cmd::export(ctx, a).await,
    }
}

async fn audit_verify(ctx: &Ctx, a: AuditVerifyArgs) -> Result<(), Failure> {
    let (ok, entries, bad, reason, source) =
        match &a.file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
                let mut parsed = Vec::new();
                for (n, line) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                        Failure::usage(format!("{}:{}: not JSON: {e}", path.display(), n + 1))
                    })?;
                    parsed.push(render::audit_entry_from_json(&v).map_err(|e| {
                        Failure::usage(format!("{}:{}: {e}", path.display(), n + 1))
                    })?);
                }
                match icc_proto::audit::verify(&parsed) {
                    Ok(n) => (true, n, 0, String::new(), path.display().to_string()),
                    Err(b) => (false, b.seq, b.seq, b.reason, path.display().to_string()),
                }
            }
            None => {
                let r = ctx
                    .client
                    .verify_audit(a.group.clone())
                    .await
                    .map_err(|e| ctx.fail(e))?;
                let by = r
                    .served_by
                    .as_ref()
                    .map_or_else(String::new, |s| format!("node {}", s.node_id));
                (r.ok, r.entries, r.first_bad_seq, r.reason, by)
            }
        };
    match ctx.output {
        Output::Json => ctx.print_json(&json!({
            "ok": ok, "entries": entries, "first_bad_seq": bad, "reason": reason, "source": source,
        }))?,
        Output::Table if ok => ctx.print(&format!(
            "audit chain verified: {entries} entries ({source})"
        ))?,
        Output::Table => {}
    }
    if ok {
        Ok(())
    } else {
        Err(Failure::rejected(format!(
            "audit chain broken at entry {bad} ({source}): {reason}"
        )))
    }
}

async fn audit_export(ctx: &Ctx, a: AuditExportArgs) -> Result<(), Failure> {
    let entries = ctx
        .client
        .export_audit(a.group, a.from_seq)
        .await
        .map_err(|e| ctx.fail(e))?;
    for e in &entries {
        ctx.print(&render::audit_entry_json(e).to_string())?;
    }
    Ok(())
}

fn consistency(local: bool) -> Consistency {
    if local {
        Consistency::Local
    } else {
        Consistency::Linearizable
    }
}

/// The incident in an answer; a missing one is a server bug worth reporting, not a panic.
pub(super) fn need_incident(incident: Option<&Incident>) -> Result<&Incident, Failure> {
    incident.ok_or_else(|| Failure::rejected("the server answered without an incident"))
}

fn served_note(ctx: &Ctx, served_by: Option<&icc_client::v1::ServedBy>, prefix: &str) {
    if let Some(line) = render::served_by_line(served_by) {
        ctx.note(&format!("{prefix}{line}"));
    }
}

async fn declare(ctx: &Ctx, a: DeclareArgs) -> Result<(), Failure> {
    // clap requires --impact (with --exposure) when --severity is absent.
    let severity: i32 = a.severity.map_or(0, Into::into);
    if !a.regions.is_empty() {
        let req = DeclareGlobalIncidentRequest {
            request_id: String::new(),
            title: a.title,
            severity,
            service: a.service,
            commander: a.commander.unwrap_or_default(),
            author: ctx.author.clone(),
            regions: a.regions,
        };
        let resp = ctx
            .client
            .declare_global(req, a.request_id)
            .await
            .map_err(|e| ctx.fail(e))?;
        return match ctx.output {
            Output::Table => ctx.print(&need_incident(resp.incident.as_ref())?.id),
            Output::Json => ctx.print_json(&json!({
                "incident": render::incident_json(resp.incident.as_ref()),
                "served_by": render::served_by_json(resp.served_by.as_ref()),
            })),
        };
    }
    let req = DeclareIncidentRequest {
        request_id: String::new(),
        title: a.title,
        severity,
        service: a.service,
        commander: a.commander.unwrap_or_default(),
        author: ctx.author.clone(),
        region: a.region.unwrap_or_default(),
        parent_id: String::new(),
        details: a.details.unwrap_or_default(),
        customer_ids: a.customer_ids,
        impact: a.impact.unwrap_or_default(),
        exposure: a.exposure.unwrap_or_default(),
    };
    let resp = ctx
        .client
        .declare(req, a.request_id)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => ctx.print(&need_incident(resp.incident.as_ref())?.id),
        Output::Json => ctx.print_json(&json!({
            "incident": render::incident_json(resp.incident.as_ref()),
            "served_by": render::served_by_json(resp.served_by.as_ref()),
        })),
    }
}

async fn list(ctx: &Ctx, a: ListArgs) -> Result<(), Failure> {
    let req = ListIncidentsRequest {
        status: a.status.map_or(0, Into::into),
        severity: a.severity.map_or(0, Into::into),
        service: a.service.unwrap_or_default(),
        page_size: 0,
        page_token: String::new(),
        consistency: consistency(a.local).into(),
        region: a.region.unwrap_or_default(),
    };
    let resp = ctx
        .client
        .list_all_incidents(req, a.limit)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            ctx.print(&render::incidents_table(&resp.incidents))?;
            let n = resp.incidents.len();
            served_note(ctx, resp.served_by.as_ref(), &format!("{n} incident{}; ", if n == 1 { "" } else { "s" }));
            Ok(())
        }
        Output::Json => ctx.print_json(&json!({
            "incidents": resp.incidents.iter().map(|i| render::incident_json(Some(i))).collect::<Vec<_>>(),
            "next_page_token": resp.next_page_token,
            "served_by": render::served_by_json(resp.served_by.as_ref()),
        })),
    }
}

async fn notifications_list(ctx: &Ctx, a: NotificationsListArgs) -> Result<(), Failure> {
    let c = consistency(a.local);
    let incidents = match a.incident {
        Some(id) => {
            let resp = ctx
                .client
                .get_incident(id, c)
                .await
                .map_err(|e| ctx.fail(e))?;
            resp.incident.into_iter().collect::<Vec<_>>()
        }
        None => {
            let req = ListIncidentsRequest {
                consistency: c.into(),
                region: a.region.unwrap_or_default(),
                ..Default::default()
            };
            ctx.client
                .list_all_incidents(req, None)
                .await
                .map_err(|e| ctx.fail(e))?
                .incidents
        }
    };
    let rows: Vec<_> = incidents
        .iter()
        .flat_map(|i| i.notifications.iter().map(move |n| (i.id.as_str(), n)))
        .filter(|(_, n)| {
            a.state
                .as_deref()
                .is_none_or(|s| render::notification_state_word(n.state()) == s)
        })
        .collect();
    match ctx.output {
        Output::Table => ctx.print(&render::notifications_table(&rows)),
        Output::Json => ctx.print_json(&json!({
            "notifications": rows
                .iter()
                .map(|(id, n)| render::notification_json(id, n))
                .collect::<Vec<_>>(),
        })),
    }
}

async fn show(ctx: &Ctx, a: ShowArgs) -> Result<(), Failure> {
    let c = consistency(a.local);
    let inc = ctx
        .client
        .get_incident(a.id.clone(), c)
        .await
        .map_err(|e| ctx.fail(e))?;
    let tl = ctx
        .client
        .get_timeline(a.id, c)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            let i = need_incident(inc.incident.as_ref())?;
            ctx.print(&render::incident_detail(i))?;
            ctx.print("")?;
            ctx.print(&super::warroom::sections(
                i.war_room.as_ref(),
                i.redaction.is_some(),
                render::now_ns(),
            ))?;
            ctx.print("")?;
            ctx.print(&render::timeline_table(&tl.events))?;
            served_note(ctx, tl.served_by.as_ref(), "");
            Ok(())
        }
        Output::Json => ctx.print_json(&json!({
            "incident": render::incident_json(inc.incident.as_ref()),
            "timeline": tl.events.iter().map(|e| render::event_json(Some(e))).collect::<Vec<_>>(),
            "served_by": render::served_by_json(tl.served_by.as_ref()),
        })),
    }
}

async fn change_status(ctx: &Ctx, a: StatusChangeArgs, status: Status) -> Result<(), Failure> {
    let mut req = UpdateIncidentRequest {
        id: a.id,
        reason: a.reason.unwrap_or_else(|| status_word(status).to_string()),
        author: ctx.author.clone(),
        ..Default::default()
    };
    req.set_status(status);
    let resp = ctx
        .client
        .update_incident(req, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            let i = need_incident(resp.incident.as_ref())?;
            ctx.print(&format!(
                "{}: {} (version {})",
                i.id,
                status_word(i.status()),
                i.version
            ))
        }
        Output::Json => print_incident_response(ctx, &resp),
    }
}

async fn legal_hold(ctx: &Ctx, a: HoldArgs, hold: bool) -> Result<(), Failure> {
    let req = icc_client::v1::SetLegalHoldRequest {
        id: a.id,
        hold,
        reason: a.reason,
        author: ctx.author.clone(),
        ..Default::default()
    };
    let resp = ctx
        .client
        .set_legal_hold(req, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            let i = need_incident(resp.incident.as_ref())?;
            let what = if hold {
                "under legal hold"
            } else {
                "legal hold released"
            };
            ctx.print(&format!("{}: {what} (version {})", i.id, i.version))
        }
        Output::Json => print_incident_response(ctx, &resp),
    }
}

async fn update(ctx: &Ctx, a: UpdateArgs) -> Result<(), Failure> {
    let mut req = UpdateIncidentRequest {
        id: a.id,
        title: a.title,
        commander: a.commander,
        reason: a.reason,
        author: ctx.author.clone(),
        classifier: a.classifier.unwrap_or_default(),
        assign_roles: a
            .roles
            .into_iter()
            .map(|(role, person)| icc_client::v1::RoleAssignment { role, person })
            .collect(),
        ..Default::default()
    };
    if let Some(s) = a.severity {
        req.set_severity(s);
    }
    if let Some(s) = a.status {
        req.set_status(s);
    }
    let resp = ctx
        .client
        .update_incident(req, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => ctx.print(&render::incident_detail(need_incident(
            resp.incident.as_ref(),
        )?)),
        Output::Json => print_incident_response(ctx, &resp),
    }
}

pub(super) fn print_incident_response(
    ctx: &Ctx,
    resp: &icc_client::v1::IncidentResponse,
) -> Result<(), Failure> {
    ctx.print_json(&json!({
        "incident": render::incident_json(resp.incident.as_ref()),
        "served_by": render::served_by_json(resp.served_by.as_ref()),
    }))
}

async fn timeline_add(ctx: &Ctx, a: TimelineAddArgs) -> Result<(), Failure> {
    let req = AppendTimelineRequest {
        request_id: String::new(),
        id: a.id,
        author: ctx.author.clone(),
        text: a.text,
        restricted: a.restricted,
        status_update: a.status_update,
    };
    let resp = ctx
        .client
        .append_timeline(req, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            let events: Vec<_> = resp.event.into_iter().collect();
            ctx.print(&render::timeline_table(&events))
        }
        Output::Json => ctx.print_json(&json!({
            "event": render::event_json(resp.event.as_ref()),
            "incident": render::incident_json(resp.incident.as_ref()),
            "served_by": render::served_by_json(resp.served_by.as_ref()),
        })),
    }
}

async fn timeline_show(ctx: &Ctx, a: ShowArgs) -> Result<(), Failure> {
    let resp = ctx
        .client
        .get_timeline(a.id, consistency(a.local))
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            ctx.print(&render::timeline_table(&resp.events))?;
            if !resp.unavailable_regions.is_empty() {
                ctx.note(&format!(
                    "unavailable: {} (their events are missing above)",
                    resp.unavailable_regions.join(", ")
                ));
            }
            served_note(ctx, resp.served_by.as_ref(), "");
            Ok(())
        }
        Output::Json => ctx.print_json(&json!({
            "id": resp.id,
            "events": resp.events.iter().map(|e| render::event_json(Some(e))).collect::<Vec<_>>(),
            "unavailable_regions": resp.unavailable_regions,
            "served_by": render::served_by_json(resp.served_by.as_ref()),
        })),
    }
}

async fn watch(ctx: &Ctx, a: WatchArgs) -> Result<(), Failure> {
    let stream = ctx
        .client
        .watch_region(a.region.unwrap_or_default(), a.from_index);
    let mut stream = std::pin::pin!(stream);
    let ctrl_c = tokio::signal::ctrl_c();
    let mut ctrl_c = std::pin::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            item = stream.next() => match item {
                None => return Ok(()),
                Some(Err(e)) => return Err(ctx.fail(e)),
                Some(Ok(change)) => match ctx.output {
                    Output::Table => ctx.print(&render::change_line(&change))?,
                    Output::Json => ctx.print_json(&render::change_json(&change))?,
                },
            },
        }
    }
}

async fn cluster_status(ctx: &Ctx, local: bool) -> Result<(), Failure> {
    let resp = ctx
        .client
        .cluster_status(local)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Table => {
            ctx.print(&render::cluster_tables(&resp))?;
            served_note(ctx, resp.served_by.as_ref(), "");
            Ok(())
        }
        Output::Json => ctx.print_json(&render::status_json(&resp)),
    }
}

fn print_membership(ctx: &Ctx, m: &icc_client::v1::MembershipResponse) -> Result<(), Failure> {
    match ctx.output {
        Output::Table => ctx.print(&render::membership_line(m)),
        Output::Json => ctx.print_json(&render::membership_json(m)),
    }
}

async fn add_learner(ctx: &Ctx, a: AddLearnerArgs) -> Result<(), Failure> {
    let m = ctx
        .client
        .add_learner(a.node_id, a.addr, a.region.unwrap_or_default())
        .await
        .map_err(|e| ctx.fail(e))?;
    print_membership(ctx, &m)
}

async fn change_membership(ctx: &Ctx, a: ChangeMembershipArgs) -> Result<(), Failure> {
    let m = ctx
        .client
        .change_membership(a.voters)
        .await
        .map_err(|e| ctx.fail(e))?;
    print_membership(ctx, &m)
}

async fn transfer_leader(ctx: &Ctx, a: TransferLeaderArgs) -> Result<(), Failure> {
    let m = ctx
        .client
        .transfer_leader(a.to)
        .await
        .map_err(|e| ctx.fail(e))?;
    print_membership(ctx, &m)
}
