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

use crate::catchup::Rejoin;
use crate::cluster::{Cluster, System};
use crate::nodes::NodesSpec;
use crate::report::{FailoverReport, LoadReport, Report, comparison_markdown};
use crate::scale::{CatchUpReport, NodesReport, PreloadReport, scale_markdown};
use crate::workload::{Mix, SizeRange};
use crate::{catchup, failover, load, nodes, preload};

const BENCH_AFTER_HELP: &str = "\
Each client has exactly one request in flight (closed loop). All clients send to the
member that leads when the run starts, over --conns connections. etcd gets, for every
icc operation, a put of the same encoded bytes under a key of the client's own
(declare: new key, append: new key under the incident's, update: overwrite).

Neither system's requests are retried: each is one gRPC call with --timeout as its
deadline; a failed one counts as an error (by kind) and the client goes on.

Examples:
  icc-bench --clients 64 --duration 30s --warmup 5s
  icc-bench -o json --target etcd --etcd-endpoints 127.0.0.1:2379 --clients 64
  icc-bench --mix append=1 --note-bytes 1024 --count 10000
  icc-bench failover --kills 20 --pid-file 'run/icc-{N}.pid' --restart 'scripts/bench.sh start-member icc {N}'
  icc-bench compare results/*.json
  icc-bench wait --target etcd --within 30s

The scale scenario (icc only; scripts/bench.sh runs it on a fresh cluster):
  icc-bench -o json preload --incidents 1000000 --notes-per-incident 10 >preload.json
  icc-bench -o json nodes --label 'after preload' --pid-file 'run/node{N}.pid' --data-dir 'run/node{N}' --log-file 'run/node{N}.log' >nodes.json
  icc-bench -o json --label scale --clients 64 >scale-c64.json
  icc-bench -o json catch-up --rejoin membership --pid-file 'run/node{N}.pid' --wipe 'rm -rf run/node{N}' --restart 'scripts/bench.sh start-member icc {N}' >catch-up.json
  icc-bench compare --scale results/load-icc-c64.json preload.json nodes.json scale-c64.json catch-up.json";

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
{N} in --pid-file and --restart is the member's position in the endpoint list (1-based;
{N} and its lowercase form alike).")]
    Failover(FailoverArgs),
    /// Print one markdown table comparing icc and etcd from `-o json` results of earlier runs
    #[command(after_help = "\
Plain load runs pair up by client count (icc next to etcd, with icc / etcd), failover runs
by system; the last file of each wins. Runs made with --label, and the results of preload,
nodes and catch-up, make a second table, the scale table: each labelled icc run next to the
plain icc run of the same client count (the empty cluster), then the preload, the members'
memory and disk, snapshot times from their logs and the new follower's catch-up.")]
    Compare(CompareArgs),
    /// Wait until every member answers, all agree on a leader and all have caught up
    Wait(WaitArgs),
    /// Fill an icc cluster with incidents and their timeline notes (the scale scenario)
    #[command(after_help = "\
Each client claims the next incident, declares it, appends its notes one after the other,
and claims the next, until --incidents are claimed. Writes go through the icc client with
its retries (one request id per write, so nothing is written twice) within --timeout each;
a write that still fails is counted and the client goes on (a failed declare skips that
incident's notes). Progress goes to stderr every --progress; the result is the rate.")]
    Preload(PreloadArgs),
    /// Report the members' resident memory, data directory size and snapshot log lines
    #[command(after_help = "\
Reads, for each member {N} (1-based, in endpoint order): VmRSS in /proc/<pid>/status for
the pid in --pid-file, the size of --data-dir as du counts it (and its apparent size), and
in --log-file every line with the message `snapshot built` or `snapshot installed` and its
fields group=, index=, bytes=, took_ms= (tracing's text format). Talks to no member.")]
    Nodes(NodesArgs),
    /// Stop a follower, wipe its data, restart it and time its catch-up (icc)
    #[command(after_help = "\
Waits for a healthy cluster, stops the follower with SIGTERM (--member, or the follower
with the highest node id that is not the lowest-id member: that one bootstraps the group
when its data directory is empty), runs --wipe, reads the leader's commit index, runs
--restart and polls the member until its applied index reaches that index. A member that
does not within --within, or whose applied index stands still for --stall, is reported as
such (exit code 0); {N} in the templates is the member's position in the endpoint list
(1-based).

--rejoin restart only starts the member again. Today's iccd does not let a wiped member
back that way: openraft's leader remembers how far the member's log went, takes the loss
for a bug and sends it nothing (unless the server allows log reversion for it).
--rejoin membership removes the member from the region group's voters before the restart,
adds it back as a learner after it (replication then starts from scratch: the leader's log,
or a snapshot once that is purged) and makes it a voter again once it has caught up.")]
    CatchUp(CatchUpArgs),
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
    /// Name the run for `compare`: it goes to the scale table, next to the plain icc run of
    /// the same client count, instead of next to etcd
    #[arg(long, value_name = "NAME")]
    label: Option<String>,
}

/// Arguments of `icc-bench failover`.
#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// How many times to kill the leader
    #[arg(long, value_name = "N", default_value_t = 20)]
    kills: usize,
    /// File holding member {N}'s process id
    #[arg(long, value_name = "TEMPLATE")]
    pid_file: String,
    /// Shell command that starts member {N} again (in the background) and returns
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
    /// Result files written by `icc-bench -o json ...` (any mode, either system)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print only the scale table
    #[arg(long)]
    scale: bool,
}

/// Arguments of `icc-bench preload`.
#[derive(Debug, Args)]
pub struct PreloadArgs {
    /// Incidents to declare
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    incidents: u64,
    /// Timeline notes to append to each incident
    #[arg(long, value_name = "N", default_value_t = 10)]
    notes_per_incident: u32,
    /// Concurrent clients, each with one write in flight
    #[arg(long, value_name = "N", default_value_t = 256)]
    clients: usize,
    /// Connections the clients share (round robin)
    #[arg(long, value_name = "N", default_value_t = 1)]
    conns: usize,
    /// Size of the notes in bytes: MIN-MAX (uniform) or one size
    #[arg(long, value_name = "BYTES", default_value = "64-256")]
    note_bytes: SizeRange,
    /// How often to print progress
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    progress: Duration,
    /// Seed of the request generators
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Arguments of `icc-bench nodes`.
#[derive(Debug, Args)]
pub struct NodesArgs {
    /// File holding member {N}'s process id
    #[arg(long, value_name = "TEMPLATE")]
    pid_file: String,
    /// Member {N}'s data directory
    #[arg(long, value_name = "TEMPLATE")]
    data_dir: String,
    /// Member {N}'s log (stderr of iccd), searched for snapshot lines
    #[arg(long, value_name = "TEMPLATE")]
    log_file: Option<String>,
    /// Members 1..=N [default: as many as --endpoints]
    #[arg(long, value_name = "N")]
    members: Option<usize>,
    /// When this is taken, for the report
    #[arg(long, value_name = "TEXT", default_value = "now")]
    label: String,
}

/// Arguments of `icc-bench catch-up`.
#[derive(Debug, Args)]
pub struct CatchUpArgs {
    /// The follower to wipe (position in the endpoint list, 1-based) [default: see below]
    #[arg(long, value_name = "N")]
    member: Option<usize>,
    /// How the wiped member gets back into its group (see below)
    #[arg(long, value_enum, default_value_t = Rejoin::Restart)]
    rejoin: Rejoin,
    /// File holding member {N}'s process id
    #[arg(long, value_name = "TEMPLATE")]
    pid_file: String,
    /// Shell command that deletes member {N}'s data (run once it has stopped)
    #[arg(long, value_name = "COMMAND")]
    wipe: String,
    /// Shell command that starts member {N} again (in the background) and returns
    #[arg(long, value_name = "COMMAND")]
    restart: String,
    /// Longest wait for the follower's process to exit after SIGTERM
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    stop_timeout: Duration,
    /// Longest wait for the restarted follower to catch up
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    within: Duration,
    /// Give up sooner when its applied index has not moved for this long
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    stall: Duration,
    /// Longest wait for a healthy cluster before the follower is stopped
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    health_timeout: Duration,
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
        Some(BenchMode::Preload(p)) => run_preload(ctx, p).await,
        Some(BenchMode::Nodes(n)) => {
            let spec = NodesSpec {
                members: n.members.unwrap_or(ctx.endpoints().len()),
                pid_file: n.pid_file,
                data_dir: n.data_dir,
                log_file: n.log_file,
                label: n.label,
            };
            show(ctx, Ok(nodes::run(&spec)), nodes_table, Report::Nodes)
        }
        Some(BenchMode::CatchUp(c)) => run_catch_up(ctx, c).await,
    }
}

/// The icc cluster of `--endpoints`.
fn icc_cluster(ctx: &Ctx) -> Result<Cluster, Failure> {
    Cluster::new(System::Icc, ctx.endpoints()).map_err(Failure::usage)
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
        label: a.label,
    };
    let result = load::run(&cluster, &spec, |m| ctx.note(m)).await;
    show(ctx, result, load_table, Report::Load)
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
    let result = failover::run(&cluster, &spec, |m| ctx.note(m)).await;
    show(ctx, result, failover_table, Report::Failover)
}

async fn run_preload(ctx: &Ctx, a: PreloadArgs) -> Result<(), Failure> {
    let spec = preload::PreloadSpec {
        incidents: a.incidents,
        notes: a.notes_per_incident,
        clients: a.clients,
        conns: a.conns,
        note: a.note_bytes,
        progress: a.progress,
        deadline: ctx.client().config().deadline,
        seed: a.seed,
    };
    let result = preload::run(&icc_cluster(ctx)?, &spec, |m| ctx.note(m)).await;
    show(ctx, result, preload_text, Report::Preload)
}

async fn run_catch_up(ctx: &Ctx, a: CatchUpArgs) -> Result<(), Failure> {
    let spec = catchup::CatchUpSpec {
        rejoin: a.rejoin,
        member: a.member,
        pid_file: a.pid_file,
        wipe: a.wipe,
        restart: a.restart,
        stop_timeout: a.stop_timeout,
        within: a.within,
        stall: a.stall,
        health_timeout: a.health_timeout,
    };
    let result = catchup::run(&icc_cluster(ctx)?, &spec, |m| ctx.note(m)).await;
    show(ctx, result, catch_up_text, Report::CatchUp)
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
    let scale = scale_markdown(&reports);
    if a.scale {
        return ctx.print(&scale);
    }
    let main = comparison_markdown(&reports);
    match (main.lines().count() > 2, scale.is_empty()) {
        (_, true) => ctx.print(&main),
        (false, false) => ctx.print(&scale),
        (true, false) => ctx.print(&format!("{main}\n{scale}")),
    }
}

/// Prints a mode's result: for people as `table` renders it, with `-o json` as the record
/// `compare` reads (`wrap` says which kind it is).
fn show<R>(
    ctx: &Ctx,
    result: Result<R, String>,
    table: fn(&R) -> String,
    wrap: fn(R) -> Report,
) -> Result<(), Failure> {
    let r = result.map_err(Failure::rejected)?;
    match ctx.output() {
        Output::Table => ctx.print(&table(&r)),
        Output::Json => print_report(ctx, wrap(r)),
    }
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

/// The preload result for people.
fn preload_text(r: &PreloadReport) -> String {
    let mut out = format!(
        "preloaded {} of {} incidents and {} notes ({} per incident, {} B) in {:.1} s with {} clients: {:.0} writes/s\nerrors: {}",
        r.incidents,
        r.incidents_requested,
        r.notes,
        r.notes_per_incident,
        r.note_bytes,
        r.seconds,
        r.clients,
        r.writes_per_s,
        r.errors
    );
    for (kind, n) in &r.errors_by_kind {
        out.push_str(&format!("\n  {n:>6}  {kind}"));
    }
    out
}

/// The members' usage and snapshot lines for people.
fn nodes_table(r: &NodesReport) -> String {
    let mib = |b: Option<u64>| b.map_or("-".into(), |b| format!("{:.1}", b as f64 / 1_048_576.0));
    let mut t = Table::new([
        "MEMBER",
        "PID",
        "RSS MIB",
        "DISK MIB",
        "APPARENT MIB",
        "ERROR",
    ]);
    for m in &r.members {
        t.row([
            m.member.to_string(),
            m.pid.map_or("-".into(), |p| p.to_string()),
            mib(m.rss_bytes),
            mib(m.disk_bytes),
            mib(m.apparent_bytes),
            m.errors.join("; "),
        ]);
    }
    let mut out = format!("{}:\n{}", r.label, t.render());
    if r.snapshots.is_empty() {
        out.push_str("\nno snapshot in this run");
    } else {
        let mut s = Table::new(["MEMBER", "EVENT", "GROUP", "INDEX", "BYTES", "TOOK MS"]);
        for e in &r.snapshots {
            let opt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
            s.row([
                e.member.to_string(),
                e.kind.message().to_string(),
                e.group.clone().unwrap_or_else(|| "-".into()),
                opt(e.index),
                opt(e.bytes),
                e.took_ms.map_or("-".into(), |t| format!("{t:.1}")),
            ]);
        }
        out.push_str(&format!("\n{}", s.render()));
    }
    for e in &r.log_errors {
        out.push_str(&format!("\nlog: {e}"));
    }
    out
}

/// The catch-up result for people.
fn catch_up_text(r: &CatchUpReport) -> String {
    let result = match (r.caught_up_ms, &r.error) {
        (Some(t), _) => format!("caught up {t:.0} ms after the restart"),
        (None, Some(e)) => format!("did not catch up: {e}"),
        (None, None) => "did not catch up".into(),
    };
    format!(
        "member {} (node {}; leader: member {}) stopped in {:.0} ms, wiped in {:.0} ms, restarted (rejoin: {}); \
         first answer after {}; {result}\napplied {} of {} (leader's commit index at the restart; \
         leader's snapshot at {}, log purged up to {}); its last log index {}, snapshot at {}",
        r.member,
        r.node_id,
        r.leader,
        r.stop_ms,
        r.wipe_ms,
        r.rejoin,
        r.answered_ms.map_or("-".into(), |a| format!("{a:.0} ms")),
        r.applied,
        r.target_index,
        r.leader_snapshot,
        r.leader_purged,
        r.last_log,
        r.snapshot
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
    fn scale_modes_parse() {
        match parse(&[
            "preload",
            "--incidents",
            "2000",
            "--notes-per-incident",
            "2",
        ])
        .unwrap()
        .mode
        {
            Some(BenchMode::Preload(p)) => {
                assert_eq!((p.incidents, p.notes_per_incident), (2000, 2));
                assert_eq!((p.clients, p.progress), (256, Duration::from_secs(10)));
                assert_eq!(p.note_bytes.to_string(), "64-256");
            }
            other => panic!("{other:?}"),
        }
        match parse(&["nodes", "--pid-file", "p{n}", "--data-dir", "d{n}"])
            .unwrap()
            .mode
        {
            Some(BenchMode::Nodes(n)) => assert_eq!((n.log_file, n.members), (None, None)),
            other => panic!("{other:?}"),
        }
        assert!(
            parse(&["catch-up", "--pid-file", "p{n}", "--restart", "r {n}"]).is_err(),
            "the wipe command is required"
        );
        assert!(matches!(
            parse(&[
                "catch-up",
                "--pid-file",
                "p",
                "--wipe",
                "w",
                "--restart",
                "r"
            ])
            .unwrap()
            .mode,
            Some(BenchMode::CatchUp(CatchUpArgs { member: None, .. }))
        ));
        match parse(&["compare", "--scale", "a.json"]).unwrap().mode {
            Some(BenchMode::Compare(c)) => assert!(c.scale),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(&["--label", "scale"]).unwrap().load.label.as_deref(),
            Some("scale")
        );
        assert!(
            parse(&["--label", "scale", "preload"]).is_err(),
            "load flags never go with a mode"
        );
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
