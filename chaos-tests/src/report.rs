//! Reports: a failing run keeps its history (JSON Lines), every node's log, the cluster file,
//! what each node held at the end, and a summary under
//! `<target dir>/chaos-reports/<scenario>-<seed>/`.

use std::path::PathBuf;

use anyhow::Context;

use crate::check::FinalState;
use crate::cluster::Cluster;
use crate::history::History;

/// Everything a report holds.
pub struct Report<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// The run's seed.
    pub seed: u64,
    /// One line about the run.
    pub summary: &'a str,
    /// Problems found.
    pub failures: &'a [String],
    /// Fault timeline.
    pub events: &'a [String],
    /// The history.
    pub history: &'a History,
    /// The final reads.
    pub fin: &'a FinalState,
    /// The cluster, for its logs (None if it never started).
    pub cluster: Option<&'a Cluster>,
}

/// `ICC_CHAOS_REPORTS`, else `$CARGO_TARGET_DIR/chaos-reports`, else `chaos-reports` in the
/// target directory the running executable was built in.
pub fn reports_root() -> PathBuf {
    if let Some(p) = std::env::var_os("ICC_CHAOS_REPORTS") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(p).join("chaos-reports");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.pop(); // the profile directory (debug, release)
    dir.join("chaos-reports")
}

impl Report<'_> {
    /// Writes the report; returns its directory.
    pub fn write(&self) -> anyhow::Result<PathBuf> {
        let dir = reports_root().join(format!("{}-{}", self.scenario, self.seed));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("history.jsonl"), self.history.to_jsonl())?;
        std::fs::write(
            dir.join("final.json"),
            serde_json::to_string_pretty(self.fin)?,
        )?;
        if let Some(c) = self.cluster {
            c.procs.save_logs(&dir.join("logs"))?;
        }
        let mut md = format!(
            "# chaos run {} seed {}\n\n{}\n\nReplay: `ICC_CHAOS_SEED={} cargo run -p icc-chaos -- run --scenario {} --seeds 1`\n\n",
            self.scenario, self.seed, self.summary, self.seed, self.scenario
        );
        md.push_str(&format!("## Failures ({})\n\n", self.failures.len()));
        for f in self.failures {
            md.push_str(&format!("- {f}\n"));
        }
        md.push_str("\n## Faults\n\n");
        for e in self.events {
            md.push_str(&format!("- {e}\n"));
        }
        md.push_str(
            "\nFiles: `history.jsonl` (one operation per line, times in ns since the start), \
             `final.json` (what every node held at the end), `logs/` (node logs, cluster file).\n",
        );
        std::fs::write(dir.join("summary.md"), md)?;
        Ok(dir)
    }
}
