//! The command line: every flag and subcommand of `icc`, as clap derive types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use icc_client::v1::{Severity, Status};

use super::parse::{parse_duration, parse_severity, parse_status};

const TOP_AFTER_HELP: &str = "\
Endpoints are taken from, in order: --endpoints, $ICC_ENDPOINTS, the config file
(--config, $ICC_CONFIG or ~/.config/icc/config.toml, e.g. endpoints = [\"127.0.0.1:7001\"]),
else 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003. Any node will do: writes are forwarded
to the leader, and the client fails over between the endpoints by itself.

Exit codes:
  0  success
  1  the server rejected the request (invalid argument, failed precondition, not found, ...)
  2  usage error (bad flags or arguments, bad configuration)
  3  cluster unreachable: no endpoint answered within --timeout

Examples:
  id=$(icc incident declare --title \"checkout 500s\" --severity sev2 --service checkout)
  icc incident ack \"$id\"
  icc timeline add \"$id\" --text \"rolled back deploy 1234\"
  icc incident list --status acknowledged
  icc -o json incident show \"$id\"
  icc --endpoints 10.0.0.1:7001,10.0.0.2:7001 cluster status";

/// icc: declare, track and resolve incidents on an icc cluster, and operate the cluster.
#[derive(Debug, Parser)]
#[command(name = "icc", version, after_help = TOP_AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Where the cluster is, how to authenticate, how to print.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes (and `icc-bench`, which talks to a cluster the same way).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Nodes to talk to, comma separated host:port [env: ICC_ENDPOINTS]
    #[arg(long, global = true, value_name = "HOST:PORT,...")]
    pub endpoints: Option<String>,

    /// Config file with `endpoints = [...]` [env: ICC_CONFIG] [default: ~/.config/icc/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format: aligned tables for people, or JSON for scripts
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// Overall deadline per call, retries and failover included (e.g. 10s, 1500ms)
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Who is making the change, recorded in the timeline [env: ICC_AUTHOR] [default: $USER]
    #[arg(long, global = true, value_name = "NAME")]
    pub author: Option<String>,

    /// Cluster CA certificate to verify nodes with [env: ICC_CA] [config: ca]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Client certificate naming who you are (from `icc certs issue --client`) [env: ICC_CERT] [config: cert]
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// Private key of --cert [env: ICC_KEY] [config: key]
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Bearer token (from `icc rbac token create`), instead of a client certificate [env: ICC_TOKEN] [config: token]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// INSECURE: talk plaintext, to a cluster started with --insecure-plaintext [env: ICC_INSECURE_PLAINTEXT=1]
    #[arg(long, global = true)]
    pub insecure_plaintext: bool,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned text tables.
    Table,
    /// JSON (one object per line for `watch`).
    Json,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Declare, list, show and change incidents
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// Add notes to an incident's timeline and read it
    #[command(subcommand)]
    Timeline(TimelineCmd),
    /// Follow committed changes to all incidents as they happen (until Ctrl-C)
    #[command(after_help = "\
Each line: log index, time (UTC), incident id, status, event kind, text.
The watch survives node failures: it reconnects to another node and resumes
after the last change it printed, without gaps or duplicates.

Examples:
  icc watch
  icc watch --from-index 120         # resume after the change at index 119
  icc -o json watch | jq .incident.id")]
    Watch(WatchArgs),
    /// The notification outbox: what was sent (or is still pending) to which channel
    #[command(subcommand)]
    Notifications(NotificationsCmd),
    /// Inspect and change the cluster: status, membership, leadership
    #[command(subcommand)]
    Cluster(ClusterCmd),
    /// Check and export the tamper-evident audit log (a hash chain of every accepted command)
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Check and export a node's access log (every read of incident records it served, hash-chained)
    #[command(subcommand)]
    Access(AccessCmd),
    /// Risk register: incident counts, recurrence, time lost and trend per service
    #[command(subcommand)]
    Risk(RiskCmd),
    /// Manage who may do what: role bindings scoped to regions, bearer tokens
    #[command(subcommand)]
    Rbac(RbacCmd),
    /// Create the cluster CA and issue node and client certificates (local files, no cluster needed)
    #[command(subcommand)]
    Certs(CertsCmd),
    /// The severity policy: levels, SLA targets, cadences, the impact x exposure matrix, escalation
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Failover drills: take a region's leader away under writes, measure, record the outcome
    #[command(subcommand)]
    Drill(DrillCmd),
}

/// `icc drill ...`
#[derive(Debug, Subcommand)]
pub enum DrillCmd {
    /// Take a region's leader away while writing, and measure the failover
    #[command(after_help = "\
The drill declares a SEV4 incident `failover drill <id>` in the region, appends notes to it
(one in flight), then takes the leader away:
  --kill      the leader process exits at once, as in a crash (the cluster file must say
              `[drills] allow_kill = true`; a supervisor restarts the node: `make run` does)
  --transfer  leadership is handed to another voter (a planned move)
It prints the time to a new leader and to the first acknowledged write after the fault, checks
that every acknowledged note is in the timeline (read linearizably), resolves and closes the
incident, and records the drill in the global group (`icc drill report`). Needs cluster.admin.
Exit status 2 when the drill failed.

Examples:
  icc drill failover --region us-east --kill
  icc drill failover --region eu-west --transfer -o json")]
    Failover(DrillFailoverArgs),
    /// List the recorded drills: who ran them, when, timings and outcome
    #[command(after_help = "\
Examples:
  icc drill report
  icc drill report --region us-east -o json")]
    Report(DrillReportArgs),
}

/// Arguments of `icc drill failover`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("fault").required(true).args(["kill", "transfer"])))]
pub struct DrillFailoverArgs {
    /// The region whose leader is taken away
    #[arg(long)]
    pub region: String,
    /// Crash the leader process
    #[arg(long)]
    pub kill: bool,
    /// Hand leadership to another voter
    #[arg(long)]
    pub transfer: bool,
    /// How long to keep writing once writes are acknowledged again
    #[arg(long, default_value = "2s", value_parser = super::drill_cmd::duration)]
    pub settle: std::time::Duration,
    /// How long to wait for a new leader and for writes before the drill counts as failed
    #[arg(long, default_value = "30s", value_parser = super::drill_cmd::duration)]
    pub give_up: std::time::Duration,
}

/// Arguments of `icc drill report`.
#[derive(Debug, Args)]
pub struct DrillReportArgs {
    /// Only drills of this region
    #[arg(long)]
    pub region: Option<String>,
}

/// `icc policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Print the current policy document (what the answering node uses), or one version
    #[command(after_help = "\
Version 0 is the built-in default, with the cluster file's [[sla]] targets over it.
The printed document is a valid starting point for `icc policy apply`.

Examples:
  icc policy show > policy.yaml
  icc policy show --version 2
  icc -o json policy show          # the validated policy, durations in seconds")]
    #[command(disable_version_flag = true)]
    Show(PolicyShowArgs),
    /// Validate a policy document and apply it as the next version (admin or global-commander)
    #[command(after_help = "\
The file is checked here first: every error names its line and the rule it breaks, e.g.
  policy.yaml line 14: levels.sev1.acknowledge: must be a positive duration (zero or negative given)
and nothing is sent until it is clean. The cluster checks it again.
Incidents declared after the apply use the new targets; existing incidents keep theirs.
A template with every field explained: deploy/local/policy.yaml.

Examples:
  icc policy apply -f policy.yaml --reason \"SEV2 acknowledge target to 10m after review\"
  icc policy apply -f policy.yaml --check    # validate only")]
    Apply(PolicyApplyArgs),
    /// List every version: who applied it, when and why
    History,
}

/// Arguments of `icc policy show`.
#[derive(Debug, Args)]
pub struct PolicyShowArgs {
    /// A stored version instead of the current one
    #[arg(long)]
    pub version: Option<u64>,
}

/// Arguments of `icc policy apply`.
#[derive(Debug, Args)]
pub struct PolicyApplyArgs {
    /// The policy document (YAML)
    #[arg(short = 'f', long = "file", value_name = "POLICY.YAML")]
    pub file: std::path::PathBuf,
    /// Why it changes (recorded with the version and in the audit log)
    #[arg(long, required_unless_present = "check")]
    pub reason: Option<String>,
    /// Only validate the file; send nothing
    #[arg(long)]
    pub check: bool,
}

/// `icc rbac ...`
#[derive(Debug, Subcommand)]
pub enum RbacCmd {
    /// Give an identity a role on some regions (default: every region)
    #[command(after_help = "\
Roles (permissions):
  viewer            incident.read, cluster.read
  responder         + incident.write (declare, ack, resolve, notes)
  specialist        same as responder
  regional-lead     + incident.command (severity, commander, close)
  global-commander  + incident.declare-global, policy.apply
  auditor           incident.read, audit.read, cluster.read
  admin             everything (rbac.admin, cluster.admin, ...)
A global incident's scope is `global`; a binding without --regions covers every region and global.

Examples:
  icc rbac bind --identity alice --role responder --regions us-east
  icc rbac bind --identity carol --role auditor")]
    Bind(RbacBindArgs),
    /// Take a role from an identity
    Unbind(RbacUnbindArgs),
    /// List role bindings (and the admins named in the cluster file)
    List(RbacListArgs),
    /// Show who the cluster takes you for, and your roles
    Whoami,
    /// Create, list and revoke bearer tokens
    #[command(subcommand)]
    Token(TokenCmd),
}

/// Arguments of `icc rbac bind`.
#[derive(Debug, Args)]
pub struct RbacBindArgs {
    /// Who (a client certificate's name, or a token's identity)
    #[arg(long)]
    pub identity: String,
    /// viewer, responder, specialist, regional-lead, global-commander, auditor or admin
    #[arg(long)]
    pub role: String,
    /// Regions the role applies to, comma separated (`global` for global incidents); default all
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
}

/// Arguments of `icc rbac unbind`.
#[derive(Debug, Args)]
pub struct RbacUnbindArgs {
    /// Who
    #[arg(long)]
    pub identity: String,
    /// Which role
    #[arg(long)]
    pub role: String,
}

/// Arguments of `icc rbac list`.
#[derive(Debug, Args)]
pub struct RbacListArgs {
    /// Only this identity
    #[arg(long, default_value = "")]
    pub identity: String,
}

/// `icc rbac token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token for an identity; it is printed once (the cluster keeps only its SHA-256)
    #[command(after_help = "\
Example:
  export ICC_TOKEN=$(icc rbac token create --identity ci-bot)
  icc --token \"$ICC_TOKEN\" incident list      # with --ca, without --cert/--key")]
    Create(TokenCreateArgs),
    /// List tokens: id, identity, creation time
    List,
    /// Revoke a token by its id (from `icc rbac token list`)
    Revoke(TokenRevokeArgs),
}

