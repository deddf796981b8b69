//! The global leader's saga: opens each global incident's child incidents and links them.
//!
//! The intent is recorded first (the global incident lists its regions with no child yet);
//! then, while this node leads the global group, every missing child is declared in its region
//! with the request id `<global id>/<region>` and linked with `<global id>/<region>/link`. Both
//! are idempotent, so a leader that dies at any point is continued by the next one without losing
//! or duplicating a child.

use std::sync::Arc;
use std::time::Duration;

use icc_proto::v1 as pb;
use tonic::Request;

use crate::api::convert;
use crate::cluster::{Group, NodeCtx, Route};
use crate::domain::GLOBAL_GROUP;
use crate::domain::incident::{Incident, IncidentOp, LinkChild};

/// How often the leader looks for unfinished sagas.
const SCAN_EVERY: Duration = Duration::from_millis(200);
/// Deadline of one child declare on one node.
const DECLARE_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs until the node stops; does work only while this node leads the global group.
pub(crate) async fn run(ctx: Arc<NodeCtx>) {
    let Some(global) = ctx.groups.get(GLOBAL_GROUP).cloned() else {
        return;
    };
    super::while_leading(&ctx, &global, SCAN_EVERY, |_| step(&ctx, &global)).await;
}

/// One scan: open every missing child.
async fn step(ctx: &NodeCtx, global: &Group) {
    let pending: Vec<Incident> = match global.store.incidents() {
        Ok(all) => all
            .into_iter()
            .filter(|i| i.children.iter().any(|c| c.incident_id.is_none()))
            .collect(),
        Err(e) => {
            tracing::error!("saga: cannot read global incidents: {e}");
            return;
        }
    };
    for incident in pending {
        for child in incident.children.iter().filter(|c| c.incident_id.is_none()) {
            if let Err(e) = open_child(ctx, global, &incident, &child.region).await {
                tracing::warn!(global = %incident.id, region = %child.region, "saga step failed, will retry: {e}");
            }
        }
    }
}

/// Declares the child in `region` (idempotently) and links it.
async fn open_child(
    ctx: &NodeCtx,
    global: &Group,
    incident: &Incident,
    region: &str,
) -> Result<(), String> {
    let request_id = format!("{}/{region}", incident.id);
    let req = pb::DeclareIncidentRequest {
        request_id: request_id.clone(),
        title: incident.title.clone(),
        severity: convert::severity_pb(incident.severity) as i32,
        service: incident.service.clone(),
        commander: incident.commander.clone(),
        author: "icc-saga".into(),
        region: region.to_owned(),
        parent_id: incident.id.clone(),
        // Children carry shareable fields only: the global group holds no restricted data.
        details: String::new(),
        customer_ids: Vec::new(),
        impact: String::new(),
        exposure: String::new(),
    };
    let child_id = declare_in_region(ctx, region, req).await?;
    let op = IncidentOp::LinkChild(LinkChild {
        id: incident.id.clone(),
        region: region.to_owned(),
        child_id: child_id.clone(),
    });
    match ctx
        .commit(global, &format!("{request_id}/link"), op, None)
        .await
    {
        Ok(_) => {
            tracing::info!(global = %incident.id, %region, child = %child_id, "saga: child linked");
            Ok(())
        }
        Err(Route::Leader(addr)) => Err(format!("no longer the global leader (now {addr})")),
        Err(Route::Fail(s)) => Err(s.message().to_owned()),
    }
}

/// Sends the declare to the nodes of `region` in turn until one answers.
async fn declare_in_region(
    ctx: &NodeCtx,
    region: &str,
    req: pb::DeclareIncidentRequest,
) -> Result<String, String> {
    let mut last = format!("region {region} has no node");
    for node in ctx.topology.region_nodes(region) {
        let mut client = ctx
            .peers
            .incidents(&node.addr)
            .map_err(|s| s.message().to_owned())?;
        let mut request = Request::new(req.clone());
        request.set_timeout(DECLARE_TIMEOUT);
        match client.declare_incident(request).await {
            Ok(resp) => {
                return resp
                    .into_inner()
                    .incident
                    .map(|i| i.id)
                    .ok_or_else(|| "empty answer".to_owned());
            }
            Err(s) => last = format!("node {}: {}", node.id, s.message()),
        }
    }
    Err(last)
}
