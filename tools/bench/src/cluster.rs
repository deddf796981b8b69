//! The two systems under test behind one interface: a writer for the load, and a per-member
//! view (status, a single write attempt) for leader discovery, health checks and failover.
//!
//! Every write the load and the failover probes send is one plain gRPC call with a timeout and
//! no retry, on both systems: icc's declares, appends and updates and etcd's puts go out the
//! same way, so neither system's client-side retry policy is part of what is measured. (The
//! preload of the scale scenario is not measured per request and goes through
//! [`icc_client::Client`], the path every icc user takes: retries with the same request id, so
//! each incident and note is written once.)

use std::fmt;
use std::time::Duration;

use icc_client::v1::cluster_service_client::ClusterServiceClient;
use icc_client::v1::incident_service_client::IncidentServiceClient;
use icc_client::v1::{Role, StatusRequest};
use icc_client::{
    Client, ClientConfig, ClientError, code_words, display_endpoint, normalize_endpoint,
};
use tonic::Request;
use tonic::transport::{Channel, Endpoint};

use super::etcd::pb as etcd;
use super::workload::{IccRequest, Request as WorkRequest};

/// Which system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// An icc region group (`iccd`).
    Icc,
    /// An etcd cluster (v3 API).
    Etcd,
}

impl System {
    /// `icc` or `etcd`.
    pub fn name(self) -> &'static str {
        match self {
            System::Icc => "icc",
            System::Etcd => "etcd",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one member says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStatus {
    /// The member's own id (icc node id, etcd member id).
    pub id: u64,
    /// The leader it knows (0: none).
    pub leader: u64,
    /// Its Raft term.
    pub term: u64,
    /// Its committed log index.
    pub committed: u64,
    /// Its applied log index.
    pub applied: u64,
    /// The last index in its log (icc; 0: an empty log, and always 0 for etcd).
    pub last_log: u64,
    /// The index its latest snapshot covers (icc; 0: none, and always 0 for etcd).
    pub snapshot: u64,
    /// The index up to which it has dropped its log (icc; 0: nothing, and always 0 for etcd).
    pub purged: u64,
}

/// Connection settings shared by every channel the benchmark opens.
fn channel(endpoint: &str) -> Result<Channel, String> {
    Ok(Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| format!("{}: {e}", display_endpoint(endpoint)))?
        .connect_timeout(Duration::from_millis(300))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(5))
        .connect_lazy())
}

/// A cluster of either system: its members' endpoints and one channel to each.
#[derive(Clone, Debug)]
pub struct Cluster {
    system: System,
    /// Normalised endpoints (`http://host:port`), in the order given.
    endpoints: Vec<String>,
    channels: Vec<Channel>,
}

