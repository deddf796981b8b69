//! Failover drills: the node's side of `icc drill failover` and `icc drill report`.
//!
//! The CLI runs a drill (workload, fault, measurements); the nodes do the two things it cannot
//! do from outside: crash on request (`Crash`, only when the cluster file sets
//! `[drills] allow_kill = true`, so a production cluster opts in) and keep the record of every
//! drill in the global group (`Record`, a security command there: replicated, once per request
//! id, in the audit chain; `List` reads them back). Storage, in the global group's `sm` range:
//!
//! | key (after the group prefix) | value |
//! |---|---|
//! | `drill/<HLC wall ns u64 BE><drill id>` | JSON [`DrillRecord`], in the order they were recorded |

use std::io;
use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::drill_service_client::DrillServiceClient;
use icc_proto::v1::drill_service_server::DrillService;
use rocksdb::DB;
use serde::{Deserialize, Serialize};
use tonic::{Request, Response, Status};

use crate::config::GLOBAL_GROUP;
use crate::domain::{Command, Stamp};
use crate::raft::codec::encode;
use crate::raft::db::decode_prefix;
use crate::raft::keys::GroupKeys;
use crate::raft::pending::PendingWrites;
use crate::security::identity::Principal;
use crate::security::model::{Permission, SecurityOp};
use crate::security::rbac_service::{commit_global, via_global_voter};
use crate::services::{Hops, NodeCtx, status};

/// One finished drill as the global group keeps it (the wire `Drill`, with `who` and `at` set by
/// the cluster rather than the client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillRecord {
    /// Chosen by the CLI (a UUID).
    pub id: String,
    /// The authenticated identity that recorded it.
    pub who: String,
    /// When the global group committed the record.
    pub at: Stamp,
    /// The region whose leader was taken away.
    pub region: String,
    /// `kill` or `transfer`.
    pub mode: String,
    /// Leader before the fault.
    pub old_leader: u64,
    /// Leader after it.
    pub new_leader: u64,
    /// Terms before and after.
    pub old_term: u64,
    /// Term after the fault.
    pub new_term: u64,
    /// Fault to a new leader known, microseconds (0: not seen).
    pub leader_us: u64,
    /// Fault to the first acknowledged write after it, microseconds (0: none).
    pub first_write_us: u64,
    /// Writes acknowledged before the fault.
    pub writes_before: u64,
    /// Writes acknowledged after it.
    pub writes_after: u64,
    /// Acknowledged writes missing afterwards.
    pub lost: u64,
    /// The verdict.
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub reason: String,
    /// The drill's own incident.
    pub incident_id: String,
    /// The `[[drills.schedule]]` entry that ran it (empty: run by hand).
    #[serde(default)]
    pub schedule: String,
    /// Its slot key ([`crate::drill_schedule::slot_key`]; empty: run by hand).
    #[serde(default)]
    pub slot: String,
}

impl DrillRecord {
    /// Field checks before proposing; "<field>: <rule>".
    pub fn check(&self) -> Result<(), String> {
        if self.id.is_empty() || self.id.len() > 64 || !self.id.bytes().all(is_id_byte) {
            return Err("drill.id: 1-64 characters of a-z A-Z 0-9 - _".into());
        }
        if self.region.trim().is_empty() {
            return Err("drill.region: required".into());
        }
        if !["kill", "transfer"].contains(&self.mode.as_str()) {
            return Err(format!(
                "drill.mode: {:?} must be kill or transfer",
                self.mode
            ));
        }
        if self.reason.len() > 1024 {
            return Err("drill.reason: at most 1024 bytes".into());
        }
        Ok(())
    }

    fn from_pb(d: pb::Drill, who: String) -> Self {
        Self {
            id: d.id,
            who,
            at: Stamp::default(),
            region: d.region,
            mode: d.mode,
            old_leader: d.old_leader,
            new_leader: d.new_leader,
            old_term: d.old_term,
            new_term: d.new_term,
            leader_us: d.leader_us,
            first_write_us: d.first_write_us,
            writes_before: d.writes_before,
            writes_after: d.writes_after,
            lost: d.lost,
            passed: d.passed,
            reason: d.reason,
            incident_id: d.incident_id,
            schedule: d.schedule,
            slot: d.slot,
        }
    }

    fn to_pb(&self) -> pb::Drill {
        pb::Drill {
            id: self.id.clone(),
            who: self.who.clone(),
            at: Some(pb::Hlc {
                wall_ns: self.at.wall_ns,
                logical: self.at.logical,
                node_id: self.at.node_id,
            }),
            region: self.region.clone(),
            mode: self.mode.clone(),
            old_leader: self.old_leader,
            new_leader: self.new_leader,
            old_term: self.old_term,
            new_term: self.new_term,
            leader_us: self.leader_us,
            first_write_us: self.first_write_us,
            writes_before: self.writes_before,
            writes_after: self.writes_after,
            lost: self.lost,
            passed: self.passed,
            reason: self.reason.clone(),
            incident_id: self.incident_id.clone(),
            schedule: self.schedule.clone(),
            slot: self.slot.clone(),
            completed: true,
        }
    }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn record_key(keys: &GroupKeys, at: Stamp, id: &str) -> Vec<u8> {
    let mut k = keys.key(b"drill/");
    k.extend_from_slice(&at.wall_ns.to_be_bytes());
    k.extend_from_slice(id.as_bytes());
    k
}

/// Apply of `SecurityOp::RecordDrill`: stores the record stamped with the command's HLC and
/// the identity that asked (the request id makes a retry a no-op before this runs).
pub fn apply(
    pending: &mut PendingWrites<'_>,
    keys: &GroupKeys,
    cmd: &Command,
    record: &DrillRecord,
    by: &str,
) -> io::Result<()> {
    let stored = DrillRecord {
        who: by.to_owned(),
        at: cmd.stamp,
        ..record.clone()
    };
    pending.put(record_key(keys, cmd.stamp, &record.id), encode(&stored)?);
    Ok(())
}

/// Every recorded drill, oldest first.
pub fn list(db: &DB, keys: &GroupKeys) -> io::Result<Vec<DrillRecord>> {
    decode_prefix(db, &keys.key(b"drill/"))
}

/// tonic implementation of `icc.v1.DrillService`.
pub struct DrillApi {
    ctx: Arc<NodeCtx>,
}

impl DrillApi {
    /// The service over the node's context.
    pub fn new(ctx: Arc<NodeCtx>) -> Self {
        Self { ctx }
    }

