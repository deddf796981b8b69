//! Where a group lives and how a request gets there: the ONE routing function every service
//! uses for every group, regional or global. A request for a group this node does not host is
//! sent to that group's nodes in turn (one "routed" hop, marked `icc-routed-from`); the node
//! that hosts it forwards it to the group's leader if needed (one "forwarded" hop, marked
//! `icc-forwarded`). A node never routes a routed request again nor forwards a forwarded one.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use icc_proto::{FORWARDED_METADATA_KEY, ORIGIN_REGION_METADATA_KEY, ROUTED_FROM_METADATA_KEY};
use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Response, Status};

use super::commit::COMMIT_TIMEOUT;
use super::{Group, NodeCtx, status};
use crate::domain::DomainError;
use crate::raft::peers::PeerChannel;

/// Where a request must go when this node cannot finish it.
#[derive(Debug)]
pub(crate) enum Route {
    /// To the group leader at this address.
    Leader(String),
    /// Nowhere right now: the status says why.
    Fail(Status),
}

impl From<Status> for Route {
    fn from(s: Status) -> Self {
        Route::Fail(s)
    }
}

/// Where the group a request belongs to lives, seen from this node.
pub(crate) enum Located {
    /// This node hosts it.
    Here(Arc<Group>),
    /// Only these nodes (addresses) host it.
    Elsewhere(Vec<String>),
}

/// The hops a request has already made.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hops {
    /// Already forwarded once to a leader.
    pub forwarded: bool,
    /// Routed here from a node of this region (the origin of the client request).
    pub routed_from: Option<String>,
    /// The region through which the request entered the cluster, when it came from another node.
    pub origin: Option<String>,
    /// The identity the request acts for (set by the authentication interceptor); onward hops
    /// carry it so the next node authorizes the original caller, not this node.
    pub caller: Option<String>,
}

impl Hops {
    /// Reads the hop marks of an incoming request.
    pub(crate) fn of<T>(req: &Request<T>) -> Self {
        let md = req.metadata();
        let text = |key: &str| md.get(key).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Hops {
            forwarded: md.contains_key(FORWARDED_METADATA_KEY),
            routed_from: text(ROUTED_FROM_METADATA_KEY),
            origin: text(ORIGIN_REGION_METADATA_KEY),
            caller: text(icc_proto::security::CALLER_METADATA_KEY),
        }
    }
}

/// The group an incident id belongs to: the part before the last `-`.
pub(crate) fn group_of_incident(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(group, _)| group)
}

impl NodeCtx {
    /// Finds the group `name`: here, or the addresses of its members.
    pub(crate) fn locate(&self, name: &str, hops: &Hops) -> Result<Located, Status> {
        if let Some(g) = self.groups.get(name) {
            return Ok(Located::Here(g.clone()));
        }
        let members: Vec<String> = self
            .topology
            .group_members(name)
            .iter()
            .map(|n| n.addr.clone())
            .collect();
        if members.is_empty() {
            return Err(status::domain(DomainError::NotFound {
                id: format!("{name} (no such region)"),
            }));
        }
        if hops.routed_from.is_some() {
            return Err(Status::failed_precondition(format!(
                "node {} does not host group {name} and the request was already routed once",
                self.id
            )));
        }
        Ok(Located::Elsewhere(members))
    }

    /// Serves a request about `group`: runs `local` on the group if this node hosts it; when
    /// `local` says the leader is elsewhere, or the group lives on other nodes, sends `msg` on
    /// with `call` (the same RPC, over a peer channel): to the leader once, or to the group's
    /// nodes in turn until one answers.
    pub(crate) async fn route<M, Resp, Local, LFut, Call, CFut>(
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
        Call: Fn(PeerChannel, Request<M>) -> CFut,
        CFut: Future<Output = Result<Response<Resp>, Status>>,
    {
        match self.locate(group, &hops)? {
            Located::Here(g) => match local(g.clone()).await {
                Ok(resp) => Ok(self.reply(resp)),
                Err(Route::Leader(addr)) if hops.forwarded => Err(self.no_second_hop(&g, &addr)),
                Err(Route::Leader(addr)) => {
                    let req = self.onward_request(msg, &hops, true);
                    let answer = call(self.peers.channel(&addr)?, req).await;
                    if let Err(s) = &answer {
                        self.note_refusal(&addr, s);
                    }
                    answer.map_err(|s| unreachable_peer(&addr, s))
                }
                Err(Route::Fail(s)) => Err(s),
            },
            Located::Elsewhere(addrs) => {
                // Emulated distance between regions (cluster file `latency`), zero by default.
                let delay = self.topology.latency(&self.region, group);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut last = Status::unavailable(format!("no node of group {group} answered"));
                for addr in addrs {
                    let req = self.onward_request(msg.clone(), &hops, false);
                    let answer = call(self.peers.channel(&addr)?, req)
                        .await
                        .map_err(|s| unreachable_peer(&addr, s));
                    if let Err(s) = &answer {
                        self.note_refusal(&addr, s);
                    }
                    match answer {
                        Err(s)
                            if matches!(
                                s.code(),
                                Code::Unavailable | Code::DeadlineExceeded | Code::Unknown
                            ) =>
                        {
                            last = Status::unavailable(format!(
                                "group {group}: node {addr} did not answer ({}); no node of the group answered",
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

    /// The status for a request that would need a second forward to a leader.
    fn no_second_hop(&self, group: &Group, addr: &str) -> Status {
        let mut s = Status::unavailable(format!(
            "node {} is not the leader of {} either (leader moved to {addr}); retry",
            self.id, group.name
        ));
        if let Ok(v) = MetadataValue::try_from(addr) {
            s.metadata_mut()
                .insert(icc_proto::LEADER_HINT_METADATA_KEY, v);
        }
        s
    }

    /// Builds the request this node sends on: to the leader of a group it hosts (`to_leader`),
    /// or to another group's node.
    pub(crate) fn onward_request<T>(&self, msg: T, hops: &Hops, to_leader: bool) -> Request<T> {
        let mut req = Request::new(msg);
        let md = req.metadata_mut();
        if to_leader {
            md.insert(FORWARDED_METADATA_KEY, MetadataValue::from_static("1"));
        }
        if let Some(v) = hops
            .caller
            .as_deref()
            .and_then(|c| MetadataValue::try_from(c).ok())
        {
            md.insert(icc_proto::security::CALLER_METADATA_KEY, v);
        }
        // The origin travels with every hop; the routing mark only across groups.
        let origin = self.origin_region(hops);
        if let Ok(v) = MetadataValue::try_from(origin.as_str()) {
            md.insert(ORIGIN_REGION_METADATA_KEY, v.clone());
            if !to_leader || hops.routed_from.is_some() {
                md.insert(ROUTED_FROM_METADATA_KEY, v);
            }
        }
        req.set_timeout(COMMIT_TIMEOUT + Duration::from_secs(1));
        req
    }
}

/// A forward or route that failed in the transport (the peer died or is cut off) becomes
/// UNAVAILABLE, so the client retries elsewhere with the same request id; passed on as is,
/// tonic's local "transport error" (Unknown) or "operation was canceled" (Cancelled) reached
/// the client as a server answer it must not retry. Found by the chaos suite (kill-leader; and
/// kill-region for routed requests).
pub(crate) fn unreachable_peer(addr: &str, s: Status) -> Status {
    if std::error::Error::source(&s).is_none() {
        return s;
    }
    Status::unavailable(format!(
        "node {addr} did not answer ({}); retry",
        s.message()
    ))
}