/// Arguments of `icc rbac token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Whom the token authenticates
    #[arg(long)]
    pub identity: String,
}

/// Arguments of `icc rbac token revoke`.
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token id (12 hex digits)
    pub id: String,
}

/// `icc certs ...`
#[derive(Debug, Subcommand)]
pub enum CertsCmd {
    /// Create a cluster CA in DIR and a client certificate for the bootstrap admin `admin`
    #[command(after_help = "\
Writes DIR/ca.crt, DIR/ca.key (keep it private), DIR/admin.crt and DIR/admin.key.
The cluster file's [security] admins (default [\"admin\"]) makes `admin` an administrator.

Example:
  icc certs init --dir certs && for n in 1 2 3; do icc certs issue --dir certs --node $n; done")]
    Init(CertsInitArgs),
    /// Issue a node certificate (--node ID) or a client certificate (--client NAME) from DIR's CA
    #[command(after_help = "\
Node certificates: CN node-<id>, DNS name node.icc (what clients check), localhost, 127.0.0.1
and any --san. Client certificates: CN <name>, client authentication only; the name is the
identity role bindings refer to (`icc rbac bind --identity <name> ...`).

Examples:
  icc certs issue --dir .icc-run/certs --client alice
  icc --cert .icc-run/certs/alice.crt --key .icc-run/certs/alice.key incident list")]
    Issue(CertsIssueArgs),
}

