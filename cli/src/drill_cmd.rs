//! `icc drill failover|report`: run a failover drill against the cluster, list recorded drills.

use std::time::Duration;

use icc_client::drill::{DrillMode, DrillOptions};
use icc_client::v1::Drill;
use serde_json::{Value, json};

use super::args::{DrillCmd, DrillFailoverArgs, Output};
use super::render::{hlc_json, utc};
use super::table::Table;
use super::{Ctx, Failure};

/// Runs `icc drill ...`.
pub async fn run(ctx: &Ctx, cmd: DrillCmd) -> Result<(), Failure> {
    match cmd {
        DrillCmd::Failover(a) => failover(ctx, a).await,
        DrillCmd::Report(a) => {
            let drills = ctx
                .client
                .drill_list(a.region.as_deref().unwrap_or(""))
                .await
                .map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&Value::from(
                    drills.iter().map(drill_json).collect::<Vec<_>>(),
                )),
                Output::Table => ctx.print(&report_table(&drills)),
            }
        }
    }
}

async fn failover(ctx: &Ctx, a: DrillFailoverArgs) -> Result<(), Failure> {
    let opts = DrillOptions {
        region: a.region.clone(),
        mode: if a.kill {
            DrillMode::Kill
        } else {
            DrillMode::Transfer
        },
        settle: a.settle,
        give_up: a.give_up,
        schedule: String::new(),
        slot: String::new(),
    };
    ctx.note(&format!(
        "drill: {} the leader of {} while writing to a drill incident...",
        if a.kill { "killing" } else { "moving" },
        a.region
    ));
    let d = icc_client::drill::failover(&ctx.client, &opts)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Json => ctx.print_json(&drill_json(&d))?,
        Output::Table => ctx.print(&drill_detail(&d))?,
    }
    if d.passed {
        Ok(())
    } else {
        Err(Failure::rejected(format!("drill failed: {}", d.reason)))
    }
}

fn ms(us: u64) -> String {
    if us == 0 {
        "-".into()
    } else {
        format!("{:.0} ms", us as f64 / 1000.0)
    }
}

fn verdict(d: &Drill) -> String {
    if !d.completed && !d.slot.is_empty() {
        format!("NOT COMPLETED: {}", d.reason)
    } else if d.passed {
        "passed".into()
    } else {
        format!("FAILED: {}", d.reason)
    }
}

/// One drill, as `icc drill failover` prints it.
fn drill_detail(d: &Drill) -> String {
    let rows = [
        ("DRILL", d.id.clone()),
        ("REGION", d.region.clone()),
        ("MODE", d.mode.clone()),
        ("SCHEDULE", schedule_slot(d)),
        ("RECORDED", format!("{} by {}", utc(d.at.as_ref()), d.who)),
        (
            "LEADER",
            format!(
                "node {} (term {}) -> node {} (term {})",
                d.old_leader, d.old_term, d.new_leader, d.new_term
            ),
        ),
        ("NEW LEADER AFTER", ms(d.leader_us)),
        ("FIRST WRITE AFTER", ms(d.first_write_us)),
        (
            "WRITES",
            format!(
                "{} acknowledged before, {} after, {} lost",
                d.writes_before, d.writes_after, d.lost
            ),
        ),
        ("INCIDENT", d.incident_id.clone()),
        ("OUTCOME", verdict(d)),
    ];
    let mut t = Table::new(["", ""]);
    for (k, v) in rows {
        t.row([k.to_owned(), v]);
    }
    // The header row of a two-column key/value table is empty: drop it.
    t.render().lines().skip(1).collect::<Vec<_>>().join("\n")
}

/// Every drill, one line each.
fn report_table(drills: &[Drill]) -> String {
    let mut t = Table::new([
        "RECORDED",
        "BY",
        "REGION",
        "MODE",
        "SCHEDULE",
        "LEADER",
        "NEW LEADER",
        "FIRST WRITE",
        "WRITES",
        "LOST",
        "OUTCOME",
    ]);
    for d in drills {
        t.row([
            utc(d.at.as_ref()),
            d.who.clone(),
            d.region.clone(),
            d.mode.clone(),
            schedule_slot(d),
            format!("{} -> {}", d.old_leader, d.new_leader),
            ms(d.leader_us),
            ms(d.first_write_us),
            (d.writes_before + d.writes_after).to_string(),
            d.lost.to_string(),
            verdict(d),
        ]);
    }
    t.render()
}

/// `<schedule> #<period>` for a scheduled drill's slot, `-` for one run by hand.
fn schedule_slot(d: &Drill) -> String {
    if d.slot.is_empty() {
        return "-".into();
    }
    let period = d.slot.rsplit('/').next().unwrap_or_default();
    format!("{} #{period}", d.schedule)
}

fn drill_json(d: &Drill) -> Value {
    json!({
        "id": d.id, "who": d.who, "at": hlc_json(d.at.as_ref()), "region": d.region,
        "mode": d.mode, "old_leader": d.old_leader, "new_leader": d.new_leader,
        "old_term": d.old_term, "new_term": d.new_term,
        "new_leader_ms": d.leader_us as f64 / 1000.0,
        "first_write_ms": d.first_write_us as f64 / 1000.0,
        "writes_before": d.writes_before, "writes_after": d.writes_after, "lost": d.lost,
        "passed": d.passed, "reason": d.reason, "incident_id": d.incident_id,
        "schedule": d.schedule, "slot": d.slot, "completed": d.completed || d.slot.is_empty(),
    })
}

/// Parses `--settle` and `--give-up` ("2s", "500ms").
pub fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e}: want e.g. 2s or 500ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_drill_says_why_and_the_report_has_one_line_per_drill() {
        let d = Drill {
            id: "abc".into(),
            region: "us-east".into(),
            mode: "kill".into(),
            old_leader: 1,
            new_leader: 2,
            leader_us: 321_400,
            lost: 1,
            passed: false,
            reason: "1 acknowledged write(s) missing".into(),
            ..Default::default()
        };
        let detail = drill_detail(&d);
        assert!(detail.contains("321 ms"), "{detail}");
        assert!(
            detail.contains("FAILED: 1 acknowledged write(s) missing"),
            "{detail}"
        );
        let report = report_table(&[d.clone(), Drill { passed: true, ..d }]);
        assert_eq!(report.lines().count(), 3, "{report}");
        assert!(report.contains("1 -> 2"), "{report}");
    }
}
