//! `icc rbac ...`: role bindings and tokens.

use serde_json::json;

use super::args::{Output, RbacCmd, TokenCmd};
use super::table::Table;
use super::{Ctx, Failure};

fn regions(r: &[String]) -> String {
    if r.is_empty() {
        "all regions".into()
    } else {
        r.join(",")
    }
}

/// Runs `icc rbac ...`.
pub async fn run(ctx: &Ctx, cmd: RbacCmd) -> Result<(), Failure> {
    let c = &ctx.client;
    match cmd {
        RbacCmd::Bind(a) => {
            let r = c
                .rbac_bind(&a.identity, &a.role, a.regions)
                .await
                .map_err(|e| ctx.fail(e))?;
            ctx.print(&r.done)
        }
        RbacCmd::Unbind(a) => {
            let r = c
                .rbac_unbind(&a.identity, &a.role)
                .await
                .map_err(|e| ctx.fail(e))?;
            ctx.print(&r.done)
        }
        RbacCmd::List(a) => {
            let r = c.rbac_list(&a.identity).await.map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&json!({
                    "bindings": r.bindings.iter().map(|b| json!({
                        "identity": b.identity, "role": b.role, "regions": b.regions,
                    })).collect::<Vec<_>>(),
                    "config_admins": r.config_admins,
                })),
                Output::Table => {
                    let mut t = Table::new(["IDENTITY", "ROLE", "REGIONS", "SOURCE"]);
                    for a in &r.config_admins {
                        t.row([a.as_str(), "admin", "all regions", "cluster file"]);
                    }
                    for b in &r.bindings {
                        t.row([
                            b.identity.clone(),
                            b.role.clone(),
                            regions(&b.regions),
                            "binding".into(),
                        ]);
                    }
                    ctx.print(&t.render())
                }
            }
        }
        RbacCmd::Whoami => {
            let r = c.who_am_i().await.map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&json!({
                    "identity": r.identity,
                    "roles": r.roles.iter().map(|b| json!({"role": b.role, "regions": b.regions})).collect::<Vec<_>>(),
                })),
                Output::Table => {
                    let roles: Vec<String> = r
                        .roles
                        .iter()
                        .map(|b| format!("{} on {}", b.role, regions(&b.regions)))
                        .collect();
                    let roles = if roles.is_empty() {
                        "no roles".to_string()
                    } else {
                        roles.join("; ")
                    };
                    ctx.print(&format!("{}: {roles}", r.identity))
                }
            }
        }
        RbacCmd::Token(TokenCmd::Create(a)) => {
            let r = c.token_create(&a.identity).await.map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&json!({
                    "token": r.token, "id": r.id, "identity": r.identity,
                })),
                Output::Table => {
                    ctx.note(&format!(
                        "token {} for {} (shown once; the cluster stores only its SHA-256)",
                        r.id, r.identity
                    ));
                    ctx.print(&r.token)
                }
            }
        }
        RbacCmd::Token(TokenCmd::List) => {
            let r = c.token_list().await.map_err(|e| ctx.fail(e))?;
            match ctx.output {
                Output::Json => ctx.print_json(&json!({
                    "tokens": r.tokens.iter().map(|t| json!({"id": t.id, "identity": t.identity})).collect::<Vec<_>>(),
                })),
                Output::Table => {
                    let mut table = Table::new(["ID", "IDENTITY"]);
                    for t in &r.tokens {
                        table.row([t.id.as_str(), t.identity.as_str()]);
                    }
                    ctx.print(&table.render())
                }
            }
        }
        RbacCmd::Token(TokenCmd::Revoke(a)) => {
            let r = c.token_revoke(&a.id).await.map_err(|e| ctx.fail(e))?;
            ctx.print(&r.done)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_regions_when_none_named() {
        assert_eq!(super::regions(&[]), "all regions");
        assert_eq!(super::regions(&["us-east".into()]), "us-east");
    }
}
