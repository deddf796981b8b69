//! The change feed: every committed change of a region's incidents, resumable from a log
//! index, without gaps or repeats.

use std::pin::Pin;

use futures::Stream;
use icc_proto::v1 as pb;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status};

use super::{IncidentApi, Resp};
use crate::api::convert;
use crate::cluster::{status, until_stopping};
use crate::store::{ChangeRecord, GroupStore};

/// The stream of changes a watch answers with.
pub(crate) type ChangeStream =
    Pin<Box<dyn Stream<Item = Result<pb::IncidentChange, Status>> + Send>>;

impl IncidentApi {
    pub(super) async fn watch(
        &self,
        req: Request<pb::WatchIncidentsRequest>,
    ) -> Resp<ChangeStream> {
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
        let state = group.store.clone();
        let start = if from == 0 {
            group.applied_index().map_err(status::storage)? + 1
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
    state: GroupStore,
    mut live: broadcast::Receiver<ChangeRecord>,
    mut next: u64,
    tx: mpsc::Sender<Result<pb::IncidentChange, Status>>,
    stopping: tokio::sync::watch::Receiver<bool>,
) {
    let stop = until_stopping(stopping);
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
fn backlog_is_complete(state: &GroupStore, next: u64, index: u64) -> bool {
    state
        .changes_from(next)
        .map(|v| v.first().is_none_or(|c| c.index >= index))
        .unwrap_or(false)
}