/// Arguments of `icc certs init`.
#[derive(Debug, Args)]
pub struct CertsInitArgs {
    /// Directory for the CA and certificates (created if missing)
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// Arguments of `icc certs issue`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("who").required(true).args(["node", "client"])))]
pub struct CertsIssueArgs {
    /// Directory holding ca.crt and ca.key
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Issue the certificate of this node id
    #[arg(long, value_name = "ID")]
    pub node: Option<u64>,
    /// Issue a client certificate for this identity (a-z, 0-9, '.', '_', '-')
    #[arg(long, value_name = "NAME")]
    pub client: Option<String>,
    /// More DNS names or IP addresses of the node (repeatable; node certificates only)
    #[arg(long, value_name = "NAME_OR_IP", requires = "node")]
    pub san: Vec<String>,
}

/// `icc risk ...`
#[derive(Debug, Subcommand)]
pub enum RiskCmd {
    /// Write the risk register (one row per service) as CSV or JSON
    #[command(after_help = "\
Columns: service, incidents, sev1..sev4, open, recurrences (incidents declared within
--window-days of the service's previous one), mean_days_between, hours_lost (declaration to
first resolution, open incidents until now), recent and previous (incidents in the last
window and the one before it) and trend (rising, falling or steady). Rows are ordered by
hours lost, worst first. Global incidents are counted through their regional children.

Examples:
  icc risk export --out risk.csv
  icc risk export --format json --window-days 90 --region eu-west")]
    Export(RiskExportArgs),
}

/// File formats of the risk register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RiskFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON array of rows.
    Json,
}

