//! `iccd`: the icc server. One process per node; every node of a cluster reads the same cluster
//! file and is told its own id.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use icc_node::ClusterConfig;
use icc_node::{NodeOptions, run};

/// How logs are written.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// icc node: replicates a region's incidents with Raft on RocksDB and serves gRPC.
#[derive(Parser, Debug)]
#[command(
    name = "iccd",
    version,
    after_help = "EXAMPLES:\n  iccd --config deploy/local/cluster.toml --node-id 1 --data-dir .icc-run/node1\n\n\
The lowest-id node initialises the Raft group the first time the cluster starts; later starts\n\
reuse the data directory. SIGTERM or SIGINT stops the node cleanly.\n\n\
Nodes talk mutual TLS with the cluster CA: set [tls] ca/cert/key in the cluster file (paths may\n\
contain {id}) or --tls-ca/--tls-cert/--tls-key (create them with `icc certs init` and\n\
`icc certs issue --node <id>`). Plaintext only with --insecure-plaintext."
)]
struct Args {
    /// Cluster file (TOML): region, nodes, Raft timings.
    #[arg(long, env = "ICCD_CONFIG")]
    config: PathBuf,
    /// This node's id in the cluster file.
    #[arg(long, env = "ICCD_NODE_ID")]
    node_id: u64,
    /// Directory for this node's RocksDB (created if missing).
    #[arg(long, env = "ICCD_DATA_DIR")]
    data_dir: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Log filter, e.g. `info` or `icc_node=debug,openraft=warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info,openraft=warn")]
    log: String,
    /// The cluster CA certificate (PEM); overrides `[tls] ca` in the cluster file.
    #[arg(long, env = "ICCD_TLS_CA", value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// This node's certificate (PEM, from `icc certs issue --node <id>`); overrides `[tls] cert`.
    #[arg(long, env = "ICCD_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// This node's private key (PEM); overrides `[tls] key`.
    #[arg(long, env = "ICCD_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Serve the public status page (plain HTTP, read-only: open and recently resolved
    /// incidents of every region, shareable fields only) on this `host:port`, e.g.
    /// 127.0.0.1:8001; overrides the node's `status_addr` in the cluster file.
    #[arg(long, env = "ICCD_STATUS_ADDR", value_name = "HOST:PORT")]
    status_addr: Option<String>,
    /// INSECURE: serve and dial plaintext with no authentication and no authorization. Only
    /// for benchmarks and debugging on a trusted machine; the node logs a warning at start.
    #[arg(long)]
    insecure_plaintext: bool,
    /// TEST ONLY: shift this node's wall clock by this many milliseconds (may be negative) to
    /// exercise clock-skew handling without touching the machine clock. Never use in production.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true, hide = true)]
    test_only_clock_offset_ms: i64,
}
fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    let cluster = match ClusterConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(addr) = &args.status_addr
        && addr.parse::<std::net::SocketAddr>().is_err()
    {
        eprintln!("error: --status-addr {addr:?} is not host:port (an IP and a port)");
        return std::process::ExitCode::from(2);
    }
    let opts = NodeOptions {
        cluster,
        node_id: args.node_id,
        data_dir: args.data_dir,
        test_clock_offset_ms: args.test_only_clock_offset_ms,
        tls: icc_node::TlsFlags {
            ca: args.tls_ca,
            cert: args.tls_cert,
            key: args.tls_key,
            insecure_plaintext: args.insecure_plaintext,
        },
        status_addr: args.status_addr,
    };
    let result = runtime.block_on(run(opts, shutdown_signal()));
    // Drop every task (and with them the last handles on RocksDB) before the process exits.
    drop(runtime);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutdown signal received");
}
