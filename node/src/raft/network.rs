//! The client side of the node-to-node Raft transport: openraft's network traits over gRPC.
//! Every message names its group; payloads go through `codec`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use icc_proto::v1::{RaftMessage, SnapshotChunk, snapshot_chunk};
use openraft::OptionalSend;
use openraft::base::{BoxFuture, BoxStream};
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{Backoff, RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, StreamAppendResult,
    TransferLeaderRequest, TransferLeaderResponse, VoteRequest, VoteResponse,
};
use tonic::Code;

use super::peers::{Lane, PeerChannel, Peers};
use super::{NodeId, NodeInfo, Snapshot, SnapshotData, TypeConfig, Vote};
use crate::store::codec::{decode, encode};
use crate::store::keys::GroupKeys;
use crate::store::snapshot;

/// How long one snapshot transfer may take: it streams the group's whole state (gigabytes after
/// years), so it is not bounded by a heartbeat-sized RPC timeout; openraft drops it sooner when
/// replication to the member ends.
const SNAPSHOT_TRANSFER_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Creates connections to the members of one group.
#[derive(Clone)]
pub struct NetworkFactory {
    group: String,
    peers: Arc<Peers>,
    /// Added delay to a member by its region (the cluster file's `latency` rules).
    delay_to: Arc<dyn Fn(&str) -> Duration + Send + Sync>,
}

impl NetworkFactory {
    /// Connections for `group` over the node's shared `peers` channels; `delay_to` gives the
    /// delay added to each request to a member of the given region.
    pub fn new(
        group: String,
        peers: Arc<Peers>,
        delay_to: Arc<dyn Fn(&str) -> Duration + Send + Sync>,
    ) -> Self {
        Self {
            group,
            peers,
            delay_to,
        }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Connection {
        Connection {
            group: self.group.clone(),
            target,
            addr: node.addr.clone(),
            peers: self.peers.clone(),
            delay: (self.delay_to)(&node.region),
        }
    }
}

/// The connection to one member of one group.
pub struct Connection {
    group: String,
    target: NodeId,
    addr: String,
    peers: Arc<Peers>,
    /// Added to every request (emulated distance to the member's region).
    delay: Duration,
}

/// True when a peer refused the request because this node's clock is too far ahead.
fn is_clock_refusal(status: &tonic::Status) -> bool {
    status.code() == Code::FailedPrecondition && status.message().starts_with("clock skew")
}

fn rpc_err(target: NodeId, status: tonic::Status) -> RPCError<TypeConfig> {
    let err = std::io::Error::other(format!(
        "node {target}: {}: {}",
        status.code(),
        status.message()
    ));
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            RPCError::Unreachable(Unreachable::new(&err))
        }
        _ => RPCError::Network(NetworkError::new(&err)),
    }
}

fn io_rpc_err(e: std::io::Error) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::new(&e))
}

impl Connection {
    fn message<T: serde::Serialize>(&self, value: &T) -> Result<RaftMessage, RPCError<TypeConfig>> {
        Ok(RaftMessage {
            group: self.group.clone(),
            payload: encode(value).map_err(io_rpc_err)?,
        })
    }

    fn client(&self, lane: Lane) -> Result<RaftClient, RPCError<TypeConfig>> {
        self.peers
            .raft(&self.addr, lane)
            .map_err(|s| rpc_err(self.target, s))
    }

    /// Maps a failed RPC, noting a peer's refusal of this node's clock.
    fn failed(&self, status: tonic::Status) -> RPCError<TypeConfig> {
        if is_clock_refusal(&status) {
            self.peers.record_clock_refusal(self.target);
        }
        rpc_err(self.target, status)
    }

