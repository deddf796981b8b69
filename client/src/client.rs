//! [`Client`]: typed calls over a list of endpoints, with one retry loop for all of them.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use icc_proto::LEADER_HINT_METADATA_KEY;
use icc_proto::v1::audit_service_client::AuditServiceClient;
use icc_proto::v1::cluster_service_client::ClusterServiceClient;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use icc_proto::v1::{
    AccessEntry, AddLearnerRequest, AppendTimelineRequest, AppendTimelineResponse, AuditEntry,
    ChangeMembershipRequest, Consistency, DeclareGlobalIncidentRequest, DeclareIncidentRequest,
    ExportAccessRequest, ExportAuditRequest, GetIncidentRequest, GetTimelineRequest,
    GetTimelineResponse, Hlc, IncidentResponse, ListIncidentsRequest, ListIncidentsResponse,
    MembershipResponse, SetLegalHoldRequest, StatusRequest, StatusResponse, TransferLeaderRequest,
    UpdateIncidentRequest, VerifyAccessRequest, VerifyAuditRequest, VerifyAuditResponse,
};
use tokio::time::Instant;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Response};

use crate::config::{ClientConfig, display_endpoint, normalize_endpoint};
use crate::error::{ClientError, EndpointFailure, describe_status, tls_mismatch_hint};
use crate::hlc::HlcTracker;
use crate::retry::{Backoff, Verdict, classify, is_transport_error};

/// At most this many endpoints learned from leader hints are added to the configured ones.
const MAX_HINTED_ENDPOINTS: usize = 16;

/// A handle to an icc cluster: typed calls, failover between nodes, idempotent retries and
/// causality tracking.
///
/// Exists so every caller (the CLI, tests, other services) gets the same behaviour when nodes
/// fail or leadership moves, instead of re-implementing retries around raw tonic stubs.
/// Cheap to clone: clones share connections, the preferred endpoint and the causality token.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ClientConfig,
    hlc: HlcTracker,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Normalised endpoints: the configured ones, then any learned from leader hints.
    endpoints: Vec<String>,
    /// How many of `endpoints` came from the configuration.
    configured: usize,
    /// Lazily created channels, one per endpoint.
    channels: HashMap<String, Channel>,
    /// Index into `endpoints` of the node that answered last.
    preferred: usize,
}

/// What one attempt came to, for the retry loop.
enum Attempt<R> {
    Done(R),
    Retry { error: String, hint: Option<String> },
}

