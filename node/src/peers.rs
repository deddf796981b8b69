//! Outgoing gRPC to other nodes: one cached channel per peer address, every request stamped with
//! this node's HLC. Used by the Raft transport, by request forwarding and by cluster status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icc_proto::HLC_METADATA_KEY;
use icc_proto::v1::cluster_service_client::ClusterServiceClient;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use icc_proto::v1::raft_service_client::RaftServiceClient;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

use crate::hlc::NodeClock;

/// Adds the sender's HLC to every outgoing request.
#[derive(Clone)]
pub struct StampOutgoing(pub Arc<NodeClock>);

impl Interceptor for StampOutgoing {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let s = self.0.now();
        let text = icc_proto::v1::Hlc {
            wall_ns: s.wall_ns,
            logical: s.logical,
            node_id: s.node_id,
        }
        .to_header();
        let value = MetadataValue::try_from(text)
            .map_err(|e| Status::internal(format!("hlc header: {e}")))?;
        req.metadata_mut().insert(HLC_METADATA_KEY, value);
        Ok(req)
    }
}

/// A channel to a peer with HLC stamping.
pub type PeerChannel = InterceptedService<Channel, StampOutgoing>;

/// Cached channels to peers, by address.
pub struct Peers {
    clock: Arc<NodeClock>,
    channels: Mutex<HashMap<String, Channel>>,
    /// Peer address -> address actually dialled (a proxy in chaos tests); see `NodeEntry::dial`.
    dial: HashMap<String, String>,
    refusals: Mutex<HashMap<u64, Instant>>,
}

/// How long a peer's refusal of this node's clock counts.
pub const CLOCK_REFUSAL_WINDOW: Duration = Duration::from_secs(3);

impl Peers {
    /// An empty cache; channels are created on first use and connect lazily.
    pub fn new(clock: Arc<NodeClock>) -> Self {
        Self {
            clock,
            channels: Mutex::new(HashMap::new()),
            dial: HashMap::new(),
            refusals: Mutex::new(HashMap::new()),
        }
    }

    /// Dials `via` whenever a peer at `addr` is wanted, for each `(addr, via)` pair.
    pub fn with_dial_overrides(mut self, dial: impl IntoIterator<Item = (String, String)>) -> Self {
        self.dial.extend(dial);
        self
    }

    /// Notes that peer `node` refused a request because this node's clock was too far ahead.
    pub fn record_clock_refusal(&self, node: u64) {
        let mut r = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        r.insert(node, Instant::now());
    }

    /// Peers that refused this node's clock within the last [`CLOCK_REFUSAL_WINDOW`].
    pub fn clock_refused_by(&self) -> Vec<u64> {
        let r = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        r.iter()
            .filter(|(_, at)| at.elapsed() < CLOCK_REFUSAL_WINDOW)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The channel to `addr` (`host:port`).
    pub fn channel(&self, addr: &str) -> Result<PeerChannel, Status> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let channel = match map.get(addr) {
            Some(c) => c.clone(),
            None => {
                let target = self.dial.get(addr).map_or(addr, String::as_str);
                let endpoint = Endpoint::from_shared(format!("http://{target}"))
                    .map_err(|e| Status::internal(format!("bad peer address {addr}: {e}")))?
                    .connect_timeout(Duration::from_millis(500))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(10))
                    .keep_alive_timeout(Duration::from_secs(5));
                let c = endpoint.connect_lazy();
                map.insert(addr.to_owned(), c.clone());
                c
            }
        };
        Ok(InterceptedService::new(
            channel,
            StampOutgoing(self.clock.clone()),
        ))
    }

    /// Raft transport client to `addr`.
    pub fn raft(&self, addr: &str) -> Result<RaftServiceClient<PeerChannel>, Status> {
        Ok(RaftServiceClient::new(self.channel(addr)?).max_decoding_message_size(64 << 20))
    }

    /// Incident API client to `addr` (for forwarding to a leader).
    pub fn incidents(&self, addr: &str) -> Result<IncidentServiceClient<PeerChannel>, Status> {
        Ok(IncidentServiceClient::new(self.channel(addr)?))
    }

    /// Cluster API client to `addr`.
    pub fn cluster(&self, addr: &str) -> Result<ClusterServiceClient<PeerChannel>, Status> {
        Ok(ClusterServiceClient::new(self.channel(addr)?))
    }
}
