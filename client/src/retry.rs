//! Which failures are worth another attempt, and how long to wait before it.

use std::time::Duration;

use tonic::Code;

/// What the retry loop should do after a failed attempt.
///
/// Exists so the decision is one small pure function that can be tested without a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The failure is about the node or the path to it: try again, preferably elsewhere.
    Retry,
    /// The server understood the request and refused it: give the answer to the caller.
    Fail,
}

/// Classifies a failed attempt by its gRPC code and whether the error was produced locally by
/// the transport (connection refused or reset, HTTP/2 errors, local timeouts) rather than sent
/// by a server as a gRPC status.
///
/// Unknown, Internal and Cancelled are retried only when they come from the transport: from a
/// server they are real answers, and a retry could hide a bug.
pub fn classify(code: Code, from_transport: bool) -> Verdict {
    match code {
        Code::Unavailable | Code::DeadlineExceeded | Code::Aborted | Code::ResourceExhausted => {
            Verdict::Retry
        }
        Code::Unknown | Code::Internal | Code::Cancelled if from_transport => Verdict::Retry,
        Code::Ok
        | Code::Unknown
        | Code::Internal
        | Code::Cancelled
        | Code::InvalidArgument
        | Code::FailedPrecondition
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::DataLoss => Verdict::Fail,
    }
}

/// Whether a status was made on this side of the wire from a transport error.
///
/// tonic attaches the underlying error (hyper, h2, io, connect errors) as the status' source
/// when it builds a status locally; a status decoded from a server's `grpc-status` has none.
pub fn is_transport_error(status: &tonic::Status) -> bool {
    std::error::Error::source(status).is_some()
}

/// Exponential backoff between attempts: 25 ms, doubling, at most 100 ms, with ±10 % jitter.
/// The cap is low because the usual wait is an election (a few hundred ms): a long sleep would
/// outlast it and add to failover time.
///
/// Exists so retries neither hammer a struggling cluster nor wait longer than needed after a
/// leader change (which usually settles within a few hundred milliseconds).
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    /// First delay.
    pub const INITIAL: Duration = Duration::from_millis(25);
    /// Largest delay before jitter.
    pub const CAP: Duration = Duration::from_millis(100);

    /// A backoff that starts at [`Backoff::INITIAL`].
    pub fn new() -> Self {
        Self {
            next: Self::INITIAL,
        }
    }

    /// The next delay without jitter, advancing the schedule.
    pub fn next_base(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::CAP);
        d
    }

    /// The next delay with jitter, advancing the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next_base();
        let jitter: f64 = rand::random_range(0.9..=1.1);
        base.mul_f64(jitter)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_codes() {
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::ResourceExhausted,
        ] {
            assert_eq!(
                classify(code, false),
                Verdict::Retry,
                "{code:?} from server"
            );
            assert_eq!(
                classify(code, true),
                Verdict::Retry,
                "{code:?} from transport"
            );
        }
    }

    #[test]
    fn transport_only_codes() {
        for code in [Code::Unknown, Code::Internal, Code::Cancelled] {
            assert_eq!(
                classify(code, true),
                Verdict::Retry,
                "{code:?} from transport"
            );
            assert_eq!(classify(code, false), Verdict::Fail, "{code:?} from server");
        }
    }

    #[test]
    fn final_answers_are_not_retried() {
        for code in [
            Code::InvalidArgument,
            Code::FailedPrecondition,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::OutOfRange,
            Code::Unimplemented,
            Code::DataLoss,
        ] {
            assert_eq!(classify(code, false), Verdict::Fail, "{code:?}");
            assert_eq!(
                classify(code, true),
                Verdict::Fail,
                "{code:?} from transport"
            );
        }
    }

    #[test]
    fn transport_origin_is_detected_from_the_source_chain() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        );
        let local = tonic::Status::from_error(Box::new(io));
        assert!(is_transport_error(&local));
        assert_eq!(
            classify(local.code(), is_transport_error(&local)),
            Verdict::Retry
        );
        let remote = tonic::Status::internal("state machine exploded");
        assert!(!is_transport_error(&remote));
        assert_eq!(
            classify(remote.code(), is_transport_error(&remote)),
            Verdict::Fail
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut b = Backoff::new();
        let got: Vec<u64> = (0..7).map(|_| b.next_base().as_millis() as u64).collect();
        assert_eq!(got, vec![25, 50, 100, 100, 100, 100, 100]);
        let mut b = Backoff::new();
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(
                d >= Duration::from_micros(22_500) && d <= Duration::from_millis(440),
                "{d:?}"
            );
        }
    }
}
