//! The `iccd` processes: start, SIGTERM, SIGKILL, SIGSTOP/SIGCONT, restart on the same data
//! directory, and cleanup (with the evidence kept when a test panics).

use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::{Cluster, wait_for};

impl Cluster {
    pub(crate) fn spawn(&mut self, id: u64) -> anyhow::Result<()> {
        let (iccd, config) = (self.iccd.clone(), self.config.clone());
        let node = self.node_mut(id);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log_path)
            .context("node log")?;
        let child = Command::new(&iccd)
            .arg("--config")
            .arg(&config)
            .arg("--node-id")
            .arg(id.to_string())
            .arg("--data-dir")
            .arg(&node.data_dir)
            .arg(format!(
                "--test-only-clock-offset-ms={}",
                node.clock_offset_ms
            ))
            .env("RUST_LOG", "info,openraft=warn")
            .envs(node.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("log handle")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {}", iccd.display()))?;
        node.child = Some(child);
        node.paused = false;
        Ok(())
    }

    /// Whether node `id` has a process (running or paused).
    pub fn is_up(&self, id: u64) -> bool {
        self.node(id).child.is_some()
    }

    /// Whether node `id`'s process has exited on its own (it was started and is gone).
    pub fn exited(&mut self, id: u64) -> bool {
        match self.node_mut(id).child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// kill -9 (a paused node too): a crash, nothing flushed.
    pub fn kill(&mut self, id: u64) {
        let node = self.node_mut(id);
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        node.paused = false;
    }

    /// Starts a stopped, killed or crashed node again on its data directory (no-op if its
    /// process still runs or the node was retired).
    pub fn restart(&mut self, id: u64) -> anyhow::Result<()> {
        if self.exited(id) {
            // Exited on its own (a drill's crash, a storage error): reap it.
            self.kill(id);
        }
        if self.is_up(id) || self.node(id).retired {
            return Ok(());
        }
        self.spawn(id)
    }

    /// A clean stop: SIGTERM (the node hands over leadership and flushes), then waits for the
    /// process to exit. Returns whether it exited with success; fails (after a kill -9) when
    /// it has not exited within [`crate::DEADLINE`]. A node without a process counts as clean.
    pub async fn stop(&mut self, id: u64) -> anyhow::Result<bool> {
        self.resume(id)?;
        if !self.is_up(id) {
            return Ok(true);
        }
        self.signal(id, "TERM")?;
        let exited = wait_for(&format!("node {id} to exit after SIGTERM"), || {
            let status = self
                .nodes
                .iter_mut()
                .find(|n| n.id == id)
                .and_then(|n| n.child.as_mut())
                .and_then(|c| c.try_wait().ok().flatten());
            async move { status }
        })
        .await;
        self.kill(id);
        Ok(exited?.success())
    }

    /// Sets node `id`'s test-only clock offset; takes effect at its next (re)start.
    pub fn set_clock_offset(&mut self, id: u64, ms: i64) {
        self.node_mut(id).clock_offset_ms = ms;
    }

    fn signal(&self, id: u64, sig: &str) -> anyhow::Result<()> {
        let Some(child) = &self.node(id).child else {
            bail!("node {id} is not running");
        };
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(child.id().to_string())
            .status()
            .context("running kill")?
            .success();
        if !ok {
            bail!("kill -{sig} of node {id} failed");
        }
        Ok(())
    }

    /// SIGSTOP: the process freezes, its sockets stay open (a GC pause or a stalled VM).
    pub fn pause(&mut self, id: u64) -> anyhow::Result<()> {
        self.signal(id, "STOP")?;
        self.node_mut(id).paused = true;
        Ok(())
    }

    /// SIGCONT after [`Cluster::pause`] (no-op for a node that is not paused).
    pub fn resume(&mut self, id: u64) -> anyhow::Result<()> {
        if self.node(id).paused {
            self.signal(id, "CONT")?;
            self.node_mut(id).paused = false;
        }
        Ok(())
    }

    /// The text of node `id`'s log (stdout and stderr of every run), for failure messages.
    pub fn log(&self, id: u64) -> String {
        std::fs::read_to_string(&self.node(id).log_path).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let keep = std::thread::panicking();
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if keep {
            // Leave the data and logs of a failed test for inspection.
            eprintln!(
                "test failed; cluster files kept in {}",
                self.dir.path().display()
            );
            for n in &self.nodes {
                let log = std::fs::read_to_string(&n.log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                eprintln!("--- node {} log (last lines) ---", n.id);
                for l in tail.into_iter().rev() {
                    eprintln!("{l}");
                }
            }
            self.dir.disable_cleanup(true);
        }
    }
}