/// Arguments of `icc risk export`.
#[derive(Debug, Args)]
pub struct RiskExportArgs {
    /// File format
    #[arg(long, value_enum, default_value_t = RiskFormat::Csv)]
    pub format: RiskFormat,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only these regions (repeatable); default: every region of the cluster
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Length of the recurrence and trend windows, in days
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub window_days: u64,
}

/// `icc notifications ...`
#[derive(Debug, Subcommand)]
pub enum NotificationsCmd {
    /// List outbox entries: one per message to one channel, with its delivery state
    #[command(after_help = "\
Entries are created by the cluster when an incident is declared, changes status or severity,
or is escalated; the region's leader delivers each to its webhook at least once (header
Idempotency-Key: <incident>/n<seq>), retrying with backoff, in order per incident and channel.

Examples:
  icc notifications list
  icc notifications list --incident us-east-000042
  icc notifications list --state pending -o json")]
    List(NotificationsListArgs),
    /// Receive webhooks locally and print each (for trying channels; `make run` starts one)
    #[command(after_help = "\
Answers every POST with 200 and prints one line: time, path, Idempotency-Key and the body.
A key seen before is marked `duplicate`: delivery is at least once, so real receivers
de-duplicate by that key. Point a channel at it in the cluster file:

  [[channel]]
  name = \"ops-chat\"
  url = \"http://127.0.0.1:8090/ops\"
  format = \"slack\"

Examples:
  icc notifications sink
  icc notifications sink --listen 127.0.0.1:9000 >> webhooks.log")]
    Sink(SinkArgs),
}

/// Arguments of `icc notifications sink`.
#[derive(Debug, Args)]
pub struct SinkArgs {
    /// Address to listen on
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8090")]
    pub listen: String,
}

/// Arguments of `icc notifications list`.
#[derive(Debug, Args)]
pub struct NotificationsListArgs {
    /// Only this incident's notifications
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// Only notifications in this state: pending, delivered or failed
    #[arg(long, value_parser = ["pending", "delivered", "failed"])]
    pub state: Option<String>,
    /// Which region's incidents; default: the region of the node that answers
    #[arg(long, conflicts_with = "incident")]
    pub region: Option<String>,
    /// Read from the answering node's state, which may lag the leader
    #[arg(long)]
    pub local: bool,
}

/// `icc audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Recompute a group's audit chain and name the first entry that does not match
    #[command(after_help = "\
Online, the node you reach checks its own copy (use --endpoints to pick the node).
Offline, --file checks an export (JSON Lines from `icc audit export`) on this machine.
Exit code 1 when the chain is broken.

Examples:
  icc audit verify
  icc --endpoints 127.0.0.1:7004 audit verify --group eu-west
  icc audit export > us-east.jsonl && icc audit verify --file us-east.jsonl")]
    Verify(AuditVerifyArgs),
    /// Write a group's audit entries as JSON Lines (for an auditor or a SIEM)
    Export(AuditExportArgs),
}

