//! `icc risk export`: gathers every region's incidents and timelines and writes the risk
//! register computed by [`crate::risk`].

use std::time::{SystemTime, UNIX_EPOCH};

use crate::risk::{self, IncidentFacts};
use icc_client::v1::{Consistency, ListIncidentsRequest};

use super::args::{RiskExportArgs, RiskFormat};
use super::{Ctx, Failure};

/// The global group holds global incidents, each of which also has one child per region; the
/// children carry the regional impact, so counting the parent too would count it twice.
const GLOBAL_GROUP: &str = "global";

/// Writes the register to `--out` or standard output.
pub async fn export(ctx: &Ctx, a: RiskExportArgs) -> Result<(), Failure> {
    let regions = if a.regions.is_empty() {
        let status = ctx
            .client
            .cluster_status(true)
            .await
            .map_err(|e| ctx.fail(e))?;
        status
            .groups
            .into_iter()
            .map(|g| g.group)
            .filter(|g| g != GLOBAL_GROUP)
            .collect()
    } else {
        a.regions
    };
    let mut facts = Vec::new();
    for region in &regions {
        let req = ListIncidentsRequest {
            region: region.clone(),
            page_size: 1000,
            ..Default::default()
        };
        let listed = ctx
            .client
            .list_all_incidents(req, None)
            .await
            .map_err(|e| ctx.fail(e))?;
        for incident in &listed.incidents {
            let timeline = ctx
                .client
                .get_timeline(incident.id.clone(), Consistency::Linearizable)
                .await
                .map_err(|e| ctx.fail(e))?;
            facts.push(IncidentFacts::from_incident(incident, &timeline.events));
        }
    }
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let rows = risk::register(&facts, now_ns, a.window_days);
    let text = match a.format {
        RiskFormat::Csv => {
            risk::to_csv(&rows).map_err(|e| Failure::rejected(format!("cannot write CSV: {e}")))?
        }
        RiskFormat::Json => serde_json::to_string_pretty(&rows)
            .map_err(|e| Failure::rejected(format!("cannot write JSON: {e}")))?,
    };
    match &a.out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| Failure::rejected(format!("cannot write {}: {e}", path.display())))?,
        None => ctx.print(&text)?,
    }
    ctx.note(&format!(
        "risk register: {} services from {} incidents in {}{}",
        rows.len(),
        facts.len(),
        regions.join(", "),
        a.out
            .as_ref()
            .map(|p| format!("; written to {}", p.display()))
            .unwrap_or_default(),
    ));
    Ok(())
}
