//! The one error type of the client library.

use std::fmt;
use std::time::Duration;

use tonic::Code;

/// `<code words>: <message>`, without repeating the code words when the node's message
/// already starts with them (`permission denied: incident.write on ...`).
fn rejected_text(code: Code, message: &str) -> String {
    let words = code_words(code);
    if message.starts_with(&format!("{words}:")) {
        message.to_owned()
    } else {
        format!("{words}: {message}")
    }
}

/// Why a client call failed.
///
/// Exists so callers can tell the three situations apart that need different reactions: the
/// server said no (fix the request), nobody answered (fix the network or wait), or the client
/// was set up wrong (fix the configuration).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A node answered and refused the request (invalid argument, not found, failed
    /// precondition...). Retrying the same request will not help.
    #[error("{}", rejected_text(*.code, .message))]
    Rejected {
        /// The gRPC status code the node returned.
        code: Code,
        /// The node's explanation.
        message: String,
    },
    /// No endpoint gave a usable answer before the call's overall deadline.
    #[error("{}", unreachable_text(*.deadline, *.attempts, .failures))]
    Unreachable {
        /// The overall deadline that ran out.
        deadline: Duration,
        /// How many attempts were made in total.
        attempts: u32,
        /// The last error seen from each endpoint tried, in the order they were first tried.
        failures: Vec<EndpointFailure>,
    },
    /// The client configuration is unusable (no endpoints, an endpoint that is not `host:port`...).
    #[error("bad configuration: {0}")]
    Config(String),
}

impl ClientError {
    /// The gRPC code behind this error, when a node (or the transport) produced one.
    pub fn code(&self) -> Option<Code> {
        match self {
            ClientError::Rejected { code, .. } => Some(*code),
            ClientError::Unreachable { .. } => Some(Code::Unavailable),
            ClientError::Config(_) => None,
        }
    }
}

/// The last thing that went wrong with one endpoint during a call.
///
/// Exists so "unreachable" errors can say what happened where, which is what an operator needs
/// to decide whether the address, the node or the network is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointFailure {
    /// The endpoint as `host:port`.
    pub endpoint: String,
    /// What went wrong there, in words.
    pub error: String,
}

struct Unreachable<'a> {
    deadline: Duration,
    attempts: u32,
    failures: &'a [EndpointFailure],
}

fn unreachable_text(deadline: Duration, attempts: u32, failures: &[EndpointFailure]) -> String {
    Unreachable {
        deadline,
        attempts,
        failures,
    }
    .to_string()
}

impl fmt::Display for Unreachable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no endpoint answered within {} ({} attempt{})",
            humantime::format_duration(self.deadline),
            self.attempts,
            if self.attempts == 1 { "" } else { "s" }
        )?;
        for (i, fail) in self.failures.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{}: {}", fail.endpoint, fail.error)?;
        }
        Ok(())
    }
}