/// `icc access ...`
#[derive(Debug, Subcommand)]
pub enum AccessCmd {
    /// Recompute one node's access-log chain; names the first entry that does not match
    #[command(after_help = "\
Each node logs the reads it served (who, which incident, which field classes were returned or
withheld, whether the read crossed jurisdictions) in its own chain; the node named answers.
Needs audit.read (auditor or admin).

Examples:
  icc access verify --node 4")]
    Verify(AccessNodeArgs),
    /// Write one node's access log as JSON Lines (for an auditor or a SIEM)
    #[command(after_help = "\
Examples:
  icc access export --node 4 --out node4-access.jsonl")]
    Export(AccessExportArgs),
}

/// Arguments of `icc access verify`.
#[derive(Debug, Args)]
pub struct AccessNodeArgs {
    /// The node whose access log to check (its id in the cluster file)
    #[arg(long)]
    pub node: u64,
}

/// Arguments of `icc access export`.
#[derive(Debug, Args)]
pub struct AccessExportArgs {
    /// The node whose access log to export (its id in the cluster file)
    #[arg(long)]
    pub node: u64,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// First entry to export
    #[arg(long, default_value_t = 1)]
    pub from_seq: u64,
}

/// Arguments of `icc audit verify`.
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// Group (a region, or `global`); default: the answering node's region
    #[arg(long, default_value = "")]
    pub group: String,
    /// Verify an export file offline instead of asking a node
    #[arg(long, value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
}

/// Arguments of `icc audit export`.
#[derive(Debug, Args)]
pub struct AuditExportArgs {
    /// Group (a region, or `global`); default: the answering node's region
    #[arg(long, default_value = "")]
    pub group: String,
    /// First entry to export
    #[arg(long, default_value_t = 1)]
    pub from_seq: u64,
}

/// `icc incident ...`
#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Declare a new incident; prints its id (table mode) so scripts can capture it
    #[command(after_help = "\
Examples:
  icc incident declare --title \"checkout 500s\" --severity sev2 --service checkout
  id=$(icc incident declare --title \"db down\" --severity 1 --service db --commander alice)
  icc incident declare --title \"x\" --severity sev3 --service y --request-id 7d9f...  # safe to repeat")]
    Declare(DeclareArgs),
    /// List incidents, optionally filtered by status, severity or service, in the server's order
    #[command(after_help = "\
The line saying which node served the list goes to stderr, so stdout holds only the table.

Examples:
  icc incident list
  icc incident list --status triggered --severity sev1
  icc incident list --service checkout --limit 20 --local")]
    List(ListArgs),
    /// Show one incident and its timeline
    #[command(after_help = "\
Examples:
  icc incident show us-east-000042
  icc -o json incident show us-east-000042 --local")]
    Show(ShowArgs),
    /// Acknowledge an incident (status -> acknowledged)
    #[command(
        after_help = "Examples:\n  icc incident ack us-east-000042\n  icc incident ack us-east-000042 --reason \"looking into it\""
    )]
    Ack(StatusChangeArgs),
    /// Resolve an incident (status -> resolved)
    #[command(
        after_help = "Examples:\n  icc incident resolve us-east-000042 --reason \"rolled back\""
    )]
    Resolve(StatusChangeArgs),
    /// Close an incident for good (status -> closed; closed is final)
    #[command(
        after_help = "Examples:\n  icc incident close us-east-000042 --reason \"postmortem done\""
    )]
    Close(StatusChangeArgs),
    /// Change an incident's title, severity, status or commander (with a reason)
    #[command(after_help = "\
At least one of --title, --severity, --status, --commander, --role is required, and so is --reason.

Examples:
  icc incident update us-east-000042 --severity sev1 --reason \"spreading to eu\"
  icc incident update us-east-000042 --commander bob --status mitigated --reason \"handover\"")]
    Update(UpdateArgs),
    /// War room: post the current status (replaces the shown one; every post stays in the timeline)
    #[command(after_help = "\
Examples:
  icc incident status us-east-000042 \"rollback of 1234 running; next update 14:30 UTC\"
  icc incident status eu-west-000007 \"acme's EU tenant affected\" --restricted")]
    Status(super::warroom::PostStatusArgs),
    /// War room: add actions (A1, A2, ...) with an owner and due time, then mark them done,
    /// drop, reopen or reassign them
    #[command(subcommand)]
    Action(super::warroom::ActionCmd),
    /// War room: record a decision (D1, D2, ...) and why it was taken
    #[command(after_help = "\
