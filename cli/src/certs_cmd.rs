//! `icc certs init|issue`: local files only, no cluster needed.

use serde_json::json;

use super::Failure;
use super::args::{CertsCmd, CertsInitArgs, CertsIssueArgs, Output};
use crate::certs;

/// Runs `icc certs ...`.
pub fn run(cmd: CertsCmd, output: Output) -> Result<(), Failure> {
    match cmd {
        CertsCmd::Init(a) => init(a, output),
        CertsCmd::Issue(a) => issue(a, output),
    }
}

fn fail(e: certs::CertError) -> Failure {
    let f = Failure::rejected(e.to_string());
    match e {
        certs::CertError::Io { .. } => {
            f.hint("run `icc certs init --dir DIR` first, or point --dir at the directory holding ca.crt and ca.key")
        }
        _ => f,
    }
}

fn init(a: CertsInitArgs, output: Output) -> Result<(), Failure> {
    let done = certs::init(&a.dir).map_err(fail)?;
    match output {
        Output::Json => println!(
            "{}",
            json!({
                "ca_cert": done.ca_cert, "ca_key": done.ca_key,
                "admin_cert": done.admin.cert, "admin_key": done.admin.key,
            })
        ),
        Output::Table => {
            println!(
                "created the cluster CA: {} (key {}, keep it private)",
                done.ca_cert.display(),
                done.ca_key.display()
            );
            println!(
                "issued client certificate for {}: {} / {}",
                done.admin.identity,
                done.admin.cert.display(),
                done.admin.key.display()
            );
            println!(
                "next: icc certs issue --dir {} --node <id>   (once per node)",
                a.dir.display()
            );
        }
    }
    Ok(())
}

fn issue(a: CertsIssueArgs, output: Output) -> Result<(), Failure> {
    let issued = match (a.node, &a.client) {
        (Some(id), None) => certs::issue_node(&a.dir, id, &a.san),
        (None, Some(name)) => certs::issue_client(&a.dir, name),
        _ => {
            return Err(Failure::usage(
                "give exactly one of --node ID or --client NAME",
            ));
        }
    }
    .map_err(fail)?;
    match output {
        Output::Json => println!(
            "{}",
            json!({"identity": issued.identity, "cert": issued.cert, "key": issued.key})
        ),
        Output::Table => println!(
            "issued {}: {} / {}",
            issued.identity,
            issued.cert.display(),
            issued.key.display()
        ),
    }
    Ok(())
}
