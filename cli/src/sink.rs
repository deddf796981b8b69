//! `icc notifications sink`: a webhook receiver for trying notification channels locally.
//!
//! Exists so `make run` (and anyone wiring up a `[[channel]]`) can watch the outbox deliver
//! without setting up Slack or a mail relay: every POST is answered 200 and printed as one line
//! with its `Idempotency-Key`, marked `duplicate` when the key was seen before (delivery is at
//! least once, so a receiver de-duplicates by that key; this one shows when it had to).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};

use super::Failure;
use super::args::SinkArgs;

/// Keys seen so far (one process lifetime).
type Seen = Arc<Mutex<HashSet<String>>>;

/// Listens until interrupted, printing one line per webhook call.
pub async fn run(args: SinkArgs) -> Result<(), Failure> {
    let addr: SocketAddr = args.listen.parse().map_err(|e| {
        Failure::usage(format!(
            "--listen: {e}: want HOST:PORT, e.g. 127.0.0.1:8090"
        ))
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::rejected(format!("--listen {addr}: cannot listen: {e}")))?;
    eprintln!("icc notifications sink: listening on http://{addr}/ (Ctrl-C stops)");
    let seen: Seen = Arc::default();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = seen.clone();
        async move {
            println!("{}", receipt_line(&seen, &uri, &headers, &body));
            StatusCode::OK
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Failure::rejected(format!("sink stopped: {e}")))
}

/// `<utc> <path> key=<key> [duplicate] <body on one line>`.
fn receipt_line(seen: &Seen, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> String {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let duplicate = key != "-"
        && !seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone());
    let text = String::from_utf8_lossy(body).replace(['\n', '\r'], " ");
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    format!(
        "{now} {} key={key}{} {}",
        uri.path(),
        if duplicate { " duplicate" } else { "" },
        text.trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_marked_duplicate_and_the_body_fits_one_line() {
        let seen = Seen::default();
        let uri: Uri = "/ops".parse().expect("uri");
        let mut headers = HeaderMap::new();
        headers.insert(
            "idempotency-key",
            "us-east-000001/n1".parse().expect("value"),
        );
        let first = receipt_line(&seen, &uri, &headers, b"{\"text\":\n\"a\"}");
        assert!(
            first.contains(" /ops key=us-east-000001/n1 {\"text\": \"a\"}"),
            "{first}"
        );
        let again = receipt_line(&seen, &uri, &headers, b"{}");
        assert!(
            again.contains("key=us-east-000001/n1 duplicate {}"),
            "{again}"
        );
        let keyless = receipt_line(&seen, &uri, &HeaderMap::new(), b"x");
        assert!(keyless.contains("key=- x"), "{keyless}");
    }
}
