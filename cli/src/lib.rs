//! icc-cli: the operator command line `icc` as a library (the binary in `main.rs` only parses
//! the arguments and hands them to [`run`]): argument definitions ([`args`]), where settings come
//! from (flags, environment, config file), one handler per command, rendering, error reporting
//! with hints and exit codes. It also holds what the commands compute locally: the cluster CA
//! and certificates ([`certs`], `icc certs`) and the risk register ([`risk`], `icc risk export`).
//!
//! A library so the tools that talk to a cluster the way `icc` does (`icc-bench`: the same
//! connection flags and output) and the test harness (`icc-testkit`: certificates) share this
//! code instead of copying it.
//!
//! Must never: be a dependency of the server (`iccd` links `icc-client` only, never rcgen, csv
//! or clap from here); hold logic a node must agree with (validation lives in `icc-policy`, wire
//! rules in `icc-proto`); print anywhere but through [`Ctx`] and [`finish`].

mod access_cmd;
pub mod args;
pub mod certs;
mod certs_cmd;
mod commands;
mod drill_cmd;
pub mod parse;
mod policy_cmd;
mod rbac_cmd;
mod render;
pub mod risk;
mod risk_cmd;
mod settings;
mod sink;
pub mod table;
mod tls_settings;
mod warroom;

use std::io::Write;
use std::process::ExitCode;

use icc_client::{Client, ClientConfig, ClientError};
use tonic::Code;

use args::{Cli, GlobalArgs, Output};
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
    /// A usage or configuration error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hints: Vec::new(),
            exit: EXIT_USAGE,
        }
    }

    /// The request failed or was refused (exit code 1).
    pub fn rejected(message: impl Into<String>) -> Self {
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

    /// Adds a `hint:` line saying what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
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
    /// The client, configured from the settings.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How results are printed (`-o`).
    pub fn output(&self) -> Output {
        self.output
    }

    /// The endpoints in use (`host:port`, as given).
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints.list
    }

    /// Turns a client error into what the user sees, with hints where they help.
    pub fn fail(&self, err: ClientError) -> Failure {
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
    pub fn print(&self, text: &str) -> Result<(), Failure> {
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
    pub fn print_json(&self, v: &serde_json::Value) -> Result<(), Failure> {
        self.print(&v.to_string())
    }

    /// Writes a note for people to stderr (never mixed into stdout's data).
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }
}

/// Runs `main` on a single-threaded async runtime and returns its exit code (a runtime that
/// cannot start is reported like any failure). The one way the command-line programs start.
pub fn block_on(main: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(main),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(EXIT_REJECTED)
        }
    }
}

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        // Local files only: no endpoints, no TLS settings needed.
        args::Command::Certs(cmd) => certs_cmd::run(cmd, cli.global.output),
        args::Command::Notifications(args::NotificationsCmd::Sink(a)) => sink::run(a).await,
        _ => match connect(&cli.global) {
            Ok(ctx) => commands::dispatch(&ctx, cli.command).await,
            Err(f) => Err(f),
        },
    };
    finish(result)
}

/// Reports how a command ended: nothing on success, else the `error:` line and its hints on
/// stderr; returns the process exit code.
pub fn finish(result: Result<(), Failure>) -> ExitCode {
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

/// Resolves the settings (flags, environment, config file) and builds the client.
pub fn connect(global: &GlobalArgs) -> Result<Ctx, Failure> {
    let env = settings::process_env;
    let endpoints =
        settings::resolve_endpoints(global.endpoints.as_deref(), global.config.as_deref(), &env)
            .map_err(|e| {
                Failure::usage(e).hint("endpoints look like 127.0.0.1:7001 or http://node-1:7001")
            })?;
    let author = settings::resolve_author(global.author.as_deref(), &env);
    let flags = tls_settings::SecurityFlags {
        ca: global.ca.clone(),
        cert: global.cert.clone(),
        key: global.key.clone(),
        token: global.token.clone(),
        insecure_plaintext: global.insecure_plaintext,
    };
    let security = tls_settings::resolve(
        &flags,
        settings::config_file(global.config.as_deref(), &env),
        &env,
    )
    .map_err(|e| {
        Failure::usage(e)
            .hint("a cluster started by `make run` needs: export ICC_CONFIG=$PWD/.icc-run/icc.toml")
    })?;
    let mut config = ClientConfig::new(endpoints.list.clone()).with_deadline(global.timeout);
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
        output: global.output,
        author,
        endpoints,
        credentials: security.described,
    })
}