impl Cluster {
    /// A cluster of these members (`host:port`); connects lazily.
    pub fn new(system: System, endpoints: &[String]) -> Result<Cluster, String> {
        if endpoints.is_empty() {
            return Err(format!("no {system} endpoints given"));
        }
        let endpoints: Vec<String> = endpoints
            .iter()
            .map(|e| normalize_endpoint(e).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        let channels = endpoints
            .iter()
            .map(|e| channel(e))
            .collect::<Result<_, _>>()?;
        Ok(Cluster {
            system,
            endpoints,
            channels,
        })
    }

    /// Which system this is.
    pub fn system(&self) -> System {
        self.system
    }

    /// The members' endpoints as `host:port`, in the order given.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints
            .iter()
            .map(|e| display_endpoint(e).to_string())
            .collect()
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Asks member `i` (0-based) for its status, one attempt.
    pub async fn status(&self, i: usize, timeout: Duration) -> Result<MemberStatus, String> {
        let ch = self.channels[i].clone();
        let call = async {
            match self.system {
                System::Icc => {
                    let mut req = Request::new(StatusRequest {
                        local_only: true,
                        ..Default::default()
                    });
                    req.set_timeout(timeout);
                    let resp = ClusterServiceClient::new(ch)
                        .status(req)
                        .await
                        .map_err(|s| status_text(&s))?
                        .into_inner();
                    // A node answers for every group it hosts: its region's (measured here)
                    // and, as a global voter, the global group.
                    let mut groups = resp.groups;
                    let i = groups.iter().position(|g| g.group != "global").unwrap_or(0);
                    let node = (i < groups.len())
                        .then(|| groups.swap_remove(i))
                        .and_then(|g| g.nodes.into_iter().next())
                        .ok_or("empty status answer")?;
                    let leader = if node.role == i32::from(Role::Leader) {
                        node.node_id
                    } else {
                        node.leader_id
                    };
                    Ok(MemberStatus {
                        id: node.node_id,
                        leader,
                        term: node.term,
                        committed: node.committed_index,
                        applied: node.applied_index,
                        last_log: node.last_log_index,
                        snapshot: node.snapshot_index,
                        purged: node.purged_index,
                    })
                }
                System::Etcd => {
                    let mut req = Request::new(etcd::StatusRequest {});
                    req.set_timeout(timeout);
                    let resp = etcd::maintenance_client::MaintenanceClient::new(ch)
                        .status(req)
                        .await
                        .map_err(|s| status_text(&s))?
                        .into_inner();
                    Ok(MemberStatus {
                        id: resp.header.map_or(0, |h| h.member_id),
                        leader: resp.leader,
                        term: resp.raft_term,
                        committed: resp.raft_index,
                        applied: resp.raft_applied_index,
                        last_log: 0,
                        snapshot: 0,
                        purged: 0,
                    })
                }
            }
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {timeout:?}")),
        }
    }

    /// Every member's status (or why it has none), in endpoint order.
    pub async fn statuses(&self, timeout: Duration) -> Vec<Result<MemberStatus, String>> {
        futures::future::join_all((0..self.len()).map(|i| self.status(i, timeout))).await
    }

    /// The member (0-based) that leads, and its term: the one whose own id is the leader the
    /// members that answer agree on.
    pub async fn leader(&self, timeout: Duration) -> Result<(usize, u64), String> {
        let all = self.statuses(timeout).await;
        leader_of(&all).ok_or_else(|| describe(&self.endpoints(), &all))
    }

    /// `Ok` when every member answers, all name the same leader, and all have applied the same
    /// index (the cluster is idle while this is asked, so a member that has caught up shows the
    /// leader's index).
    pub async fn healthy(&self, timeout: Duration) -> Result<(), String> {
        let all = self.statuses(timeout).await;
        let ok: Vec<&MemberStatus> = all.iter().filter_map(|s| s.as_ref().ok()).collect();
        let agreed = ok.len() == all.len()
            && leader_of(&all).is_some()
            && ok.iter().all(|s| s.leader == ok[0].leader)
            && ok.iter().all(|s| s.applied == ok[0].applied);
        if agreed {
            Ok(())
        } else {
            Err(describe(&self.endpoints(), &all))
        }
    }

    /// One write to member `i` with no retry: `Ok` once that member acknowledges it.
    pub async fn write_once(
        &self,
        i: usize,
        req: &WorkRequest,
        timeout: Duration,
    ) -> Result<(), String> {
        write_on(self.system, self.channels[i].clone(), req, timeout)
            .await
            .map(drop)
            .map_err(|e| e.text())
    }

    /// A writer for the load: `conns` connections to the leader (found now), so the clients of
    /// both systems send to the leader as etcd's benchmark guide advises. Each request is sent
    /// once with `deadline`; see [`Writer`].
    pub async fn writer(&self, conns: usize, deadline: Duration) -> Result<Writer, String> {
        let (leader, _) = self.leader(Duration::from_secs(2)).await?;
        let channels = (0..conns.max(1))
            .map(|_| channel(&self.endpoints[leader]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Writer {
            system: self.system,
            channels,
            deadline,
        })
    }

    /// `conns` icc clients (each with its own connections), the leader (found now) first in
    /// their endpoint lists and the other members after it: the path every icc user takes,
    /// with retries under one request id and failover between members within `deadline`.
    pub async fn icc_clients(
        &self,
        conns: usize,
        deadline: Duration,
    ) -> Result<Vec<Client>, String> {
        if self.system != System::Icc {
            return Err(format!("{} has no icc client", self.system));
        }
        let (leader, _) = self.leader(Duration::from_secs(2)).await?;
        let mut order = vec![self.endpoints[leader].clone()];
        order.extend(
            self.endpoints
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != leader)
                .map(|(_, e)| e.clone()),
        );
        (0..conns.max(1))
            .map(|_| Client::new(ClientConfig::new(order.clone()).with_deadline(deadline)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }
}

/// Sends the load over connections to the leader, the same way for both systems: each request
/// is one gRPC call with the deadline and no retry. A request that fails (an error from the
/// member, or no answer within the deadline) is the client's error to count; the client goes on
/// with its next request. A leader change therefore shows as errors on both systems (an icc or
/// etcd follower forwards writes to its leader itself).
#[derive(Clone, Debug)]
pub struct Writer {
    system: System,
    /// One channel per connection, each to the member that led when the writer was made.
    channels: Vec<Channel>,
    /// Per-request deadline (also sent as `grpc-timeout`).
    deadline: Duration,
}

impl Writer {
    /// How many connections.
    pub fn conns(&self) -> usize {
        self.channels.len()
    }

    /// Sends one request over connection `conn` and waits for the acknowledgement. Returns the
    /// id of a declared icc incident; an error is a short label to count by.
    pub async fn send(&self, conn: usize, req: &WorkRequest) -> Result<Option<String>, String> {
        let ch = self.channels[conn % self.channels.len()].clone();
        write_on(self.system, ch, req, self.deadline)
            .await
            .map_err(|e| e.label())
    }
}

/// Why a write was not acknowledged.
#[derive(Debug)]
enum WriteError {
    /// The member (or the transport) answered with this status.
    Status(tonic::Status),
    /// No answer within the timeout.
    Timeout,
}

impl WriteError {
    /// The whole story, for messages: the code in words and the member's message.
    fn text(&self) -> String {
        match self {
            WriteError::Status(s) => status_text(s),
            WriteError::Timeout => "timeout".into(),
        }
    }

    /// A short label to count errors by: the code in words, and for codes that say little by
    /// themselves (unknown, internal) the start of the message.
    fn label(&self) -> String {
        match self {
            WriteError::Status(s)
                if matches!(s.code(), tonic::Code::Unknown | tonic::Code::Internal) =>
            {
                format!(
                    "{}: {}",
                    code_words(s.code()),
                    s.message().chars().take(60).collect::<String>()
                )
            }
            WriteError::Status(s) => code_words(s.code()).to_string(),
            WriteError::Timeout => "deadline exceeded".into(),
        }
    }
}

/// Sends `req` once over `ch` with `timeout` (also sent as `grpc-timeout`): icc gets the request
/// itself, etcd a put of its encoded bytes. Returns the id of a declared icc incident.
async fn write_on(
    system: System,
    ch: Channel,
    req: &WorkRequest,
    timeout: Duration,
) -> Result<Option<String>, WriteError> {
    let call = async {
        match system {
            System::Icc => {
                let mut client = IncidentServiceClient::new(ch);
                match req.icc.clone() {
                    IccRequest::Declare(r) => client
                        .declare_incident(timed(r, timeout))
                        .await
                        .map(|resp| resp.into_inner().incident.map(|i| i.id)),
                    IccRequest::Append(r) => client
                        .append_timeline(timed(r, timeout))
                        .await
                        .map(|_| None),
                    IccRequest::Update(r) => client
                        .update_incident(timed(r, timeout))
                        .await
                        .map(|_| None),
                }
            }
            System::Etcd => etcd::kv_client::KvClient::new(ch)
                .put(timed(put_request(req), timeout))
                .await
                .map(|_| None),
        }
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(r) => r.map_err(WriteError::Status),
        Err(_) => Err(WriteError::Timeout),
    }
}

fn timed<T>(msg: T, timeout: Duration) -> Request<T> {
    let mut req = Request::new(msg);
    req.set_timeout(timeout);
    req
}

/// The etcd put carrying the same bytes as the icc request.
fn put_request(req: &WorkRequest) -> etcd::PutRequest {
    etcd::PutRequest {
        key: req.key.clone().into_bytes(),
        value: req.icc.encode(),
        ..Default::default()
    }
}

/// The leader the answering members agree on, as (member index, term).
fn leader_of(all: &[Result<MemberStatus, String>]) -> Option<(usize, u64)> {
    let ok: Vec<&MemberStatus> = all.iter().filter_map(|s| s.as_ref().ok()).collect();
    let leader = ok.first()?.leader;
    if leader == 0 || ok.iter().any(|s| s.leader != leader) {
        return None;
    }
    let i = all
        .iter()
        .position(|s| s.as_ref().is_ok_and(|s| s.id == leader))?;
    let term = all[i].as_ref().map_or(0, |s| s.term);
    Some((i, term))
}

/// One line per member, for "not healthy yet" messages.
fn describe(endpoints: &[String], all: &[Result<MemberStatus, String>]) -> String {
    endpoints
        .iter()
        .zip(all)
        .map(|(e, s)| match s {
            Ok(s) => format!(
                "{e}: id {:x} leader {:x} term {} applied {}",
                s.id, s.leader, s.term, s.applied
            ),
            Err(err) => format!("{e}: {err}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn status_text(s: &tonic::Status) -> String {
    format!("{}: {}", code_words(s.code()), s.message())
}

/// A label to count an icc client's errors by (the preload): the code in words, and for codes
/// that say little by themselves the start of the message.
pub fn client_error_label(e: &ClientError) -> String {
    match e {
        ClientError::Rejected { code, message } => {
            WriteError::Status(tonic::Status::new(*code, message.clone())).label()
        }
        ClientError::Unreachable { .. } => "unreachable (deadline)".to_string(),
        ClientError::Config(_) => "configuration".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(id: u64, leader: u64, term: u64) -> Result<MemberStatus, String> {
        Ok(MemberStatus {
            id,
            leader,
            term,
            committed: 5,
            applied: 5,
            last_log: 5,
            snapshot: 0,
            purged: 0,
        })
    }

    #[test]
    fn leader_needs_agreement_and_an_answer_from_the_leader() {
        assert_eq!(
            leader_of(&[st(1, 2, 3), st(2, 2, 3), st(3, 2, 3)]),
            Some((1, 3))
        );
        assert_eq!(
            leader_of(&[Err("down".into()), st(2, 2, 4), st(3, 2, 4)]),
            Some((1, 4))
        );
        // Disagreement, no leader, or the leader itself silent: unknown.
        assert_eq!(leader_of(&[st(1, 2, 3), st(2, 1, 3)]), None);
        assert_eq!(leader_of(&[st(1, 0, 3), st(2, 0, 3)]), None);
        assert_eq!(leader_of(&[st(1, 2, 3), Err("down".into())]), None);
        assert_eq!(leader_of(&[]), None);
    }
}
