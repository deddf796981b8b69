//! The server side of the node-to-node Raft transport: routes each message to its group's Raft.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use futures::{Stream, StreamExt};
use icc_proto::v1::raft_service_server::RaftService;
use icc_proto::v1::{RaftMessage, SnapshotChunk, snapshot_chunk};
use tonic::{Request, Response, Status, Streaming};

use super::{Raft, Snapshot, SnapshotData, SnapshotMeta, Vote};
use crate::store::codec::{decode, encode};
use crate::store::keys::GroupKeys;
use crate::store::snapshot;

/// The Raft groups this node hosts, by name.
#[derive(Clone, Default)]
pub struct GroupRegistry {
    groups: Arc<RwLock<HashMap<String, Raft>>>,
}

impl GroupRegistry {
    /// Registers a group's Raft under its name.
    pub fn insert(&self, name: &str, raft: Raft) {
        self.groups
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), raft);
    }

    /// The Raft of group `name`.
    pub fn get(&self, name: &str) -> Result<Raft, Status> {
        self.groups
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| {
                Status::not_found(format!(
                    "group: this node hosts no Raft group named {name:?}"
                ))
            })
    }
}

/// tonic implementation of `icc.v1.RaftService`.
pub struct RaftApi {
    groups: GroupRegistry,
    /// The node's database: received snapshots are written beside it.
    db: Arc<rocksdb::DB>,
    stopping: tokio::sync::watch::Receiver<bool>,
}

impl RaftApi {
    /// Serves the groups in `groups`, whose state lives in `db`; replication streams end when
    /// `stopping` turns true, so a stopping node's graceful drain does not wait on a leader that
    /// keeps streaming.
    pub fn new(
        groups: GroupRegistry,
        db: Arc<rocksdb::DB>,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self {
            groups,
            db,
            stopping,
        }
    }
}

fn bad_payload(e: std::io::Error) -> Status {
    Status::invalid_argument(format!("payload: cannot decode Raft message: {e}"))
}

fn reply<T: serde::Serialize>(group: &str, value: &T) -> Result<Response<RaftMessage>, Status> {
    let payload = encode(value).map_err(|e| Status::internal(format!("encode reply: {e}")))?;
    Ok(Response::new(RaftMessage {
        group: group.to_owned(),
        payload,
    }))
}

fn fatal(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("raft stopped: {e}"))
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<RaftMessage, Status>> + Send>>;

#[tonic::async_trait]
impl RaftService for RaftApi {
    async fn vote(&self, req: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let m = req.into_inner();
        let raft = self.groups.get(&m.group)?;
        let resp = raft
            .vote(decode(&m.payload).map_err(bad_payload)?)
            .await
            .map_err(fatal)?;
        reply(&m.group, &resp)
    }

    async fn pre_vote(&self, req: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let m = req.into_inner();
        let raft = self.groups.get(&m.group)?;
        let resp = raft
            .pre_vote(decode(&m.payload).map_err(bad_payload)?)
            .await
            .map_err(fatal)?;
        reply(&m.group, &resp)
    }

    async fn append_entries(
        &self,
        req: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let m = req.into_inner();
        let raft = self.groups.get(&m.group)?;
        let resp = raft
            .append_entries(decode(&m.payload).map_err(bad_payload)?)
            .await
            .map_err(fatal)?;
        reply(&m.group, &resp)
    }

    type StreamAppendStream = ReplyStream;

