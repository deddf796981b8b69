//! `icc_client`: a typed client for an icc incident command cluster, and the failover drill
//! workflow ([`drill`]) that both `icc drill failover` and iccd's drill scheduler run.
//!
//! A [`Client`] talks to any node of a cluster given a list of `host:port` endpoints. Every call
//! goes through one retry loop: on a failure that says nothing about the request itself (node
//! down, leader changing, overloaded) it moves to the next endpoint, or to the leader a node
//! named in `icc-leader-addr`, backs off and tries again until the call's overall deadline.
//! Mutating calls carry one request id across all their retries, so the server applies them
//! once. The client also carries the greatest hybrid logical clock it has seen (`icc-hlc`) on
//! every request, so a node serving its next request orders it after everything it observed.
//!
//! ```no_run
//! # async fn demo() -> Result<(), icc_client::ClientError> {
//! use icc_client::{Client, ClientConfig, v1};
//! let client = Client::new(ClientConfig::new(["127.0.0.1:7001", "127.0.0.1:7002"]))?;
//! let resp = client
//!     .declare(
//!         v1::DeclareIncidentRequest {
//!             title: "checkout 500s".into(),
//!             severity: v1::Severity::Sev2.into(),
//!             service: "checkout".into(),
//!             ..Default::default()
//!         },
//!         None,
//!     )
//!     .await?;
//! println!("{}", resp.incident.map(|i| i.id).unwrap_or_default());
//! # Ok(())
//! # }
//! ```
//!
//! Must never: parse command lines, print, read the CLI's config file or make certificates (that is
//! `icc-cli`), measure load (`icc-bench`), or pull in anything a server would not want to link:
//! `iccd` depends on this crate.

mod client;
mod config;
pub mod drill;
mod error;
mod hlc;
mod policy;
mod rbac;
mod retry;
mod watch;

pub use client::Client;
pub use config::{
    BearerToken, ClientConfig, ClientTls, DEFAULT_ENDPOINTS, display_endpoint, normalize_endpoint,
};
pub use error::{ClientError, EndpointFailure, code_words};
pub use hlc::{HlcTracker, cmp_hlc};
pub use retry::{Backoff, Verdict, classify, is_transport_error};

/// The protocol types (`icc.v1`), re-exported so callers need not depend on `icc-proto`.
pub use icc_proto::v1;
