//! `icc-chaos`: runs chaos scenarios with many seeds and prints a markdown table of scenario ×
//! runs × failures (the `make chaos` profile). Failing runs keep a report.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use icc_chaos::scenario;

/// icc chaos runner: real iccd processes, faults, a recorded workload, history checkers.
#[derive(Parser)]
#[command(
    name = "icc-chaos",
    after_help = "EXAMPLES:\n  icc-chaos run --seeds 10                      every scenario, seeds 1..=10\n  \
icc-chaos run --scenario kill-all --seeds 1 --first-seed 42   replay one seed\n  icc-chaos list\n\n\
iccd is taken from ICC_CHAOS_ICCD or next to this binary; build it with\n\
`cargo build -p icc-node --features failpoints --bin iccd`. Reports of failing runs go to\n\
<target>/chaos-reports/<scenario>-<seed>/ (ICC_CHAOS_REPORTS overrides)."
)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs scenarios, each with several seeds, and prints the table.
    Run {
        /// Scenario to run (repeatable); all when omitted.
        #[arg(long)]
        scenario: Vec<String>,
        /// Seeds per scenario.
        #[arg(long, default_value_t = 10, env = "ICC_CHAOS_SEEDS")]
        seeds: u64,
        /// First seed (seeds are first..first+seeds); ICC_CHAOS_SEED also sets it.
        #[arg(long, env = "ICC_CHAOS_SEED", default_value_t = 1)]
        first_seed: u64,
    },
    /// Lists the scenarios and their faults.
    List,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::List => {
            for s in scenario::all() {
                println!("{:<28} {:?} x{}", s.name, s.faults, s.cycles);
            }
            ExitCode::SUCCESS
        }
        Cmd::Run {
            scenario: names,
            seeds,
            first_seed,
        } => {
            let mut chosen = Vec::new();
            for n in &names {
                match scenario::by_name(n) {
                    Some(s) => chosen.push(s),
                    None => {
                        eprintln!("error: unknown scenario {n:?}; hint: icc-chaos list");
                        return ExitCode::from(2);
                    }
                }
            }
            if chosen.is_empty() {
                chosen = scenario::all();
            }
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut rows = Vec::new();
            let mut failed_runs = Vec::new();
            for s in &chosen {
                let mut failures = 0;
                for seed in first_seed..first_seed + seeds {
                    let r = rt.block_on(scenario::run(s, seed));
                    let mark = if r.failures.is_empty() {
                        "ok  "
                    } else {
                        "FAIL"
                    };
                    eprintln!("{mark} {}", r.summary);
                    if !r.failures.is_empty() {
                        failures += 1;
                        for f in r.failures.iter().take(5) {
                            eprintln!("     {f}");
                        }
                        failed_runs.push(format!(
                            "{} seed {seed}: {}",
                            s.name,
                            r.report
                                .map(|p| p.display().to_string())
                                .unwrap_or_default()
                        ));
                    }
                }
                rows.push((s.name, seeds, failures));
            }
            println!("| scenario | runs | failures |\n|---|---|---|");
            for (name, runs, failures) in &rows {
                println!("| {name} | {runs} | {failures} |");
            }
            if failed_runs.is_empty() {
                ExitCode::SUCCESS
            } else {
                println!("\nReports of failing runs:");
                for f in failed_runs {
                    println!("- {f}");
                }
                ExitCode::FAILURE
            }
        }
    }
}
