//! `icc access ...`: verify and export one node's access log (the reads it served).

use std::io::Write;

use serde_json::{Value, json};

use super::args::{AccessCmd, Output};
use super::{Ctx, Failure};

/// Runs `icc access ...`.
pub async fn run(ctx: &Ctx, cmd: AccessCmd) -> Result<(), Failure> {
    match cmd {
        AccessCmd::Verify(a) => {
            let r = ctx
                .client
                .verify_access(a.node)
                .await
                .map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&json!({
                    "ok": r.ok, "entries": r.entries, "first_bad_seq": r.first_bad_seq,
                    "reason": r.reason, "node": a.node,
                }))?,
                Output::Table if r.ok => ctx.print(&format!(
                    "access log of node {} verified: {} entries",
                    a.node, r.entries
                ))?,
                Output::Table => {}
            }
            if r.ok {
                Ok(())
            } else {
                Err(Failure::rejected(format!(
                    "access log of node {} broken at entry {}: {}",
                    a.node, r.first_bad_seq, r.reason
                )))
            }
        }
        AccessCmd::Export(a) => {
            let entries = ctx
                .client
                .export_access(a.node, a.from_seq)
                .await
                .map_err(|e| ctx.fail(e))?;
            let lines: String = entries
                .iter()
                .map(|e| format!("{}\n", entry_json(e)))
                .collect();
            match &a.out {
                None => ctx.print(&lines),
                Some(path) => std::fs::File::create(path)
                    .and_then(|mut f| f.write_all(lines.as_bytes()))
                    .map_err(|e| Failure::rejected(format!("cannot write {}: {e}", path.display())))
                    .and_then(|()| {
                        ctx.print(&format!(
                            "{} access entries of node {} written to {}",
                            entries.len(),
                            a.node,
                            path.display()
                        ))
                    }),
            }
        }
    }
}

/// One access entry as a JSON object (one line of `icc access export`).
fn entry_json(e: &icc_client::v1::AccessEntry) -> Value {
    let at = e.at.unwrap_or_default();
    json!({
        "node_id": e.node_id,
        "seq": e.seq,
        "at": {"wall_ns": at.wall_ns, "logical": at.logical, "node_id": at.node_id},
        "reader": e.reader,
        "incident_id": e.incident_id,
        "reader_region": e.reader_region,
        "reader_jurisdiction": e.reader_jurisdiction,
        "home_jurisdiction": e.home_jurisdiction,
        "cross_jurisdiction": e.cross_jurisdiction,
        "returned": e.returned,
        "withheld": e.withheld,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}