Examples:
  icc incident decide us-east-000042 \"fail over to eu-west\" --rationale \"us-east db unrecoverable within SLA\"")]
    Decide(super::warroom::DecideArgs),
    /// Place a legal hold: the incident is kept past its retention (never purged) until released
    #[command(after_help = "\
Allowed on closed incidents too. Needs the admin role (permission incident.legal-hold): a hold is
a legal decision, so responders cannot place or lift one. Recorded in the timeline and the audit log.

Examples:
  icc incident hold eu-west-000042 --reason \"litigation hold, matter 2026-17\"")]
    Hold(HoldArgs),
    /// Release a legal hold: retention applies again (a closed incident past it is purged)
    #[command(after_help = "\
Examples:
  icc incident release eu-west-000042 --reason \"matter 2026-17 settled\"")]
    Release(HoldArgs),
}

/// Arguments of `icc incident hold` and `icc incident release`.
#[derive(Debug, Args)]
pub struct HoldArgs {
    /// Incident id, e.g. eu-west-000042
    pub id: String,
    /// The legal ground (case or matter), recorded in the timeline
    #[arg(long)]
    pub reason: String,
}

/// Arguments of `icc incident declare`.
#[derive(Debug, Args)]
pub struct DeclareArgs {
    /// What is wrong, in a few words
    #[arg(long)]
    pub title: String,
    /// sev1 (worst) .. sev4; also 1..4, any case. Without it, --impact and --exposure let
    /// the severity policy's matrix choose (the timeline names the cell)
    #[arg(long, value_parser = parse_severity, required_unless_present = "impact")]
    pub severity: Option<Severity>,
    /// Business impact, a row of the policy's matrix (default policy: outage, degraded, minor)
    #[arg(long, requires = "exposure", conflicts_with = "regions")]
    pub impact: Option<String>,
    /// Customer exposure, a column of the policy's matrix (default policy: all-customers,
    /// some-customers, internal)
    #[arg(long, requires = "impact")]
    pub exposure: Option<String>,
    /// The affected service
    #[arg(long)]
    pub service: String,
    /// Who leads the response [default: the author]
    #[arg(long)]
    pub commander: Option<String>,
    /// Idempotency key: repeating a declare with the same id creates one incident [default: a new UUID]
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
    /// Home region of the new incident (its data stays there); default: the region of the node
    /// that answers.
    #[arg(long, conflicts_with = "regions")]
    pub region: Option<String>,
    /// Declare a GLOBAL incident over these regions (comma-separated); the cluster opens one
    /// child incident in each, and `icc timeline show <global id>` merges their timelines.
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,
    /// RESTRICTED details: stored only on nodes of the home region's jurisdiction, withheld from
    /// readers elsewhere.
    #[arg(long, conflicts_with = "regions")]
    pub details: Option<String>,
    /// RESTRICTED affected customer id (repeatable, or comma-separated).
    #[arg(
        long = "customer",
        value_delimiter = ',',
        value_name = "ID",
        conflicts_with = "regions"
    )]
    pub customer_ids: Vec<String>,
}

/// Arguments of `icc incident list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only incidents with this status (triggered, acknowledged, mitigated, resolved, closed)
    #[arg(long, value_parser = parse_status)]
    pub status: Option<Status>,
    /// Only incidents with this severity (sev1..sev4 or 1..4)
    #[arg(long, value_parser = parse_severity)]
    pub severity: Option<Severity>,
    /// Only incidents of this service
    #[arg(long)]
    pub service: Option<String>,
    /// At most this many incidents [default: all]
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Which region's incidents; default: the region of the node that answers.
    #[arg(long)]
    pub region: Option<String>,
    /// Read from the answering node's state, which may lag the leader (faster, works without a quorum)
    #[arg(long)]
    pub local: bool,
}

/// Arguments of `icc incident show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// Read from the answering node's state, which may lag the leader
    #[arg(long)]
    pub local: bool,
}

/// Arguments of `icc incident ack|resolve|close`.
#[derive(Debug, Args)]
pub struct StatusChangeArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// Why, recorded in the timeline [default: the new status, e.g. "acknowledged"]
    #[arg(long)]
    pub reason: Option<String>,
}

