//! `icc-bench`'s command line: arguments (with `icc`'s connection flags), and the tables and
//! JSON of its results (the measuring itself is in the other modules).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use icc_cli::args::{GlobalArgs, Output};
use icc_cli::parse::parse_duration;
use icc_cli::table::Table;
use icc_cli::{Ctx, Failure};

use crate::cluster::{Cluster, System};
use crate::report::{FailoverReport, LoadReport, Report, comparison_markdown};
use crate::workload::{Mix, SizeRange};
use crate::{failover, load};

const BENCH_AFTER_HELP: &str = "\
Each client has exactly one request in flight (closed loop). All clients send to the
member that leads when the run starts, over --conns connections. etcd gets, for every
icc operation, a put of the same encoded bytes under a key of the client's own
(declare: new key, append: new key under the incident's, update: overwrite).

Examples:
  icc-bench --clients 64 --duration 30s --warmup 5s
  icc-bench -o json --target etcd --etcd-endpoints 127.0.0.1:2379 --clients 64
  icc-bench --mix append=1 --note-bytes 1024 --count 10000
  icc-bench failover --kills 20 --pid-file 'run/icc-{n}.pid' --restart 'scripts/bench.sh start-member icc {n}'
  icc-bench compare results/*.json
  icc-bench wait --target etcd --within 30s";

/// icc-bench: measure write throughput, latency and failover time of icc or etcd.
// Parsed by `try_parse_from`: the load run's flags may not come with a mode.
#[derive(Debug, Parser)]
#[command(name = "icc-bench", version, after_help = BENCH_AFTER_HELP)]
pub struct Cli {
    /// Another mode than the load run.
    #[command(subcommand)]
    pub mode: Option<BenchMode>,
    /// The load run's settings.
    #[command(flatten)]
    pub load: LoadArgs,
    /// Where the icc cluster is, how to authenticate, how to print (as for `icc`).
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// `icc-bench <mode>`.
#[derive(Debug, Subcommand)]
pub enum BenchMode {
    /// Kill -9 the leader repeatedly; time from each kill to the first acknowledged write
    #[command(after_help = "\
Each round: find the leader, kill -9 its process (pid from --pid-file), offer a write to
every other member every --probe-interval (each attempt alone, with --attempt-timeout),
record the time to the first acknowledgement, run --restart for the killed member, and
wait until every member answers, agrees on the leader and has caught up.
{n} in --pid-file and --restart is the member's position in the endpoint list (1-based).")]
    Failover(FailoverArgs),
    /// Print one markdown table comparing icc and etcd from `-o json` results of earlier runs
    Compare(CompareArgs),
    /// Wait until every member answers, all agree on a leader and all have caught up
    Wait(WaitArgs),
}

/// Which system, and etcd's endpoints.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The system to measure (icc uses --endpoints)
    #[arg(long, value_enum, default_value_t = TargetKind::Icc)]
    pub target: TargetKind,
    /// etcd members, comma separated host:port (with --target etcd)
    #[arg(
        long,
        value_name = "HOST:PORT,...",
        env = "ICC_BENCH_ETCD_ENDPOINTS",
        value_delimiter = ',',
        default_value = "127.0.0.1:2379"
    )]
    pub etcd_endpoints: Vec<String>,
}

/// The systems `icc-bench` can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// An icc cluster
    Icc,
    /// An etcd cluster (v3 API)
    Etcd,
}

/// Arguments of the load run.
#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Concurrent clients, each with one request in flight
    #[arg(long, value_name = "N", default_value_t = 16)]
    clients: usize,
    /// Connections the clients share (round robin)
    #[arg(long, value_name = "N", default_value_t = 1)]
    conns: usize,
    /// Relative weights of the operations
    #[arg(long, default_value = "declare=20,append=60,update=20")]
    mix: Mix,
    /// Size of appended notes in bytes: MIN-MAX (uniform) or one size
    #[arg(long, value_name = "BYTES", default_value = "256-1024")]
    note_bytes: SizeRange,
    /// How long to measure [default: 10s]
    #[arg(long, value_parser = parse_duration, conflicts_with = "count")]
    duration: Option<Duration>,
    /// Measure this many operations instead of a duration
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Unmeasured load first
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_warmup)]
    warmup: Duration,
    /// Seed of the request generators (same seed, same requests)
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Arguments of `icc-bench failover`.
#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// How many times to kill the leader
    #[arg(long, value_name = "N", default_value_t = 20)]
    kills: usize,
    /// File holding member {n}'s process id
    #[arg(long, value_name = "TEMPLATE")]
    pid_file: String,
    /// Shell command that starts member {n} again (in the background) and returns
    #[arg(long, value_name = "COMMAND")]
    restart: String,
    /// How often a write is offered to each surviving member
    #[arg(long, value_name = "DURATION", default_value = "10ms", value_parser = parse_duration)]
    probe_interval: Duration,
    /// Timeout of each write attempt
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = parse_duration)]
    attempt_timeout: Duration,
    /// Longest wait for the first acknowledged write after a kill
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    max_wait: Duration,
    /// Longest wait for a healthy cluster after a restart
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    health_timeout: Duration,
    /// Pause between a healthy cluster and the next kill
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    settle: Duration,
}

/// Arguments of `icc-bench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Result files written by `icc-bench -o json ...` (load and failover, either system)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Arguments of `icc-bench wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Give up after this long (exit code 1)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    within: Duration,
}

/// Parses a command line (the program name first), refusing load-run flags given together
/// with a mode (`icc-bench --clients 8 failover ...`). clap's `args_conflicts_with_subcommands`
/// would refuse `icc`'s connection flags (`--endpoints`, `-o`, ...) before a mode too, so the
/// check is made here on what the command line itself set.
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = Cli::command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some((mode, _)) = matches.subcommand() {
        let load = LoadArgs::augment_args(clap::Command::new("load"));
        let given: Vec<String> = load
            .get_arguments()
            .map(|a| a.get_id().as_str())
            .filter(|id| matches.value_source(id) == Some(ValueSource::CommandLine))
            .filter_map(|id| cmd.get_arguments().find(|a| a.get_id() == id))
            .map(|a| a.to_string())
            .collect();
        if !given.is_empty() {
            return Err(cmd.error(
                ErrorKind::ArgumentConflict,
                format!(
                    "the subcommand '{mode}' cannot be used with:\n  {}",
                    given.join("\n  ")
                ),
            ));
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// A warm-up may be zero.
fn parse_warmup(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration like 5s or 500ms: {e}"))
}

/// Runs a parsed `icc-bench` command line and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match icc_cli::connect(&cli.global) {
        Ok(ctx) => bench(&ctx, cli).await,
        Err(f) => Err(f),
    };
    icc_cli::finish(result)
}

async fn bench(ctx: &Ctx, a: Cli) -> Result<(), Failure> {
    match a.mode {
        None => run_load(ctx, a.load).await,
        Some(BenchMode::Failover(f)) => run_failover(ctx, f).await,
        Some(BenchMode::Compare(c)) => compare(ctx, c),
        Some(BenchMode::Wait(w)) => {
            let cluster = cluster(ctx, &w.target)?;
            failover::wait_healthy(&cluster, w.within)
                .await
                .map_err(Failure::rejected)
        }
    }
}

fn cluster(ctx: &Ctx, t: &TargetArgs) -> Result<Cluster, Failure> {
    let (system, endpoints) = match t.target {
        TargetKind::Icc => (System::Icc, ctx.endpoints()),
        TargetKind::Etcd => (System::Etcd, t.etcd_endpoints.as_slice()),
    };
    Cluster::new(system, endpoints).map_err(Failure::usage)
}

async fn run_load(ctx: &Ctx, a: LoadArgs) -> Result<(), Failure> {
    let cluster = cluster(ctx, &a.target)?;
    let spec = load::LoadSpec {
        clients: a.clients,
        conns: a.conns,
        mix: a.mix,
        note: a.note_bytes,
        warmup: a.warmup,
        stop: match (a.count, a.duration) {
            (Some(n), _) => load::Stop::Count(n),
            (None, d) => load::Stop::Duration(d.unwrap_or(Duration::from_secs(10))),
        },
        deadline: ctx.client().config().deadline,
        seed: a.seed,
    };
    let report = load::run(&cluster, &spec, |m| ctx.note(m))
        .await
        .map_err(Failure::rejected)?;
    match ctx.output() {
        Output::Table => ctx.print(&load_table(&report)),
        Output::Json => print_report(ctx, Report::Load(report)),
    }
}

async fn run_failover(ctx: &Ctx, a: FailoverArgs) -> Result<(), Failure> {
    let cluster = cluster(ctx, &a.target)?;
    let spec = failover::FailoverSpec {
        kills: a.kills,
        pid_file: a.pid_file,
        restart: a.restart,
        probe_interval: a.probe_interval,
        attempt_timeout: a.attempt_timeout,
        max_wait: a.max_wait,
        health_timeout: a.health_timeout,
        settle: a.settle,
    };
    let report = failover::run(&cluster, &spec, |m| ctx.note(m))
        .await
        .map_err(Failure::rejected)?;
    match ctx.output() {
        Output::Table => ctx.print(&failover_table(&report)),
        Output::Json => print_report(ctx, Report::Failover(report)),
    }
}

fn compare(ctx: &Ctx, a: CompareArgs) -> Result<(), Failure> {
    let mut reports = Vec::new();
    for f in &a.files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Failure::usage(format!("{}: {e}", f.display())))?;
        let r: Report = serde_json::from_str(text.trim()).map_err(|e| {
            Failure::usage(format!(
                "{}: not an `icc-bench -o json` result: {e}",
                f.display()
            ))
        })?;
        reports.push(r);
    }
    ctx.print(&comparison_markdown(&reports))
}

fn print_report(ctx: &Ctx, r: Report) -> Result<(), Failure> {
    let v = serde_json::to_value(&r)
        .map_err(|e| Failure::rejected(format!("cannot encode the result: {e}")))?;
    ctx.print_json(&v)
}

/// The load result for people: one row for all operations, one per kind, then errors.
fn load_table(r: &LoadReport) -> String {
    let mut out = format!(
        "{}: {} client{} over {} connection{} to {}, {:.1} s measured after {:.1} s warm-up\n\n",
        r.target,
        r.clients,
        if r.clients == 1 { "" } else { "s" },
        r.conns,
        if r.conns == 1 { "" } else { "s" },
        r.leader,
        r.measured_s,
        r.warmup_s
    );
    let mut t = Table::new([
        "OP", "WRITES", "WRITES/S", "P50 MS", "P90 MS", "P99 MS", "P99.9 MS", "MAX MS",
    ]);
    let mut row = |name: &str, ops: u64, rate: f64, l: &crate::report::Latency| {
        t.row([
            name.to_string(),
            ops.to_string(),
            format!("{rate:.0}"),
            format!("{:.2}", l.p50),
            format!("{:.2}", l.p90),
            format!("{:.2}", l.p99),
            format!("{:.2}", l.p999),
            format!("{:.2}", l.max),
        ]);
    };
    row("all", r.ops, r.ops_per_s, &r.latency_ms);
    for (name, s) in &r.by_op {
        row(name, s.ops, s.ops_per_s, &s.latency_ms);
    }
    out.push_str(&t.render());
    out.push_str(&format!("\nerrors: {}", r.errors));
    for (kind, n) in &r.errors_by_kind {
        out.push_str(&format!("\n  {n:>6}  {kind}"));
    }
    if r.term_after != r.term_before {
        out.push_str(&format!(
            "\nleadership changed during the run (term {} -> {})",
            r.term_before, r.term_after
        ));
    }
    out
}

/// The failover result for people: one row per kill, then the summary.
fn failover_table(r: &FailoverReport) -> String {
    let mut t = Table::new([
        "ROUND",
        "KILLED",
        "PID",
        "TERM",
        "ELECTED MS",
        "FAILOVER MS",
        "ACKED BY",
        "RECOVERY MS",
        "ERROR",
    ]);
    for s in &r.samples {
        t.row([
            s.round.to_string(),
            s.member.to_string(),
            s.pid.to_string(),
            s.term.to_string(),
            s.elected_ms.map_or("-".into(), |m| format!("{m:.1}")),
            s.failover_ms.map_or("-".into(), |m| format!("{m:.1}")),
            s.acked_by.map_or("-".into(), |m| m.to_string()),
            format!("{:.0}", s.recovery_ms),
            s.error.clone().unwrap_or_default(),
        ]);
    }
    format!(
        "{}\n{}: kill -9 of the leader x{}: failover min {:.1} ms, median {:.1} ms, p90 {:.1} ms, worst {:.1} ms; {} without an acknowledged write",
        t.render(),
        r.target,
        r.samples.len(),
        r.min_ms,
        r.median_ms,
        r.p90_ms,
        r.max_ms,
        r.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        let mut v = vec!["icc-bench"];
        v.extend_from_slice(args);
        try_parse_from(v).map_err(|e| e.to_string())
    }

    #[test]
    fn load_defaults_and_flags() {
        let b = parse(&[]).unwrap();
        assert!(b.mode.is_none());
        assert_eq!(b.load.clients, 16);
        assert_eq!(b.load.target.target, TargetKind::Icc);
        assert_eq!(b.load.mix.to_string(), "declare=20,append=60,update=20");
        let b = parse(&[
            "--target",
            "etcd",
            "--etcd-endpoints",
            "a:1,b:2",
            "--clients",
            "64",
            "--count",
            "100",
            "--warmup",
            "0s",
        ])
        .unwrap();
        assert_eq!(b.load.target.etcd_endpoints, ["a:1", "b:2"]);
        assert_eq!((b.load.clients, b.load.count), (64, Some(100)));
        assert_eq!(b.load.warmup, Duration::ZERO);
        assert!(parse(&["--count", "1", "--duration", "1s"]).is_err());
        assert!(parse(&["--mix", "delete=1"]).is_err());
    }

    #[test]
    fn failover_and_compare_parse() {
        let b = parse(&[
            "failover",
            "--pid-file",
            "p{n}",
            "--restart",
            "r {n}",
            "--kills",
            "3",
        ])
        .unwrap();
        match b.mode {
            Some(BenchMode::Failover(f)) => {
                assert_eq!(f.kills, 3);
                assert_eq!(f.probe_interval, Duration::from_millis(10));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            parse(&["failover"]).is_err(),
            "pid file and restart are required"
        );
        assert!(matches!(
            parse(&["compare", "a.json"]).unwrap().mode,
            Some(BenchMode::Compare(_))
        ));
        assert!(matches!(
            parse(&["wait", "--target", "etcd", "--within", "5s"])
                .unwrap()
                .mode,
            Some(BenchMode::Wait(_))
        ));
    }

    #[test]
    fn icc_connection_flags_come_before_a_mode_as_scripts_bench_sh_passes_them() {
        let b = parse(&[
            "--endpoints",
            "127.0.0.1:7101",
            "-o",
            "json",
            "failover",
            "--pid-file",
            "p{n}",
            "--restart",
            "r {n}",
        ])
        .unwrap();
        assert_eq!(b.global.endpoints.as_deref(), Some("127.0.0.1:7101"));
        assert_eq!(b.global.output, Output::Json);
        assert!(matches!(b.mode, Some(BenchMode::Failover(_))));
    }
}
