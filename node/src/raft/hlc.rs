//! The node's hybrid logical clock.
//!
//! One clock per node (hybrid-clocks behind its `OffsetLimiter`), shared behind a mutex. The
//! leader stamps every command with it; every RPC carries the sender's stamp in the `icc-hlc`
//! metadata and the receiver observes it. A stamp further ahead of the local wall clock than the
//! configured max offset is refused, counted and logged, and the clock is left unchanged.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hybrid_clocks::{ClockSource, OffsetLimiter, Timestamp, WallNST};

use crate::domain::Stamp;

/// A wall clock shifted by a fixed offset. The offset is zero in production; tests inject one
/// (`--test-only-clock-offset-ms`) to exercise skew without touching the machine clock.
#[derive(Debug, Clone, Copy)]
struct ShiftedWall {
    offset_ns: i64,
}

impl ClockSource for ShiftedWall {
    type Time = WallNST;
    type Delta = Duration;

    /// Never fails: a system clock before 1970 reads as the epoch.
    fn now(&mut self) -> hybrid_clocks::Result<WallNST> {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let real = i128::try_from(real).unwrap_or(i128::MAX);
        let shifted = (real + i128::from(self.offset_ns)).clamp(0, i128::from(u64::MAX));
        Ok(WallNST::of_u64(shifted as u64))
    }
}

/// Why a remote stamp was refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "clock skew: the sender's HLC is {ahead_ms} ms ahead of node {node_id}'s clock, more than the max offset of {max_ms} ms; check the sender's time sync"
)]
pub struct ClockSkew {
    /// How far ahead the remote stamp was.
    pub ahead_ms: u64,
    /// The refusing node.
    pub node_id: u64,
    /// The configured limit.
    pub max_ms: u64,
}

/// The node's HLC.
pub struct NodeClock {
    node_id: u64,
    max_offset: Duration,
    inner: Mutex<OffsetLimiter<ShiftedWall>>,
    rejections: AtomicU64,
}

impl NodeClock {
    /// A clock for `node_id` refusing remote stamps more than `max_offset` ahead; `test_offset`
    /// shifts the local wall clock (tests only).
    pub fn new(
        node_id: u64,
        max_offset: Duration,
        test_offset: Duration,
        test_offset_negative: bool,
    ) -> Self {
        let magnitude = i64::try_from(test_offset.as_nanos()).unwrap_or(i64::MAX);
        let offset_ns = if test_offset_negative {
            -magnitude
        } else {
            magnitude
        };
        let clock = hybrid_clocks::Clock::new(ShiftedWall { offset_ns })
            .expect("ShiftedWall::now never fails");
        Self {
            node_id,
            max_offset,
            inner: Mutex::new(clock.with_max_diff(max_offset)),
            rejections: AtomicU64::new(0),
        }
    }

    /// A fresh stamp, later than every stamp this node made or observed.
    pub fn now(&self) -> Stamp {
        let mut clock = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let ts = clock.now().expect("ShiftedWall::now never fails");
        to_stamp(ts, self.node_id)
    }

    /// Observes a remote stamp; refuses one too far ahead and leaves the clock unchanged then.
    pub fn observe(&self, remote: Stamp) -> Result<(), ClockSkew> {
        let ts = Timestamp {
            epoch: 0,
            time: WallNST::of_u64(remote.wall_ns),
            count: remote.logical,
        };
        let mut clock = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match clock.observe(&ts) {
            Ok(()) => Ok(()),
            Err(_) => {
                let local = clock
                    .inner_mut()
                    .now()
                    .map(|t| t.time.as_u64())
                    .unwrap_or(0);
                drop(clock);
                self.rejections.fetch_add(1, Ordering::Relaxed);
                let err = ClockSkew {
                    ahead_ms: remote.wall_ns.saturating_sub(local) / 1_000_000,
                    node_id: self.node_id,
                    max_ms: self.max_offset.as_millis() as u64,
                };
                tracing::warn!(
                    from_node = remote.node_id,
                    ahead_ms = err.ahead_ms,
                    "refused a message: {err}"
                );
                Err(err)
            }
        }
    }

    /// How many remote stamps this clock refused.
    pub fn rejections(&self) -> u64 {
        self.rejections.load(Ordering::Relaxed)
    }
}

fn to_stamp(ts: Timestamp<WallNST>, node_id: u64) -> Stamp {
    Stamp {
        wall_ns: ts.time.as_u64(),
        logical: ts.count,
        node_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_strictly_increasing() {
        let c = NodeClock::new(1, Duration::from_millis(500), Duration::ZERO, false);
        let a = c.now();
        let b = c.now();
        assert!(b > a);
        assert_eq!(a.node_id, 1);
    }

    #[test]
    fn observing_a_later_stamp_moves_the_clock_past_it() {
        let c = NodeClock::new(1, Duration::from_millis(500), Duration::ZERO, false);
        let remote = Stamp {
            wall_ns: c.now().wall_ns + 100_000_000,
            logical: 5,
            node_id: 2,
        };
        c.observe(remote).expect("within max offset");
        let after = c.now();
        assert!((after.wall_ns, after.logical) > (remote.wall_ns, remote.logical));
    }

    #[test]
    fn a_stamp_two_seconds_ahead_is_refused_and_counted() {
        let c = NodeClock::new(1, Duration::from_millis(500), Duration::ZERO, false);
        let remote = Stamp {
            wall_ns: c.now().wall_ns + 2_000_000_000,
            logical: 0,
            node_id: 2,
        };
        let err = c.observe(remote).expect_err("too far ahead");
        assert!(err.ahead_ms >= 1_900, "{err}");
        assert_eq!(c.rejections(), 1);
        assert!(
            c.now().wall_ns < remote.wall_ns,
            "the clock was not dragged forward"
        );
    }

    #[test]
    fn an_injected_offset_shifts_the_stamps() {
        let normal = NodeClock::new(1, Duration::from_millis(500), Duration::ZERO, false);
        let ahead = NodeClock::new(2, Duration::from_millis(500), Duration::from_secs(2), false);
        let err = normal
            .observe(ahead.now())
            .expect_err("skewed node refused");
        assert!(err.ahead_ms >= 1_900);
    }
}
