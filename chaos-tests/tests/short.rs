//! The short chaos profile run by `cargo test` (and so `make test`): most scenarios of the
//! suite once, with a fixed seed, one at a time. `ICC_CHAOS_SEED=<n>` replays another seed;
//! `make chaos` runs every scenario with many seeds.
//!
//! Not here: `regions` and `mixed` (the 9-node and 4-cycle runs are too long for `make test`).

use std::sync::Mutex;

use icc_chaos::scenario;

/// Clusters run one at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn run(name: &str, seed: u64) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let s = scenario::by_name(name).expect("scenario exists");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let r = rt.block_on(scenario::run(&s, scenario::seed_or(seed)));
    eprintln!("{}", r.summary);
    assert!(
        r.failures.is_empty(),
        "{} failed; report in {:?}:\n{}",
        r.summary,
        r.report,
        r.failures.join("\n")
    );
}

macro_rules! short {
    ($($test:ident => $name:literal, $seed:literal;)*) => {$(
        #[test]
        fn $test() {
            run($name, $seed);
        }
    )*};
}

short! {
    kill_leader => "kill-leader", 1;
    kill_follower_and_majority => "kill-follower-and-majority", 2;
    kill_all => "kill-all", 3;
    pause_leader => "pause-leader", 4;
    partition_leader => "partition-leader", 5;
    partition_minority_one_way => "partition-minority-one-way", 2;
    flapping_network => "flapping-network", 7;
    clock_skew => "clock-skew", 8;
    storage_faults => "storage-faults", 9;
    bridge => "bridge", 10;
    rolling_restart => "rolling-restart", 11;
    duplicates => "duplicates", 12;
    membership => "membership", 13;
}
