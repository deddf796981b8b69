//! The public status page: each node serves, over plain HTTP on its `status_addr`, a read-only
//! page (`/`, HTML) and its data (`/status.json`): the open and recently resolved incidents of
//! every region, from shareable, customer-facing fields only (`render.rs` decides which).
//!
//! The node acts as itself (a trusted node): its own region is read from its applied state,
//! other regions through the normal routing with LOCAL consistency, as a reader from this
//! node's region (so the answering node redacts and access-logs as for any such reader). A
//! region that does not answer in time is shown as unavailable. Never writes anything.

pub(crate) mod render;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use icc_proto::v1 as pb;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use tokio::net::TcpListener;

use crate::api::convert;
use crate::cluster::{Hops, NodeCtx, until_stopping};
use crate::domain::GLOBAL_GROUP;
use render::{Page, PublicIncident, RegionStatus};

/// How long the page waits for another region's answer.
const REGION_DEADLINE: Duration = Duration::from_secs(2);
/// Largest listing page asked of another region.
const PAGE_SIZE: u32 = 1000;

/// How long a built page is served again before it is rebuilt. Bounds the fan-out to other
/// regions (and the cross-jurisdiction reads it logs there) however many people are watching;
/// the page shows when it was generated.
const REUSE_FOR: Duration = Duration::from_secs(2);

/// The server's state: the node, and the last page built.
struct PageSource {
    ctx: Arc<NodeCtx>,
    /// Held while a page is built, so concurrent requests share one build.
    last: tokio::sync::Mutex<Option<(tokio::time::Instant, Arc<Page>)>>,
}

impl PageSource {
    async fn page(&self) -> Arc<Page> {
        let mut last = self.last.lock().await;
        if let Some((at, page)) = last.as_ref()
            && at.elapsed() < REUSE_FOR
        {
            return page.clone();
        }
        let page = Arc::new(page(&self.ctx).await);
        *last = Some((tokio::time::Instant::now(), page.clone()));
        page
    }
}

/// Serves the page on `listener` until the node stops.
pub(crate) async fn serve(ctx: Arc<NodeCtx>, listener: TcpListener) {
    let stopping = ctx.stopping.clone();
    let source = Arc::new(PageSource {
        ctx,
        last: tokio::sync::Mutex::new(None),
    });
    let app = Router::new()
        .route("/", get(html))
        .route("/status.json", get(json))
        .with_state(source);
    let shutdown = until_stopping(stopping);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("status page: {e}");
    }
}

async fn html(State(source): State<Arc<PageSource>>) -> Response {
    match render::html(&*source.page().await) {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!("status page: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "status page unavailable").into_response()
        }
    }
}

async fn json(State(source): State<Arc<PageSource>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        render::json(&*source.page().await),
    )
        .into_response()
}

/// Builds the page: every region, fetched in parallel.
async fn page(ctx: &NodeCtx) -> Page {
    let now_ns = ctx.clock.now().wall_ns;
    let regions = ctx
        .topology
        .regions
        .iter()
        .map(|r| r.name.clone())
        .filter(|r| r != GLOBAL_GROUP);
    let regions = futures::future::join_all(regions.map(|region| async move {
        let incidents = match ctx.groups.get(&region) {
            Some(_) => local(ctx, &region, now_ns),
            None => remote(ctx, &region, now_ns).await,
        };
        let available = incidents.is_some();
        let mut incidents = incidents.unwrap_or_default();
        incidents.sort_by(|a, b| {
            (a.state, &a.severity, &b.updated).cmp(&(b.state, &b.severity, &a.updated))
        });
        RegionStatus {
            region,
            available,
            incidents,
        }
    }))
    .await;
    Page {
        generated_at: humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + Duration::from_nanos(now_ns),
        )
        .to_string(),
        node: ctx.id,
        consistency: render::CONSISTENCY,
        regions,
    }
}

/// A region this node hosts, from its applied state.
fn local(ctx: &NodeCtx, region: &str, now_ns: u64) -> Option<Vec<PublicIncident>> {
    let group = ctx.groups.get(region)?;
    group.local_read_allowed(ctx.id).ok()?;
    match group.store.incidents() {
        Ok(all) => Some(
            all.iter()
                .filter_map(|i| PublicIncident::of_incident(region, i, now_ns))
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(%region, "status page: cannot read incidents: {e}");
            None
        }
    }
}

/// Another region, from one of its nodes in turn (LOCAL reads, page after page).
async fn remote(ctx: &NodeCtx, region: &str, now_ns: u64) -> Option<Vec<PublicIncident>> {
    for node in ctx.topology.region_nodes(region) {
        match tokio::time::timeout(REGION_DEADLINE, list_all(ctx, &node.addr, region)).await {
            Ok(Ok(all)) => {
                return Some(
                    all.iter()
                        .filter_map(|i| public_of_wire(region, i, now_ns))
                        .collect(),
                );
            }
            Ok(Err(s)) => {
                tracing::debug!(%region, addr = %node.addr, "status page: {}", s.message());
            }
            Err(_) => tracing::debug!(%region, addr = %node.addr, "status page: no answer in time"),
        }
    }
    tracing::warn!(%region, "status page: no node of the region answered");
    None
}

async fn list_all(
    ctx: &NodeCtx,
    addr: &str,
    region: &str,
) -> Result<Vec<pb::Incident>, tonic::Status> {
    let mut client = IncidentServiceClient::new(ctx.peers.channel(addr)?);
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let msg = pb::ListIncidentsRequest {
            region: region.to_owned(),
            consistency: pb::Consistency::Local as i32,
            page_size: PAGE_SIZE,
            page_token: token.clone(),
            ..Default::default()
        };
        // As a reader from this node's region, routed once: the answering node serves it.
        let req = ctx.onward_request(msg, &Hops::default(), false);
        let page = client.list_incidents(req).await?.into_inner();
        all.extend(page.incidents);
        if page.next_page_token.is_empty() || page.next_page_token == token {
            return Ok(all);
        }
        token = page.next_page_token;
    }
}

fn public_of_wire(region: &str, i: &pb::Incident, now_ns: u64) -> Option<PublicIncident> {
    let severity = convert::severity("severity", i.severity).ok()?;
    let status = convert::status("status", i.status).ok()?;
    let wall = |h: Option<&pb::Hlc>| h.map_or(0, |h| h.wall_ns);
    PublicIncident::of(
        region,
        &i.service,
        severity,
        status,
        wall(i.created_at.as_ref()),
        wall(i.updated_at.as_ref()),
        now_ns,
    )
}

/// Binds the status page's address (at start, so a taken port fails the start, not later).
pub(crate) async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on status_addr {addr}"))
}