/// Arguments of `icc incident update`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("fields").required(true).multiple(true).args(["title", "severity", "status", "commander", "roles"])))]
pub struct UpdateArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// New title
    #[arg(long)]
    pub title: Option<String>,
    /// New severity (sev1..sev4 or 1..4)
    #[arg(long, value_parser = parse_severity)]
    pub severity: Option<Severity>,
    /// New status (triggered, acknowledged, mitigated, resolved, closed)
    #[arg(long, value_parser = parse_status)]
    pub status: Option<Status>,
    /// New incident commander
    #[arg(long)]
    pub commander: Option<String>,
    /// Why the change is made, recorded in the timeline (required; for a severity change it is
    /// the reason of the reclassification)
    #[arg(long, required = true)]
    pub reason: String,
    /// Propose --severity as the automated classifier NAME instead of as a person: it is applied
    /// only while nobody has set the severity by hand, otherwise only recorded as a proposal
    #[arg(long, value_name = "NAME", requires = "severity")]
    pub classifier: Option<String>,
    /// Assign or hand over a response role, ROLE=PERSON; repeatable. Roles: communications,
    /// scribe, regional-lead/<region> (the commander has --commander)
    #[arg(long = "role", value_name = "ROLE=PERSON", value_parser = parse_role)]
    pub roles: Vec<(String, String)>,
}

fn parse_role(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((role, person)) if !role.is_empty() && !person.is_empty() => {
            Ok((role.to_owned(), person.to_owned()))
        }
        _ => Err(format!("`{s}` is not ROLE=PERSON (e.g. scribe=carol)")),
    }
}

/// `icc timeline ...`
#[derive(Debug, Subcommand)]
pub enum TimelineCmd {
    /// Add a note to an incident's timeline
    #[command(
        after_help = "Examples:\n  icc timeline add us-east-000042 --text \"rolled back deploy 1234\""
    )]
    Add(TimelineAddArgs),
    /// Show an incident's timeline
    #[command(
        after_help = "Examples:\n  icc timeline show us-east-000042\n  icc -o json timeline show us-east-000042 --local"
    )]
    Show(ShowArgs),
}

/// Arguments of `icc timeline add`.
#[derive(Debug, Args)]
pub struct TimelineAddArgs {
    /// Incident id, e.g. us-east-000042
    pub id: String,
    /// The note
    #[arg(long)]
    pub text: String,
    /// Mark the note RESTRICTED: stored only in the incident's home jurisdiction and withheld
    /// from readers elsewhere.
    #[arg(long)]
    pub restricted: bool,
    /// A status update: restarts the incident's status-update clock (the severity policy's
    /// cadence, e.g. every 30 min for SEV1); a status change counts as one too.
    #[arg(long)]
    pub status_update: bool,
}

/// Arguments of `icc watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// First log index to show; 0 means only changes from now on
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub from_index: u64,
    /// Which region's changes; default: the region of the node that answers. The stream is
    /// served by a node of that region.
    #[arg(long)]
    pub region: Option<String>,
}

/// `icc cluster ...`
#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Show every group's nodes: role, term, log positions, clock, reachability
    #[command(after_help = "\
Examples:
  icc cluster status            # the answering node asks every member
  icc cluster status --local    # only the answering node's own view")]
    Status(ClusterStatusArgs),
    /// Add a node as a non-voting learner that starts receiving the log
    #[command(
        after_help = "Examples:\n  icc cluster add-learner --node-id 4 --addr 127.0.0.1:7004"
    )]
    AddLearner(AddLearnerArgs),
    /// Replace the set of voters (add learners first)
    #[command(after_help = "Examples:\n  icc cluster change-membership --voters 1,2,3,4")]
    ChangeMembership(ChangeMembershipArgs),
    /// Ask the leader to hand leadership to another voter
    #[command(after_help = "Examples:\n  icc cluster transfer-leader --to 2")]
    TransferLeader(TransferLeaderArgs),
}

/// Arguments of `icc cluster status`.
#[derive(Debug, Args)]
pub struct ClusterStatusArgs {
    /// Only the answering node's own view (does not ask the other members)
    #[arg(long)]
    pub local: bool,
}