/// A gRPC code as lowercase words, e.g. `invalid argument`, for messages meant for people.
pub fn code_words(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown error",
        Code::InvalidArgument => "invalid argument",
        Code::DeadlineExceeded => "deadline exceeded",
        Code::NotFound => "not found",
        Code::AlreadyExists => "already exists",
        Code::PermissionDenied => "permission denied",
        Code::ResourceExhausted => "resource exhausted",
        Code::FailedPrecondition => "failed precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out of range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal error",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// Describes a failed attempt in one line: the code's words, the message, and the root cause
/// from the error's source chain when it adds something (e.g. `Connection refused`). A status
/// the node sent itself is marked `node answered ...`, so it is not mistaken for a failure to
/// reach that node.
pub(crate) fn describe_status(status: &tonic::Status) -> String {
    let mut out = String::new();
    if std::error::Error::source(status).is_none() {
        out.push_str("node answered ");
    }
    out.push_str(code_words(status.code()));
    let msg = status.message().trim();
    if !msg.is_empty() {
        out.push_str(": ");
        out.push_str(msg);
    }
    let mut root: Option<String> = None;
    let mut src = std::error::Error::source(status);
    while let Some(e) = src {
        root = Some(e.to_string());
        src = e.source();
    }
    if let Some(root) = root {
        let root = root.trim();
        if !root.is_empty() && !out.contains(root) {
            out.push_str(" (");
            out.push_str(root);
            out.push(')');
        }
    }
    out
}

/// The words of a status and its whole source chain, lowercased, for recognising a failure.
fn status_chain_text(status: &tonic::Status) -> String {
    let mut text = status.message().to_lowercase();
    let mut src = std::error::Error::source(status);
    while let Some(e) = src {
        text.push(' ');
        text.push_str(&e.to_string().to_lowercase());
        src = e.source();
    }
    text
}

/// When a transport failure means the client and the node disagree about TLS, what to do about
/// it; `None` for every other failure.
///
/// Exists because the raw symptoms are cryptic and retrying cannot help: a plaintext HTTP/2
/// client reads the TLS alert of a TLS node as an HTTP/2 frame header ("frame with invalid
/// size"), and a TLS client reads a plaintext node's HTTP/2 frames as a corrupt TLS record
/// ("InvalidContentType"). Without this the call retried until its deadline and then printed
/// the h2 error, which sent operators looking at the network.
pub(crate) fn tls_mismatch_hint(status: &tonic::Status, client_uses_tls: bool) -> Option<String> {
    // A status without a source was sent by a node: its answer, not a mismatch.
    std::error::Error::source(status)?;
    let text = status_chain_text(status);
    if !client_uses_tls && text.contains("frame with invalid size") {
        return Some(
            "the node speaks TLS but this client is set up for plaintext: give it the cluster CA \
             and a client certificate or token (`ca`, `cert`, `key` or `token` in the client \
             config, or --ca/--cert/--key/--token; for `make run`: \
             export ICC_CONFIG=$PWD/.icc-run/icc.toml)"
                .to_string(),
        );
    }
    if client_uses_tls && (text.contains("invalidcontenttype") || text.contains("corrupt message"))
    {
        return Some(
            "the node does not speak TLS (was it started with --insecure-plaintext?): \
             leave out `ca`, `cert` and `key` to talk plaintext to it"
                .to_string(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport_failure(root: &str) -> tonic::Status {
        tonic::Status::from_error(Box::new(std::io::Error::other(root.to_owned())))
    }

    #[test]
    fn tls_mismatch_is_recognised_in_both_directions_and_only_from_the_transport() {
        let framing = transport_failure("frame with invalid size");
        let plaintext_hint = tls_mismatch_hint(&framing, false).unwrap_or_default();
        assert!(plaintext_hint.contains("speaks TLS"), "{plaintext_hint}");
        assert_eq!(tls_mismatch_hint(&framing, true), None);

        let corrupt = transport_failure("received corrupt message of type InvalidContentType");
        let tls_hint = tls_mismatch_hint(&corrupt, true).unwrap_or_default();
        assert!(tls_hint.contains("--insecure-plaintext"), "{tls_hint}");
        assert_eq!(tls_mismatch_hint(&corrupt, false), None);

        // The same words sent by a node as a status message are its answer, not a mismatch.
        let answered = tonic::Status::unknown("frame with invalid size");
        assert_eq!(tls_mismatch_hint(&answered, false), None);
        assert_eq!(
            tls_mismatch_hint(&transport_failure("connection refused"), false),
            None
        );
    }

    #[test]
    fn rejected_display_uses_words() {
        let e = ClientError::Rejected {
            code: Code::InvalidArgument,
            message: "title: must not be empty".into(),
        };
        assert_eq!(e.to_string(), "invalid argument: title: must not be empty");
    }

    #[test]
    fn unreachable_lists_each_endpoint() {
        let e = ClientError::Unreachable {
            deadline: Duration::from_secs(10),
            attempts: 7,
            failures: vec![
                EndpointFailure {
                    endpoint: "a:1".into(),
                    error: "unavailable: tcp connect error".into(),
                },
                EndpointFailure {
                    endpoint: "b:2".into(),
                    error: "no answer within 2s".into(),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "no endpoint answered within 10s (7 attempts): a:1: unavailable: tcp connect error; b:2: no answer within 2s"
        );
    }

    #[test]
    fn describe_includes_root_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let st = tonic::Status::from_error(Box::new(io));
        let d = describe_status(&st);
        assert!(d.contains("Connection refused"), "{d}");
        assert!(!d.starts_with("node answered"), "{d}");
        assert_eq!(
            describe_status(&tonic::Status::unavailable("no leader")),
            "node answered unavailable: no leader"
        );
    }
}