    fn allow<T>(
        &self,
        req: &Request<T>,
        perm: Permission,
        scope: &str,
    ) -> Result<Principal, Status> {
        crate::security::policy::caller_allowed(&self.ctx.policy, req, perm, scope)
    }
}

#[tonic::async_trait]
impl DrillService for DrillApi {
    async fn crash(
        &self,
        req: Request<pb::CrashRequest>,
    ) -> Result<Response<pb::CrashResponse>, Status> {
        let who = self.allow(&req, Permission::ClusterAdmin, &self.ctx.region)?;
        let msg = req.into_inner();
        if msg.node_id != self.ctx.id {
            return Err(Status::failed_precondition(format!(
                "node_id: this is node {}, not node {}",
                self.ctx.id, msg.node_id
            )));
        }
        if !self.ctx.topology.drills.allow_kill {
            return Err(Status::failed_precondition(
                "drills.allow_kill: false in the cluster file; set `[drills] allow_kill = true` \
                 (and run the nodes under a supervisor that restarts them) to allow --kill drills",
            ));
        }
        tracing::warn!(
            by = %who.name(),
            reason = %msg.reason,
            "drill: crashing on request, without a graceful shutdown"
        );
        // Answer first, then exit: no leadership transfer, no flush, no Raft shutdown, like a
        // kill -9 (the OS keeps what RocksDB already wrote; nothing else is saved).
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::process::exit(137);
        });
        Ok(self.ctx.reply(pb::CrashResponse {
            node_id: self.ctx.id,
        }))
    }

    async fn record(
        &self,
        req: Request<pb::RecordDrillRequest>,
    ) -> Result<Response<pb::RecordDrillResponse>, Status> {
        let who = self.allow(&req, Permission::ClusterAdmin, GLOBAL_GROUP)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let drill = msg
            .drill
            .clone()
            .ok_or_else(|| Status::invalid_argument("drill: required"))?;
        let mut record = DrillRecord::from_pb(drill, who.name());
        match who {
            // Only a node's scheduler runs scheduled slots; its record says so.
            Principal::Node(id) if !record.slot.is_empty() => {
                record.who = format!("scheduler (node {id})");
            }
            // `--insecure-plaintext`: nobody is authenticated, so the slot is taken as given
            // (dropping it would leave the slot's claim looking unfinished forever).
            Principal::Unchecked if !record.slot.is_empty() => {
                record.who = "scheduler (unauthenticated)".to_owned();
            }
            _ => {
                record.schedule.clear();
                record.slot.clear();
            }
        }
        let request_id = format!("drill/{}", record.id);
        let op = SecurityOp::RecordDrill {
            record: record.clone(),
            by: record.who.clone(),
        };
        let done = commit_global(&self.ctx, hops, msg, &request_id, op, |ch, r| async move {
            DrillServiceClient::new(ch).record(r).await
        })
        .await?;
        if let Err(forwarded) = done {
            return Ok(self.ctx.reply(forwarded));
        }
        let global = self
            .ctx
            .groups
            .get(GLOBAL_GROUP)
            .ok_or_else(|| Status::internal("committed without the global group"))?;
        let stored = global
            .state
            .drills()
            .map_err(status::storage)?
            .into_iter()
            .find(|d| d.id == record.id)
            .ok_or_else(|| Status::internal("the recorded drill is not stored"))?;
        Ok(self.ctx.reply(pb::RecordDrillResponse {
            drill: Some(stored.to_pb()),
        }))
    }

    async fn list(
        &self,
        req: Request<pb::ListDrillsRequest>,
    ) -> Result<Response<pb::ListDrillsResponse>, Status> {
        self.allow(&req, Permission::ClusterRead, &self.ctx.region)?;
        let hops = Hops::of(&req);
        let msg = req.into_inner();
        let Some(global) = self.ctx.groups.get(GLOBAL_GROUP) else {
            let got = via_global_voter(&self.ctx, &hops, msg, |ch, r| async move {
                DrillServiceClient::new(ch).list(r).await
            })
            .await?;
            return Ok(self.ctx.reply(got));
        };
        let records = global.state.drills().map_err(status::storage)?;
        let claims = global.state.drill_claims().map_err(status::storage)?;
        let drills = records
            .iter()
            .map(DrillRecord::to_pb)
            .chain(crate::drill_schedule::unfinished(&claims, &records))
            .filter(|d| msg.region.is_empty() || d.region == msg.region)
            .collect();
        Ok(self.ctx.reply(pb::ListDrillsResponse { drills }))
    }
}