/// Arguments of `icc cluster add-learner`.
#[derive(Debug, Args)]
pub struct AddLearnerArgs {
    /// The new node's id
    #[arg(long, value_name = "N")]
    pub node_id: u64,
    /// The new node's gRPC address, host:port
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: String,
    /// The new node's region [default: the cluster's]
    #[arg(long)]
    pub region: Option<String>,
}

/// Arguments of `icc cluster change-membership`.
#[derive(Debug, Args)]
pub struct ChangeMembershipArgs {
    /// The complete new voter set, comma separated node ids
    #[arg(long, value_name = "IDS", value_delimiter = ',', required = true, num_args = 1..)]
    pub voters: Vec<u64>,
}

/// Arguments of `icc cluster transfer-leader`.
#[derive(Debug, Args)]
pub struct TransferLeaderArgs {
    /// The node that should lead
    #[arg(long, value_name = "N")]
    pub to: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn policy_commands_and_declare_by_matrix_parse() {
        let show = Cli::try_parse_from(["icc", "policy", "show", "--version", "2"]);
        match show.map(|c| c.command) {
            Ok(Command::Policy(PolicyCmd::Show(a))) => assert_eq!(a.version, Some(2)),
            other => panic!("{other:?}"),
        }
        let no_reason = Cli::try_parse_from(["icc", "policy", "apply", "-f", "p.yaml"]);
        assert!(no_reason.is_err(), "a reason is required");
        let check = Cli::try_parse_from(["icc", "policy", "apply", "-f", "p.yaml", "--check"]);
        assert!(check.is_ok(), "{check:?}");
        let base = [
            "icc",
            "incident",
            "declare",
            "--title",
            "t",
            "--service",
            "s",
        ];
        assert!(
            Cli::try_parse_from(base).is_err(),
            "severity or impact needed"
        );
        let by_matrix = [&base[..], &["--impact", "outage", "--exposure", "internal"]].concat();
        assert!(Cli::try_parse_from(by_matrix).is_ok());
        let half = [&base[..], &["--impact", "outage"]].concat();
        assert!(Cli::try_parse_from(half).is_err(), "impact needs exposure");
    }

    #[test]
    fn update_needs_a_field_and_a_reason() {
        let no_field = Cli::try_parse_from(["icc", "incident", "update", "x", "--reason", "r"]);
        assert!(no_field.is_err());
        let no_reason = Cli::try_parse_from(["icc", "incident", "update", "x", "--title", "t"]);
        assert!(no_reason.is_err());
        let ok = Cli::try_parse_from([
            "icc",
            "incident",
            "update",
            "x",
            "--severity",
            "SEV1",
            "--reason",
            "r",
        ]);
        assert!(ok.is_ok(), "{ok:?}");
        let roles_only = Cli::try_parse_from([
            "icc",
            "incident",
            "update",
            "x",
            "--role",
            "scribe=dave",
            "--reason",
            "r",
        ]);
        assert!(
            roles_only.is_ok(),
            "a role assignment alone is a change: {roles_only:?}"
        );
    }

    #[test]
    fn globals_and_typed_values() {
        let cli = Cli::try_parse_from([
            "icc",
            "incident",
            "declare",
            "--title",
            "t",
            "--severity",
            "2",
            "--service",
            "s",
            "-o",
            "json",
            "--timeout",
            "3s",
        ]);
        let Ok(cli) = cli else { panic!("{cli:?}") };
        assert_eq!(cli.global.output, Output::Json);
        assert_eq!(cli.global.timeout, Duration::from_secs(3));
        match cli.command {
            Command::Incident(IncidentCmd::Declare(d)) => {
                assert_eq!(d.severity, Some(Severity::Sev2))
            }
            other => panic!("{other:?}"),
        }
        assert!(
            Cli::try_parse_from([
                "icc",
                "incident",
                "declare",
                "--title",
                "t",
                "--severity",
                "sev9",
                "--service",
                "s"
            ])
            .is_err()
        );
        let cm = Cli::try_parse_from(["icc", "cluster", "change-membership", "--voters", "1,2,3"]);
        match cm.map(|c| c.command) {
            Ok(Command::Cluster(ClusterCmd::ChangeMembership(a))) => {
                assert_eq!(a.voters, vec![1, 2, 3])
            }
            other => panic!("{other:?}"),
        }
    }
}
