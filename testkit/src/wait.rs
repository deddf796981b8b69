//! Waiting for a condition: poll, with a deadline, never a bare sleep.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long any wait may take before it fails (a bound against hangs, not a speed check).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` every 50 ms until it returns `Some`, or fails after [`DEADLINE`] naming
/// `what`. Exists so every test waits the same way: on a condition, with a bound.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            anyhow::bail!("timed out after {DEADLINE:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}
