//! Integration tests on real `iccd` processes (started by `icc_testkit`) over real gRPC and
//! RocksDB.

mod fixtures;

mod access;
mod audit;
mod bad_input;
mod clock;
mod closed;
mod drill;
mod escalation;
mod failover;
mod global;
mod notifications;
mod policy;
mod reclassify;
mod regions;
mod replication;
mod residency;
mod retention;
mod roles;
mod security;
mod status_page;
mod war_room;
mod watch;
