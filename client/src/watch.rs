//! A resumable stream of committed incident changes.

use futures::Stream;
use icc_proto::v1::incident_service_client::IncidentServiceClient;
use icc_proto::v1::{IncidentChange, WatchIncidentsRequest};
use tonic::Streaming;

use tokio::time::Instant;

use crate::client::{Client, record_failure};
use crate::config::display_endpoint;
use crate::error::{ClientError, EndpointFailure, describe_status};
use crate::retry::{Backoff, Verdict, classify, is_transport_error};

/// Where a watch stands between two items.
struct WatchState {
    /// The region whose changes are streamed; empty for the answering node's region.
    region: String,
    client: Client,
    /// First index to ask for on the next (re)connect; 0 until a start point is known.
    next_index: u64,
    /// Index of the last change handed to the caller.
    last_delivered: Option<u64>,
    /// The open stream and the endpoint it runs on.
    stream: Option<(Streaming<IncidentChange>, String)>,
    /// When the stream first broke since the last delivered change, with the backoff and the
    /// errors seen since: bounds reconnect loops against nodes that accept and then drop us.
    broken: Option<(Instant, Backoff, u32, Vec<EndpointFailure>)>,
    done: bool,
}

impl WatchState {
    /// Notes a broken stream on `endpoint`; returns the error to end with once breaks have gone
    /// on for longer than the overall deadline, else backs off before the next reconnect.
    async fn broke(&mut self, endpoint: &str, error: String) -> Option<ClientError> {
        self.client.avoid(endpoint);
        let deadline = self.client.config().deadline;
        let (since, backoff, attempts, failures) = self
            .broken
            .get_or_insert_with(|| (Instant::now(), Backoff::new(), 0, Vec::new()));
        *attempts += 1;
        record_failure(failures, display_endpoint(endpoint), error);
        if since.elapsed() >= deadline {
            return Some(ClientError::Unreachable {
                deadline,
                attempts: *attempts,
                failures: std::mem::take(failures),
            });
        }
        tokio::time::sleep(backoff.next_delay()).await;
        None
    }
}

/// What to do with one item from the server, given the last index delivered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// New: hand it to the caller.
    Deliver,
    /// Already delivered (a replay after reconnecting): drop it.
    Skip,
}

/// Decides whether a change at `index` is new, so reconnects never produce duplicates.
pub(crate) fn delivery(last_delivered: Option<u64>, index: u64) -> Delivery {
    match last_delivered {
        Some(last) if index <= last => Delivery::Skip,
        _ => Delivery::Deliver,
    }
}

impl Client {
    /// Streams committed incident changes in log order, starting at `from_index` (0 means "from
    /// now on").
    ///
    /// The stream survives node failures: when it breaks it reconnects to any endpoint and
    /// resumes at the last delivered index + 1, dropping replays, so the caller sees every
    /// change exactly once and in order. With `from_index` 0 the client first asks a node for
    /// its applied index and starts just after it, so even a break before the first change
    /// leaves no gap. Each (re)connect may take up to the overall deadline; if no node can be
    /// reached in that time, or a node rejects the watch (e.g. the index is no longer
    /// retained), the stream yields that error and ends.
    pub fn watch(
        &self,
        from_index: u64,
    ) -> impl Stream<Item = Result<IncidentChange, ClientError>> + Send + 'static {
        self.watch_region(String::new(), from_index)
    }

    /// Like [`Client::watch`], for the changes of one region's group (empty: the answering
    /// node's region). Only nodes of that region serve the stream.
    pub fn watch_region(
        &self,
        region: String,
        from_index: u64,
    ) -> impl Stream<Item = Result<IncidentChange, ClientError>> + Send + 'static {
        let state = WatchState {
            region,
            client: self.clone(),
            next_index: from_index,
            last_delivered: from_index.checked_sub(1),
            stream: None,
            broken: None,
            done: false,
        };
        futures::stream::unfold(state, |mut st| async move {
            loop {
                if st.done {
                    return None;
                }
                if st.next_index == 0 {
                    match st.client.cluster_status(st.region.is_empty()).await {
                        Ok(status) => {
                            // Without served_by, fall back to the server's own "from now on".
                            let applied = if st.region.is_empty() {
                                status.served_by.map(|s| s.applied_index)
                            } else {
                                status
                                    .groups
                                    .iter()
                                    .find(|g| g.group == st.region)
                                    .and_then(|g| {
                                        g.nodes
                                            .iter()
                                            .filter(|n| n.reachable)
                                            .map(|n| n.applied_index)
                                            .max()
                                    })
                            };
                            if let Some(applied) = applied {
                                st.next_index = applied + 1;
                                st.last_delivered = Some(applied);
                            }
                        }
                        Err(e) => {
                            st.done = true;
                            return Some((Err(e), st));
                        }
                    }
                }
                let (stream, endpoint) = match st.stream.take() {
                    Some(open) => open,
                    None => {
                        let req = WatchIncidentsRequest {
                            from_index: st.next_index,
                            region: st.region.clone(),
                        };
                        let opened = st
                            .client
                            .unary(req, false, |ch, r| async move {
                                IncidentServiceClient::new(ch).watch_incidents(r).await
                            })
                            .await;
                        match opened {
                            Ok(open) => open,
                            Err(e) => {
                                st.done = true;
                                return Some((Err(e), st));
                            }
                        }
                    }
                };
                let mut stream = stream;
                match stream.message().await {
                    Ok(Some(change)) => {
                        st.stream = Some((stream, endpoint));
                        if delivery(st.last_delivered, change.index) == Delivery::Skip {
                            continue;
                        }
                        st.broken = None;
                        st.last_delivered = Some(change.index);
                        st.next_index = change.index + 1;
                        return Some((Ok(change), st));
                    }
                    Ok(None) => {
                        // The node ended the stream (e.g. shutting down): resume elsewhere.
                        if let Some(err) = st
                            .broke(&endpoint, "the node ended the stream".into())
                            .await
                        {
                            st.done = true;
                            return Some((Err(err), st));
                        }
                    }
                    Err(status) => match classify(status.code(), is_transport_error(&status)) {
                        Verdict::Retry => {
                            st.client.observe_metadata(status.metadata());
                            if let Some(err) = st.broke(&endpoint, describe_status(&status)).await {
                                st.done = true;
                                return Some((Err(err), st));
                            }
                        }
                        Verdict::Fail => {
                            st.done = true;
                            let err = ClientError::Rejected {
                                code: status.code(),
                                message: status.message().to_string(),
                            };
                            return Some((Err(err), st));
                        }
                    },
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_are_dropped() {
        assert_eq!(delivery(None, 1), Delivery::Deliver);
        assert_eq!(delivery(Some(5), 5), Delivery::Skip);
        assert_eq!(delivery(Some(5), 3), Delivery::Skip);
        assert_eq!(delivery(Some(5), 6), Delivery::Deliver);
    }
}
