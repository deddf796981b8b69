//! The `icc` command line: argument definitions, settings resolution, output and error
//! reporting. `main.rs` only parses the arguments and hands them to [`run`].

mod access_cmd;
pub mod args;
mod bench;
mod certs_cmd;
mod commands;
mod drill_cmd;
mod parse;
mod policy_cmd;
mod rbac_cmd;
mod render;
mod risk;
mod settings;
mod sink;
mod table;
mod tls_settings;
mod warroom;

use std::io::Write;
use std::process::ExitCode;

use icc_client::{Client, ClientConfig, ClientError};
use tonic::Code;

use args::{Cli, Output};
use settings::{EndpointSource, Endpoints};

/// Exit code: the server rejected the request.
pub const EXIT_REJECTED: u8 = 1;
/// Exit code: usage or configuration error (clap uses 2 for its own errors too).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: no endpoint answered within the deadline.
pub const EXIT_UNREACHABLE: u8 = 3;

/// Why a command did not succeed, as shown to the user: one `error:` line, optional `hint:`
/// lines, and the process exit code.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hints: Vec<String>,
    exit: u8,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hints: Vec::new(),
            exit: EXIT_USAGE,
        }
    }

    fn rejected(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hints: Vec::new(),
            exit: EXIT_REJECTED,
        }
    }

    /// Stop without a message and with success (stdout was closed, e.g. `icc watch | head`).
    fn quiet() -> Self {
        Self {
            message: String::new(),
            hints: Vec::new(),
            exit: 0,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

/// What every command needs: the client, how to print, who is acting, where the endpoints
/// came from.
pub struct Ctx {
    client: Client,
    output: Output,
    author: String,
    endpoints: Endpoints,
    /// How the client authenticates, for hints ("certificate ...", "bearer token").
    credentials: String,
}

impl Ctx {
    /// Turns a client error into what the user sees, with hints where they help.
    fn fail(&self, err: ClientError) -> Failure {
        let message = err.to_string();
        match err {
            ClientError::Rejected { code, .. } => {
                let f = Failure::rejected(message);
                match code {
                    Code::NotFound => {
                        f.hint("check the id; `icc incident list` shows the known incidents")
                    }
                    Code::Unimplemented => {
                        f.hint("the node may run a different icc version than this CLI")
                    }
                    Code::Unauthenticated => f.hint(format!(
                        "the cluster did not accept your credentials ({}); use --cert/--key from \
                         `icc certs issue --client NAME` or --token from `icc rbac token create`",
                        self.credentials
                    )),
                    Code::PermissionDenied => f.hint(
                        "ask an admin for a role binding: `icc rbac bind --identity NAME --role ROLE --regions ...`",
                    ),
                    _ => f,
                }
            }
            ClientError::Unreachable { failures, .. } => {
                let timeouts_only = !failures.is_empty()
                    && failures.iter().all(|f| f.error.starts_with("no answer"));
                let mut f = Failure { message, hints: Vec::new(), exit: EXIT_UNREACHABLE }.hint(format!(
                    "tried {} (from {}); set the endpoints with --endpoints HOST:PORT,..., ${} or `endpoints = [...]` in ~/.config/icc/config.toml",
                    self.endpoints.list.join(", "),
                    self.endpoints.source,
                    settings::ENV_ENDPOINTS,
                ));
                if timeouts_only {
                    f = f.hint("the nodes accepted connections but did not answer in time; a longer --timeout may help");
                }
                f
            }
            ClientError::Config(_) => Failure::usage(message)
                .hint(format!("the endpoints came from {}", self.endpoints.source)),
        }
    }

    /// Writes one line to stdout; a closed stdout ends the program quietly.
    fn print(&self, text: &str) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        let res = if text.ends_with('\n') {
            out.write_all(text.as_bytes())
        } else {
            writeln!(out, "{text}")
        };
        res.and_then(|()| out.flush()).map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Failure::quiet(),
            _ => Failure::rejected(format!("cannot write to stdout: {e}")),
        })
    }

    /// Prints a JSON value on one line.
    fn print_json(&self, v: &serde_json::Value) -> Result<(), Failure> {
        self.print(&v.to_string())
    }

    /// Writes a note for people to stderr (never mixed into stdout's data).
    fn note(&self, text: &str) {
        eprintln!("{text}");
    }
}

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        // Local files only: no endpoints, no TLS settings needed.
        args::Command::Certs(cmd) => certs_cmd::run(cmd, cli.output),
        args::Command::Notifications(args::NotificationsCmd::Sink(a)) => sink::run(a).await,
        _ => match setup(&cli) {
            Ok(ctx) => commands::dispatch(&ctx, cli.command).await,
            Err(f) => Err(f),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("error: {}", f.message);
            }
            for h in &f.hints {
                eprintln!("hint: {h}");
            }
            ExitCode::from(f.exit)
        }
    }
}

/// Resolves settings and builds the client.
fn setup(cli: &Cli) -> Result<Ctx, Failure> {
    let env = settings::process_env;
    let endpoints =
        settings::resolve_endpoints(cli.endpoints.as_deref(), cli.config.as_deref(), &env)
            .map_err(|e| {
                Failure::usage(e).hint("endpoints look like 127.0.0.1:7001 or http://node-1:7001")
            })?;
    let author = settings::resolve_author(cli.author.as_deref(), &env);
    let flags = tls_settings::SecurityFlags {
        ca: cli.ca.clone(),
        cert: cli.cert.clone(),
        key: cli.key.clone(),
        token: cli.token.clone(),
        insecure_plaintext: cli.insecure_plaintext,
    };
    let security = tls_settings::resolve(
        &flags,
        settings::config_file(cli.config.as_deref(), &env),
        &env,
    )
    .map_err(|e| {
        Failure::usage(e)
            .hint("a cluster started by `make run` needs: export ICC_CONFIG=$PWD/.icc-run/icc.toml")
    })?;
    let mut config = ClientConfig::new(endpoints.list.clone()).with_deadline(cli.timeout);
    if let Some(tls) = security.tls {
        config = config.with_tls(tls);
    }
    if let Some(token) = security.token {
        config = config.with_token(token);
    }
    let client = Client::new(config).map_err(|e| {
        let hint = match &endpoints.source {
            EndpointSource::Default => "the built-in default endpoints were used".to_string(),
            other => format!("the endpoints came from {other}"),
        };
        Failure::usage(e.to_string()).hint(hint)
    })?;
    Ok(Ctx {
        client,
        output: cli.output,
        author,
        endpoints,
        credentials: security.described,
    })
}