    /// One unary Raft RPC: encode, send with the RPC's deadline, decode the reply.
    async fn unary<Req, Resp, F, Fut>(
        &self,
        lane: Lane,
        req: &Req,
        option: &RPCOption,
        call: F,
    ) -> Result<Resp, RPCError<TypeConfig>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
        F: FnOnce(RaftClient, tonic::Request<RaftMessage>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<RaftMessage>, tonic::Status>>,
    {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let mut request = tonic::Request::new(self.message(req)?);
        request.set_timeout(option.hard_ttl());
        let reply = call(self.client(lane)?, request)
            .await
            .map_err(|s| self.failed(s))?;
        decode(&reply.into_inner().payload).map_err(io_rpc_err)
    }
}

type RaftClient = icc_proto::v1::raft_service_client::RaftServiceClient<PeerChannel>;

impl RaftNetworkV2<TypeConfig> for Connection {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        // Empty appends are heartbeats: they keep the leader's lease, so they take the control lane.
        let lane = if rpc.entries.is_empty() {
            Lane::Control
        } else {
            Lane::Data
        };
        self.unary(lane, &rpc, &option, |mut c, r| async move {
            c.append_entries(r).await
        })
        .await
    }

    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        _option: RPCOption,
    ) -> BoxFuture<
        's,
        Result<
            BoxStream<'s, Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>>,
            RPCError<TypeConfig>,
        >,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + OptionalSend + Unpin + 'static,
    {
        Box::pin(async move {
            let group = self.group.clone();
            let target = self.target;
            let delay = self.delay;
            // Requests that cannot be encoded end the stream; openraft then retries.
            let outgoing = input
                .map(move |req| {
                    encode(&req).map(|payload| RaftMessage {
                        group: group.clone(),
                        payload,
                    })
                })
                .then(move |r| async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    r
                })
                .take_while(|r| futures::future::ready(r.is_ok()))
                .filter_map(|r| futures::future::ready(r.ok()));
            let response = self
                .client(Lane::Data)?
                .stream_append(outgoing)
                .await
                .map_err(|s| self.failed(s))?;
            let peers = self.peers.clone();
            let replies = response.into_inner().map(move |item| {
                let msg = item.map_err(|s| {
                    if is_clock_refusal(&s) {
                        peers.record_clock_refusal(target);
                    }
                    rpc_err(target, s)
                })?;
                decode::<StreamAppendResult<TypeConfig>>(&msg.payload).map_err(io_rpc_err)
            });
            Ok(Box::pin(replies) as BoxStream<'s, _>)
        })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(Lane::Control, &rpc, &option, |mut c, r| async move {
            c.vote(r).await
        })
        .await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(Lane::Control, &rpc, &option, |mut c, r| async move {
            c.pre_vote(r).await
        })
        .await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        _cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let target = self.target;
        let SnapshotData::Checkpoint(path) = snapshot.snapshot else {
            return Err(StreamingError::from(io_rpc_err(std::io::Error::other(
                "only a snapshot taken on this node can be sent",
            ))));
        };
        let meta =
            encode(&(vote, snapshot.meta)).map_err(|e| StreamingError::from(io_rpc_err(e)))?;
        let group = self.group.clone();
        let first = SnapshotChunk {
            group: group.clone(),
            chunk: Some(snapshot_chunk::Chunk::Meta(meta)),
        };
        // The pairs are read from the checkpoint on a blocking thread, a few chunks ahead of
        // the network; `end` follows only a complete read.
        let (tx, rx) = tokio::sync::mpsc::channel::<SnapshotChunk>(4);
        let keys = GroupKeys::new(&group);
        let started = std::time::Instant::now();
        let reader = tokio::task::spawn_blocking(move || {
            let chunk = |c| SnapshotChunk {
                group: keys.name().to_owned(),
                chunk: Some(c),
            };
            let mut bytes = 0u64;
            let sent = snapshot::send(&path, &keys, |data| {
                bytes += data.len() as u64;
                tx.blocking_send(chunk(snapshot_chunk::Chunk::Data(data)))
                    .is_ok()
            })?;
            // The receiver may have gone: the RPC's own result says so.
            let _ = tx.blocking_send(chunk(snapshot_chunk::Chunk::End(sent)));
            Ok::<u64, std::io::Error>(bytes)
        });
        let chunks =
            futures::stream::iter([first]).chain(tokio_stream::wrappers::ReceiverStream::new(rx));
        let mut req = tonic::Request::new(chunks);
        req.set_timeout(option.hard_ttl().max(SNAPSHOT_TRANSFER_TIMEOUT));
        let reply = self
            .client(Lane::Data)
            .map_err(StreamingError::from)?
            .install_snapshot(req)
            .await;
        let bytes = match reader.await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => {
                tracing::warn!(group = %self.group, target, "reading the snapshot to send: {e}");
                0
            }
            Err(_) => 0,
        };
        let reply = reply.map_err(|s| StreamingError::from(rpc_err(target, s)))?;
        tracing::info!(
            group = %self.group,
            target,
            bytes,
            took_ms = started.elapsed().as_millis() as u64,
            "snapshot sent"
        );
        decode(&reply.into_inner().payload).map_err(|e| StreamingError::from(io_rpc_err(e)))
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(Lane::Control, &req, &option, |mut c, r| async move {
            c.transfer_leader(r).await
        })
        .await
    }

    fn backoff(&self) -> Option<Backoff> {
        // Retry an unreachable peer every 100 ms: fast enough to notice a restart quickly.
        Some(Backoff::new(std::iter::repeat(Duration::from_millis(100))))
    }
}
