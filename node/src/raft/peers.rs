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
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

use super::hlc::NodeClock;

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

/// Which connection to a peer a call uses.
///
/// Heartbeats and votes decide who leads; they get their own TCP connection so they never
/// queue behind megabytes of replication and forwarded writes on the data connection. Before
/// this split, a saturated leader's heartbeats timed out behind its own append stream and
/// followers started elections (leader changes in the 128- and 256-client `make bench` runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Log replication, snapshots, forwarded client requests.
    Data,
    /// Heartbeats, votes and pre-votes.
    Control,
}

/// Cached channels to peers, by address and lane.
pub struct Peers {
    clock: Arc<NodeClock>,
    tls: Option<ClientTlsConfig>,
    channels: Mutex<HashMap<(String, Lane), Channel>>,
    /// Peer address -> address actually dialled (a proxy in chaos tests); see `NodeEntry::dial`.
    dial: HashMap<String, String>,
    refusals: Mutex<HashMap<u64, Instant>>,
}

/// How long a peer's refusal of this node's clock counts.
pub const CLOCK_REFUSAL_WINDOW: Duration = Duration::from_secs(3);

impl Peers {
    /// An empty cache; channels are created on first use and connect lazily, with mutual TLS
    /// when `tls` is given (every node presents its node certificate to its peers).
    pub fn new(clock: Arc<NodeClock>, tls: Option<ClientTlsConfig>) -> Self {
        Self {
            clock,
            tls,
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

    /// The data channel to `addr` (`host:port`).
    pub fn channel(&self, addr: &str) -> Result<PeerChannel, Status> {
        self.lane_channel(addr, Lane::Data)
    }

    /// The channel to `addr` on `lane`.
    pub fn lane_channel(&self, addr: &str, lane: Lane) -> Result<PeerChannel, Status> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let key = (addr.to_owned(), lane);
        let channel = match map.get(&key) {
            Some(c) => c.clone(),
            None => {
                let bad = |e: tonic::transport::Error| {
                    Status::internal(format!("bad peer address {addr}: {e}"))
                };
                let target = self.dial.get(addr).map_or(addr, String::as_str);
                let endpoint = match &self.tls {
                    None => Endpoint::from_shared(format!("http://{target}")).map_err(bad)?,
                    Some(tls) => Endpoint::from_shared(format!("https://{target}"))
                        .map_err(bad)?
                        .tls_config(tls.clone())
                        .map_err(bad)?,
                };
                let endpoint = endpoint
                    .connect_timeout(Duration::from_millis(500))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(10))
                    .keep_alive_timeout(Duration::from_secs(5));
                let c = endpoint.connect_lazy();
                map.insert(key, c.clone());
                c
            }
        };
        Ok(InterceptedService::new(
            channel,
            StampOutgoing(self.clock.clone()),
        ))
    }

    /// Raft transport client to `addr` on `lane`.
    pub fn raft(&self, addr: &str, lane: Lane) -> Result<RaftServiceClient<PeerChannel>, Status> {
        Ok(RaftServiceClient::new(self.lane_channel(addr, lane)?)
            .max_decoding_message_size(64 << 20))
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