impl Client {
    /// Checks the configuration and builds a client. Does not connect: connections are opened
    /// on first use and then cached per endpoint, so this works while nodes are down and does
    /// not need a running Tokio runtime.
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        let endpoints = config.validate()?;
        let configured = endpoints.len();
        let config = ClientConfig {
            endpoints: endpoints.clone(),
            ..config
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                hlc: HlcTracker::new(),
                state: Mutex::new(State {
                    endpoints,
                    configured,
                    channels: HashMap::new(),
                    preferred: 0,
                }),
            }),
        })
    }

    /// The configuration in use (endpoints in normal form, `http://host:port`).
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Every endpoint the client may use, as `host:port`: the configured ones first, then any
    /// learned from leader hints.
    pub fn endpoints(&self) -> Vec<String> {
        self.state()
            .endpoints
            .iter()
            .map(|e| display_endpoint(e).to_string())
            .collect()
    }

    /// The endpoint (`host:port`) the next call will try first: the one that answered last.
    pub fn preferred_endpoint(&self) -> String {
        let st = self.state();
        st.endpoints
            .get(st.preferred)
            .map(|e| display_endpoint(e).to_string())
            .unwrap_or_default()
    }

    /// The causality token: the greatest HLC seen in any response so far. Sent as `icc-hlc` on
    /// every request.
    pub fn last_hlc(&self) -> Option<Hlc> {
        self.inner.hlc.get()
    }

    /// Adds an HLC observed elsewhere (e.g. handed over by another process) to the causality
    /// token, so this client's next requests are ordered after it.
    pub fn observe_hlc(&self, hlc: Hlc) {
        self.inner.hlc.observe(hlc);
    }

    /// Feeds response or error metadata to the causality token.
    pub(crate) fn observe_metadata(&self, md: &tonic::metadata::MetadataMap) {
        self.inner.hlc.observe_metadata(md);
    }

    // ---- incidents -------------------------------------------------------------------------

    /// Declares a new incident.
    ///
    /// `request_id` is the idempotency key: `Some(id)` uses it (e.g. to retry a call whose
    /// outcome is unknown); `None` keeps `req.request_id` if set, else generates a UUID v4. The
    /// same id is sent on every retry, so the server declares the incident once.
    pub async fn declare(
        &self,
        mut req: DeclareIncidentRequest,
        request_id: Option<String>,
    ) -> Result<IncidentResponse, ClientError> {
        req.request_id = pick_request_id(request_id, &req.request_id);
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).declare_incident(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Declares a global incident over several regions; the cluster then opens one child
    /// incident per region. `request_id` works as for [`Client::declare`].
    pub async fn declare_global(
        &self,
        mut req: DeclareGlobalIncidentRequest,
        request_id: Option<String>,
    ) -> Result<IncidentResponse, ClientError> {
        req.request_id = pick_request_id(request_id, &req.request_id);
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch)
                .declare_global_incident(r)
                .await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Reads one incident.
    pub async fn get_incident(
        &self,
        id: impl Into<String>,
        consistency: Consistency,
    ) -> Result<IncidentResponse, ClientError> {
        let req = GetIncidentRequest {
            id: id.into(),
            consistency: consistency.into(),
        };
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).get_incident(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Reads one page of incidents.
    pub async fn list_incidents(
        &self,
        req: ListIncidentsRequest,
    ) -> Result<ListIncidentsResponse, ClientError> {
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).list_incidents(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Reads incidents page after page by following `next_page_token`, and returns them as one
    /// response (in server order) with the last page's `served_by`.
    ///
    /// `limit` caps the number of incidents collected; when it cuts the listing short, the
    /// returned `next_page_token` is the token of the first page not read (it may repeat some
    /// of the incidents returned). Each page is its own call with its own deadline.
    pub async fn list_all_incidents(
        &self,
        mut req: ListIncidentsRequest,
        limit: Option<usize>,
    ) -> Result<ListIncidentsResponse, ClientError> {
        let mut all = ListIncidentsResponse::default();
        if let Some(limit) = limit {
            if limit == 0 {
                return Ok(all);
            }
            let cap = u32::try_from(limit).unwrap_or(u32::MAX);
            if req.page_size == 0 || req.page_size > cap {
                req.page_size = cap.min(1000);
            }
        }
        loop {
            let page = self.list_incidents(req.clone()).await?;
            all.incidents.extend(page.incidents);
            all.served_by = page.served_by;
            all.next_page_token = page.next_page_token;
            if let Some(limit) = limit
                && all.incidents.len() >= limit
            {
                all.incidents.truncate(limit);
                return Ok(all);
            }
            if all.next_page_token.is_empty() || all.next_page_token == req.page_token {
                // The second test guards against a server that hands back the same token forever.
                all.next_page_token.clear();
                return Ok(all);
            }
            req.page_token = all.next_page_token.clone();
        }
    }

    /// Changes an incident's title, severity, status or commander (the fields that are set).
    /// `request_id` works as for [`Client::declare`].
    pub async fn update_incident(
        &self,
        mut req: UpdateIncidentRequest,
        request_id: Option<String>,
    ) -> Result<IncidentResponse, ClientError> {
        req.request_id = pick_request_id(request_id, &req.request_id);
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).update_incident(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Places (`hold = true`) or releases a legal hold on an incident: a held incident is never
    /// purged by retention. `request_id` works as for [`Client::declare`].
    pub async fn set_legal_hold(
        &self,
        mut req: SetLegalHoldRequest,
        request_id: Option<String>,
    ) -> Result<IncidentResponse, ClientError> {
        req.request_id = pick_request_id(request_id, &req.request_id);
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).set_legal_hold(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Adds a note to an incident's timeline. `request_id` works as for [`Client::declare`].
    pub async fn append_timeline(
        &self,
        mut req: AppendTimelineRequest,
        request_id: Option<String>,
    ) -> Result<AppendTimelineResponse, ClientError> {
        req.request_id = pick_request_id(request_id, &req.request_id);
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).append_timeline(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Changes an incident's war room: posts a status, adds or changes an action, or records a
    /// decision. `request_id` works as for [`Client::declare`].
    pub async fn change_war_room(
        &self,
        mut req: icc_proto::v1::WarRoomRequest,
        request_id: Option<String>,
    ) -> Result<IncidentResponse, ClientError> {
        req.request_id = pick_request_id(request_id, &req.request_id);
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).change_war_room(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Reads an incident's whole timeline.
    pub async fn get_timeline(
        &self,
        id: impl Into<String>,
        consistency: Consistency,
    ) -> Result<GetTimelineResponse, ClientError> {
        let req = GetTimelineRequest {
            id: id.into(),
            consistency: consistency.into(),
        };
        self.unary(req, true, |ch, r| async move {
            IncidentServiceClient::new(ch).get_timeline(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    // ---- cluster ---------------------------------------------------------------------------

    /// The cluster as seen by the node that answers; with `local_only` only that node's own
    /// view, otherwise it also asks every member.
    pub async fn cluster_status(&self, local_only: bool) -> Result<StatusResponse, ClientError> {
        let req = StatusRequest {
            local_only,
            group: String::new(),
        };
        self.unary(req, true, |ch, r| async move {
            ClusterServiceClient::new(ch).status(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Adds a node as a non-voting learner (`region` may be empty for the node's default).
    pub async fn add_learner(
        &self,
        node_id: u64,
        addr: impl Into<String>,
        region: impl Into<String>,
    ) -> Result<MembershipResponse, ClientError> {
        let req = AddLearnerRequest {
            node_id,
            addr: addr.into(),
            region: region.into(),
        };
        self.unary(req, true, |ch, r| async move {
            ClusterServiceClient::new(ch).add_learner(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Replaces the voter set.
    pub async fn change_membership(
        &self,
        voters: Vec<u64>,
    ) -> Result<MembershipResponse, ClientError> {
        let req = ChangeMembershipRequest { voters };
        self.unary(req, true, |ch, r| async move {
            ClusterServiceClient::new(ch).change_membership(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Asks the leader to hand leadership to another voter.
    pub async fn transfer_leader(
        &self,
        to_node_id: u64,
    ) -> Result<MembershipResponse, ClientError> {
        let req = TransferLeaderRequest { to_node_id };
        self.unary(req, true, |ch, r| async move {
            ClusterServiceClient::new(ch).transfer_leader(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    // ---- audit -------------------------------------------------------------------------------

    /// Asks a node to recompute its copy of a group's audit chain (empty group: the answering
    /// node's region).
    pub async fn verify_audit(
        &self,
        group: impl Into<String>,
    ) -> Result<VerifyAuditResponse, ClientError> {
        let req = VerifyAuditRequest {
            group: group.into(),
        };
        self.unary(req, true, |ch, r| async move {
            AuditServiceClient::new(ch).verify_audit(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// A group's audit entries from `from_seq` on, as one node holds them.
    pub async fn export_audit(
        &self,
        group: impl Into<String>,
        from_seq: u64,
    ) -> Result<Vec<AuditEntry>, ClientError> {
        let req = ExportAuditRequest {
            group: group.into(),
            from_seq,
        };
        let (mut stream, _) = self
            .unary(req, false, |ch, r| async move {
                AuditServiceClient::new(ch).export_audit(r).await
            })
            .await?;
        collect(&mut stream).await
    }

    // ---- access log (node-local) ------------------------------------------------------------

    /// A client that talks to node `node_id` only (its address from the cluster status), for
    /// calls about that node's own data such as its access log.
    pub async fn node_client(&self, node_id: u64) -> Result<Client, ClientError> {
        let status = self.cluster_status(false).await?;
        let addr = status
            .groups
            .iter()
            .flat_map(|g| &g.nodes)
            .find(|n| n.node_id == node_id)
            .map(|n| n.addr.clone())
            .ok_or_else(|| ClientError::Rejected {
                code: tonic::Code::NotFound,
                message: format!("node {node_id} is not in the cluster status"),
            })?;
        let mut config = self.inner.config.clone();
        config.endpoints = vec![addr];
        Client::new(config)
    }

    /// Asks node `node_id` to recompute its access-log chain.
    pub async fn verify_access(&self, node_id: u64) -> Result<VerifyAuditResponse, ClientError> {
        let node = self.node_client(node_id).await?;
        node.unary(VerifyAccessRequest { node_id }, true, |ch, r| async move {
            AuditServiceClient::new(ch).verify_access(r).await
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Node `node_id`'s access-log entries from `from_seq` on.
    pub async fn export_access(
        &self,
        node_id: u64,
        from_seq: u64,
    ) -> Result<Vec<AccessEntry>, ClientError> {
        let node = self.node_client(node_id).await?;
        let req = ExportAccessRequest { node_id, from_seq };
        let (mut stream, _) = node
            .unary(req, false, |ch, r| async move {
                AuditServiceClient::new(ch).export_access(r).await
            })
            .await?;
        collect(&mut stream).await
    }

    // ---- the retry loop --------------------------------------------------------------------

    /// Runs one logical call: tries the preferred endpoint, moves on (or to a leader hint) after
    /// a retryable failure, backs off, and gives up at the overall deadline. Returns the answer
    /// and the endpoint that gave it.
    ///
    /// `grpc_timeout` sends the attempt timeout to the server as `grpc-timeout`; streaming calls
    /// turn it off, since it would end the stream. The local per-attempt timeout only covers
    /// the wait for the response headers either way.
    pub(crate) async fn unary<M, R, F, Fut>(
        &self,
        msg: M,
        grpc_timeout: bool,
        mut call: F,
    ) -> Result<(R, String), ClientError>
    where
        M: Clone,
        F: FnMut(Channel, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<R>, tonic::Status>>,
    {
        let cfg = &self.inner.config;
        let deadline = Instant::now() + cfg.deadline;
        let mut backoff = Backoff::new();
        let mut failures: Vec<EndpointFailure> = Vec::new();
        let mut attempts: u32 = 0;
        let mut target = self.preferred();
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ClientError::Unreachable {
                    deadline: cfg.deadline,
                    attempts,
                    failures,
                });
            }
            let per_attempt = cfg.request_timeout.min(remaining);
            attempts += 1;
            let outcome = match self.channel(&target) {
                Err(e) => Attempt::Retry {
                    error: e.to_string(),
                    hint: None,
                },
                Ok(channel) => {
                    let mut req = Request::new(msg.clone());
                    if grpc_timeout {
                        req.set_timeout(per_attempt);
                    }
                    self.inner.hlc.stamp(req.metadata_mut());
                    self.authorize(req.metadata_mut())?;
                    match tokio::time::timeout(per_attempt, call(channel, req)).await {
                        Ok(Ok(resp)) => {
                            self.inner.hlc.observe_metadata(resp.metadata());
                            Attempt::Done(resp.into_inner())
                        }
                        Ok(Err(status)) => {
                            self.inner.hlc.observe_metadata(status.metadata());
                            let tls = self.inner.config.tls.is_some();
                            if let Some(hint) = tls_mismatch_hint(&status, tls) {
                                return Err(ClientError::Config(format!(
                                    "{}: {hint}",
                                    display_endpoint(&target)
                                )));
                            }
                            match classify(status.code(), is_transport_error(&status)) {
                                Verdict::Fail => {
                                    self.set_preferred(&target);
                                    return Err(ClientError::Rejected {
                                        code: status.code(),
                                        message: status.message().to_string(),
                                    });
                                }
                                Verdict::Retry => Attempt::Retry {
                                    error: describe_status(&status),
                                    hint: leader_hint(status.metadata()),
                                },
                            }
                        }
                        Err(_) => Attempt::Retry {
                            error: format!(
                                "no answer within {}",
                                humantime::format_duration(Duration::from_millis(
                                    per_attempt.as_millis() as u64
                                ))
                            ),
                            hint: None,
                        },
                    }
                }
            };
            match outcome {
                Attempt::Done(r) => {
                    self.set_preferred(&target);
                    return Ok((r, display_endpoint(&target).to_string()));
                }
                Attempt::Retry { error, hint } => {
                    record_failure(&mut failures, display_endpoint(&target), error);
                    target = hint
                        .and_then(|h| self.learn_endpoint(&h))
                        .unwrap_or_else(|| self.next_after(&target));
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(backoff.next_delay().min(remaining)).await;
        }
    }

    // ---- endpoint bookkeeping --------------------------------------------------------------

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The normalised endpoint to try first.
    fn preferred(&self) -> String {
        let st = self.state();
        st.endpoints
            .get(st.preferred)
            .or_else(|| st.endpoints.first())
            .cloned()
            .unwrap_or_default()
    }

    fn set_preferred(&self, endpoint: &str) {
        let mut st = self.state();
        if let Some(i) = st.endpoints.iter().position(|e| e == endpoint) {
            st.preferred = i;
        }
    }

    /// The endpoint after `endpoint` in the list, wrapping around.
    pub(crate) fn next_after(&self, endpoint: &str) -> String {
        let st = self.state();
        let n = st.endpoints.len().max(1);
        let i = st
            .endpoints
            .iter()
            .position(|e| e == endpoint)
            .map_or(0, |i| (i + 1) % n);
        st.endpoints.get(i).cloned().unwrap_or_default()
    }

    /// Makes `endpoint` (a normalised endpoint) no longer preferred: the next call starts with
    /// the one after it. Used when a watch stream on it breaks.
    pub(crate) fn avoid(&self, endpoint: &str) {
        let next =
            self.next_after(&normalize_endpoint(endpoint).unwrap_or_else(|_| endpoint.to_string()));
        self.set_preferred(&next);
    }

    /// Adds an endpoint learned from a leader hint (if it parses and there is room) and returns
    /// its normal form.
    fn learn_endpoint(&self, raw: &str) -> Option<String> {
        let ep = normalize_endpoint(raw).ok()?;
        let mut st = self.state();
        if !st.endpoints.contains(&ep) {
            if st.endpoints.len() >= st.configured + MAX_HINTED_ENDPOINTS {
                return None;
            }
            st.endpoints.push(ep.clone());
        }
        Some(ep)
    }

    /// Adds the bearer token, if configured, to a request's metadata.
    pub(crate) fn authorize(
        &self,
        md: &mut tonic::metadata::MetadataMap,
    ) -> Result<(), ClientError> {
        if let Some(token) = &self.inner.config.token {
            let value = tonic::metadata::MetadataValue::try_from(format!("Bearer {}", token.0))
                .map_err(|_| {
                    ClientError::Config("token: must be printable ASCII without spaces".into())
                })?;
            md.insert("authorization", value);
        }
        Ok(())
    }

    /// The cached channel for an endpoint, created lazily (no connection is made here).
    fn channel(&self, endpoint: &str) -> Result<Channel, ClientError> {
        let mut st = self.state();
        if let Some(ch) = st.channels.get(endpoint) {
            return Ok(ch.clone());
        }
        let bad = |e: tonic::transport::Error| {
            ClientError::Config(format!("endpoint `{}`: {e}", display_endpoint(endpoint)))
        };
        let mut ep = match &self.inner.config.tls {
            None => Endpoint::from_shared(endpoint.to_string()).map_err(bad)?,
            Some(tls) => {
                let https = format!("https://{}", display_endpoint(endpoint));
                let mut cfg = ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(&tls.ca))
                    .domain_name(icc_proto::security::NODE_SERVER_NAME);
                if let Some((cert, key)) = &tls.identity {
                    cfg = cfg.identity(Identity::from_pem(cert, key));
                }
                Endpoint::from_shared(https)
                    .map_err(bad)?
                    .tls_config(cfg)
                    .map_err(bad)?
            }
        };
        ep = ep
            .connect_timeout(self.inner.config.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .keep_alive_while_idle(true);
        let ch = ep.connect_lazy();
        st.channels.insert(endpoint.to_string(), ch.clone());
        Ok(ch)
    }
}

/// The request id to send: the caller's explicit one, else the one already in the request,
/// else a fresh UUID v4. Chosen once per logical call, so every retry carries the same id.
fn pick_request_id(explicit: Option<String>, in_request: &str) -> String {
    match explicit {
        Some(id) if !id.is_empty() => id,
        _ if !in_request.is_empty() => in_request.to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

/// The leader address a node put on its error, if any.
fn leader_hint(md: &tonic::metadata::MetadataMap) -> Option<String> {
    md.get(LEADER_HINT_METADATA_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Keeps the last error per endpoint, in first-tried order.
pub(crate) fn record_failure(failures: &mut Vec<EndpointFailure>, endpoint: &str, error: String) {
    match failures.iter_mut().find(|f| f.endpoint == endpoint) {
        Some(f) => f.error = error,
        None => failures.push(EndpointFailure {
            endpoint: endpoint.to_string(),
            error,
        }),
    }
}

/// Every item of a server stream, or the status that ended it.
async fn collect<T>(
    stream: &mut (impl futures::Stream<Item = Result<T, tonic::Status>> + Unpin),
) -> Result<Vec<T>, ClientError> {
    let mut out = Vec::new();
    while let Some(item) = futures::StreamExt::next(stream).await {
        out.push(item.map_err(|s| ClientError::Rejected {
            code: s.code(),
            message: s.message().to_owned(),
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::{MetadataMap, MetadataValue};

    #[test]
    fn request_id_precedence() {
        assert_eq!(pick_request_id(Some("mine".into()), "in-req"), "mine");
        assert_eq!(pick_request_id(None, "in-req"), "in-req");
        assert_eq!(pick_request_id(Some(String::new()), "in-req"), "in-req");
        let fresh = pick_request_id(None, "");
        assert!(uuid::Uuid::parse_str(&fresh).is_ok(), "{fresh}");
        assert_ne!(fresh, pick_request_id(None, ""));
    }

    #[test]
    fn new_validates_and_normalizes() {
        assert!(matches!(
            Client::new(ClientConfig::new(Vec::<String>::new())),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            Client::new(ClientConfig::new(["nope"])),
            Err(ClientError::Config(_))
        ));
        let c = Client::new(ClientConfig::new(["a:1", "http://b:2"])).ok();
        let c = c.as_ref();
        assert_eq!(
            c.map(Client::endpoints),
            Some(vec!["a:1".to_string(), "b:2".to_string()])
        );
        assert_eq!(c.map(Client::preferred_endpoint), Some("a:1".to_string()));
    }

    #[test]
    fn rotation_and_hints() {
        let Ok(c) = Client::new(ClientConfig::new(["a:1", "b:2", "c:3"])) else {
            panic!("valid config rejected");
        };
        assert_eq!(c.next_after("http://a:1"), "http://b:2");
        assert_eq!(c.next_after("http://c:3"), "http://a:1");
        c.avoid("a:1");
        assert_eq!(c.preferred_endpoint(), "b:2");
        assert_eq!(c.learn_endpoint("c:3").as_deref(), Some("http://c:3"));
        assert_eq!(
            c.learn_endpoint("http://d:4").as_deref(),
            Some("http://d:4")
        );
        assert_eq!(c.endpoints().len(), 4);
        assert_eq!(c.learn_endpoint("not an address"), None);

        let mut md = MetadataMap::new();
        assert_eq!(leader_hint(&md), None);
        md.insert(
            LEADER_HINT_METADATA_KEY,
            MetadataValue::from_static("10.0.0.2:7002"),
        );
        assert_eq!(leader_hint(&md).as_deref(), Some("10.0.0.2:7002"));
    }

    #[test]
    fn failures_keep_the_last_error_per_endpoint() {
        let mut f = Vec::new();
        record_failure(&mut f, "a:1", "one".into());
        record_failure(&mut f, "b:2", "two".into());
        record_failure(&mut f, "a:1", "three".into());
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0],
            EndpointFailure {
                endpoint: "a:1".into(),
                error: "three".into()
            }
        );
    }

    /// Nothing listens on port 1: the call must fail as unreachable within the deadline, after
    /// several attempts, naming the endpoint.
    #[tokio::test]
    async fn unreachable_cluster_gives_up_at_the_deadline() {
        let cfg = ClientConfig::new(["127.0.0.1:1"])
            .with_deadline(Duration::from_millis(400))
            .with_request_timeout(Duration::from_millis(200));
        let Ok(c) = Client::new(cfg) else {
            panic!("valid config rejected")
        };
        let started = std::time::Instant::now();
        let err = c.get_incident("x", Consistency::Local).await;
        let elapsed = started.elapsed();
        match err {
            Err(ClientError::Unreachable {
                attempts, failures, ..
            }) => {
                assert!(attempts >= 2, "attempts {attempts}");
                assert_eq!(failures.len(), 1);
                assert_eq!(failures[0].endpoint, "127.0.0.1:1");
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    }
}
