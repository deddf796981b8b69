//! Storage fault injection for the chaos suite (`chaos-tests/`), compiled in only with the cargo
//! feature `failpoints`; without it every function here is a no-op the compiler removes.
//!
//! A node started with `ICC_FAILPOINTS=<file>` reads that file at start and then every 20 ms; each
//! line switches one failpoint on (remove the line to switch it off):
//!
//! | line | effect |
//! |---|---|
//! | `lose-unsynced-on-crash` | (read at start only) RocksDB keeps its WAL in memory until a sync, so a kill -9 loses every write not synced yet, as a power cut would |
//! | `fsync-error` | every WAL sync of the group-commit thread fails |
//! | `fsync-stall-ms=N` | every WAL sync of the group-commit thread first waits N ms |
//!
//! The feature `chaos-ack-before-fsync` is a deliberately broken build: appends are completed
//! before (and without) their WAL sync. The chaos suite must catch it.

#[cfg(feature = "failpoints")]
mod enabled {
    use std::path::PathBuf;
    use std::sync::Once;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    static FSYNC_ERROR: AtomicBool = AtomicBool::new(false);
    static FSYNC_STALL_MS: AtomicU64 = AtomicU64::new(0);
    static LOSE_UNSYNCED: AtomicBool = AtomicBool::new(false);
    static START: Once = Once::new();

    fn control_file() -> Option<PathBuf> {
        std::env::var_os("ICC_FAILPOINTS").map(PathBuf::from)
    }

    fn load(path: &std::path::Path, first: bool) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut error = false;
        let mut stall = 0;
        for line in text.lines().map(str::trim) {
            match line.split_once('=') {
                Some(("fsync-stall-ms", v)) => stall = v.trim().parse().unwrap_or(0),
                _ if line == "fsync-error" => error = true,
                _ if line == "lose-unsynced-on-crash" && first => {
                    LOSE_UNSYNCED.store(true, Ordering::Relaxed)
                }
                _ => {}
            }
        }
        if FSYNC_ERROR.swap(error, Ordering::Relaxed) != error
            || FSYNC_STALL_MS.swap(stall, Ordering::Relaxed) != stall
        {
            tracing::warn!(
                fsync_error = error,
                fsync_stall_ms = stall,
                "CHAOS failpoints changed"
            );
        }
    }

    /// Reads the control file once and starts the thread that follows it.
    pub fn init() {
        START.call_once(|| {
            let Some(path) = control_file() else { return };
            load(&path, true);
            tracing::warn!(file = %path.display(), lose_unsynced = LOSE_UNSYNCED.load(Ordering::Relaxed), "CHAOS failpoints active");
            let spawned = std::thread::Builder::new()
                .name("icc-failpoints".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_millis(20));
                        load(&path, false);
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start the failpoint thread: {e}");
            }
        });
    }

    pub fn lose_unsynced_on_crash() -> bool {
        init();
        LOSE_UNSYNCED.load(Ordering::Relaxed)
    }

    pub fn before_wal_sync() -> std::io::Result<()> {
        let stall = FSYNC_STALL_MS.load(Ordering::Relaxed);
        if stall > 0 {
            std::thread::sleep(Duration::from_millis(stall));
        }
        if FSYNC_ERROR.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("CHAOS failpoint fsync-error"));
        }
        Ok(())
    }
}

/// True when RocksDB must keep its WAL in memory until a sync (power-cut emulation); starts
/// following the control file on first use.
pub fn lose_unsynced_on_crash() -> bool {
    #[cfg(feature = "failpoints")]
    return enabled::lose_unsynced_on_crash();
    #[cfg(not(feature = "failpoints"))]
    false
}

/// Called by the WAL-sync thread before each sync: may stall, may fail the sync.
pub fn before_wal_sync() -> std::io::Result<()> {
    #[cfg(feature = "failpoints")]
    return enabled::before_wal_sync();
    #[cfg(not(feature = "failpoints"))]
    Ok(())
}

/// True in the deliberately broken build that completes appends before their WAL sync.
pub const ACK_BEFORE_FSYNC: bool = cfg!(feature = "chaos-ack-before-fsync");