    async fn stream_append(
        &self,
        req: Request<Streaming<RaftMessage>>,
    ) -> Result<Response<Self::StreamAppendStream>, Status> {
        let mut input = req.into_inner();
        // The first message names the group; every message of one stream belongs to it.
        let Some(first) = input.next().await.transpose()? else {
            return Ok(Response::new(Box::pin(futures::stream::empty())));
        };
        let group = first.group.clone();
        let raft = self.groups.get(&group)?;
        let requests = futures::stream::once(futures::future::ready(Ok(first)))
            .chain(input)
            .map(|m| m.ok().and_then(|m| decode(&m.payload).ok()))
            .take_while(|r| futures::future::ready(r.is_some()))
            .filter_map(futures::future::ready);
        let mut stopping = self.stopping.clone();
        let stop = async move {
            // Ends on the stop signal, or when its sender is gone.
            let _ = stopping.wait_for(|stopping| *stopping).await;
        };
        let out = raft
            .stream_append(requests)
            .take_until(Box::pin(stop))
            .map(move |item| {
                let result = item.map_err(fatal)?;
                let payload =
                    encode(&result).map_err(|e| Status::internal(format!("encode reply: {e}")))?;
                Ok(RaftMessage {
                    group: group.clone(),
                    payload,
                })
            });
        Ok(Response::new(Box::pin(out)))
    }

    async fn install_snapshot(
        &self,
        req: Request<Streaming<SnapshotChunk>>,
    ) -> Result<Response<RaftMessage>, Status> {
        let mut input = req.into_inner();
        let first = input
            .next()
            .await
            .transpose()?
            .ok_or_else(|| Status::invalid_argument("snapshot: empty stream"))?;
        let group = first.group.clone();
        let Some(snapshot_chunk::Chunk::Meta(meta)) = first.chunk else {
            return Err(Status::invalid_argument(
                "snapshot: the first chunk must carry the metadata",
            ));
        };
        let (vote, meta): (Vote, SnapshotMeta) = decode(&meta).map_err(bad_payload)?;
        let raft = self.groups.get(&group)?;
        let keys = GroupKeys::new(&group);
        let file = snapshot::incoming_file(&self.db, &keys);
        // The pairs go straight into an SST file on a blocking thread, never all in memory.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let writer = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || {
                snapshot::receive(&file, &keys, std::iter::from_fn(|| rx.blocking_recv()))
            })
        };
        let mut announced = None;
        let mut refused = None;
        while let Some(chunk) = input.next().await.transpose()? {
            match chunk.chunk {
                Some(snapshot_chunk::Chunk::Data(d)) if announced.is_none() => {
                    if tx.send(d).await.is_err() {
                        break; // The writer failed; its error is reported below.
                    }
                }
                Some(snapshot_chunk::Chunk::End(pairs)) if announced.is_none() => {
                    announced = Some(pairs);
                }
                _ => {
                    refused = Some(Status::invalid_argument(
                        "snapshot: metadata, then data, then one end marker",
                    ));
                    break;
                }
            }
        }
        drop(tx);
        let written = writer
            .await
            .map_err(|e| Status::internal(format!("snapshot writer: {e}")))?;
        let complete = match (refused, written, announced) {
            (Some(status), _, _) => Err(status),
            (None, Err(e), _) => Err(Status::internal(format!("snapshot: writing it: {e}"))),
            (None, Ok(_), None) => Err(Status::aborted(
                "snapshot: the stream ended before its end marker (sender failed or was cut off)",
            )),
            (None, Ok(got), Some(sent)) if got != sent => Err(Status::data_loss(format!(
                "snapshot: {got} pairs received, the sender announced {sent}"
            ))),
            (None, Ok(_), Some(_)) => Ok(()),
        };
        if let Err(status) = complete {
            let _ = std::fs::remove_file(&file);
            return Err(status);
        }
        let resp = raft
            .install_full_snapshot(
                vote,
                Snapshot {
                    meta,
                    snapshot: SnapshotData::Received(file.clone()),
                },
            )
            .await;
        // Ingest moved the file into the database; anything left is an install that failed.
        let _ = std::fs::remove_file(&file);
        reply(&group, &resp.map_err(fatal)?)
    }

    async fn transfer_leader(
        &self,
        req: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let m = req.into_inner();
        let raft = self.groups.get(&m.group)?;
        let resp = raft
            .handle_transfer_leader(decode(&m.payload).map_err(bad_payload)?)
            .await
            .map_err(fatal)?;
        reply(&m.group, &resp)
    }
}
