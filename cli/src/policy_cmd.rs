//! `icc policy ...`: show, apply (validated here first) and list versions of the severity policy.

use serde_json::json;

use super::args::{Output, PolicyApplyArgs, PolicyCmd};
use super::render::{hlc_json, utc};
use super::table::Table;
use super::{Ctx, Failure};

/// Runs `icc policy ...`.
pub async fn run(ctx: &Ctx, cmd: PolicyCmd) -> Result<(), Failure> {
    let c = &ctx.client;
    match cmd {
        PolicyCmd::Show(a) => {
            let v = c.policy_get(a.version).await.map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => {
                    let policy: serde_json::Value =
                        serde_json::from_str(&v.json).unwrap_or(serde_json::Value::Null);
                    ctx.print_json(&json!({
                        "version": v.version, "author": v.author, "reason": v.reason,
                        "at": hlc_json(v.at.as_ref()), "policy": policy,
                    }))
                }
                Output::Table => {
                    ctx.note(&format!(
                        "# severity policy version {} by {} at {}: {}",
                        v.version,
                        v.author,
                        utc(v.at.as_ref()),
                        v.reason
                    ));
                    ctx.print(v.yaml.trim_end())
                }
            }
        }
        PolicyCmd::Apply(a) => apply(ctx, a).await,
        PolicyCmd::History => {
            let h = c.policy_history().await.map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&json!({
                    "versions": h.versions.iter().map(|v| json!({
                        "version": v.version, "author": v.author, "reason": v.reason,
                        "at": hlc_json(v.at.as_ref()),
                    })).collect::<Vec<_>>(),
                })),
                Output::Table => {
                    let mut t = Table::new(["VERSION", "AT", "AUTHOR", "REASON"]);
                    for v in &h.versions {
                        t.row([
                            v.version.to_string(),
                            utc(v.at.as_ref()),
                            v.author.clone(),
                            v.reason.clone(),
                        ]);
                    }
                    ctx.print(&t.render())
                }
            }
        }
    }
}

async fn apply(ctx: &Ctx, a: PolicyApplyArgs) -> Result<(), Failure> {
    let name = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| Failure::usage(format!("cannot read {name}: {e}")))?;
    if let Err(errors) = icc_policy::parse(&text) {
        let lines: Vec<String> = errors.iter().map(|e| e.render(&name)).collect();
        return Err(Failure::usage(format!(
            "{name} is not a valid policy ({} error{}):\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            lines.join("\n  ")
        ))
        .hint("deploy/local/policy.yaml is a template with every field explained"));
    }
    if a.check {
        return ctx.print(&format!("{name}: valid"));
    }
    let reason = a.reason.unwrap_or_default();
    let v = ctx
        .client
        .policy_apply(&text, &reason)
        .await
        .map_err(|e| ctx.fail(e))?;
    match ctx.output {
        Output::Json => ctx.print_json(&json!({
            "version": v.version, "author": v.author, "reason": v.reason,
            "at": hlc_json(v.at.as_ref()),
        })),
        Output::Table => ctx.print(&format!(
            "applied severity policy version {} (declares from now on use it)",
            v.version
        )),
    }
}
