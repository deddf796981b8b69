//! Transport security and authentication only: who is calling, never what they may do (that is
//! `crate::api::guard`'s, over `crate::cluster::policy`).
//!
//! - `tls`: the node's certificate material, server and peer TLS configurations (mutual TLS
//!   with the cluster CA), or the loudly named plaintext mode.
//! - `identity`: who a verified certificate names, and whether it is a node or a client.
//! - `authn`: the interceptor in front of every service (certificate, bearer token, or a caller
//!   asserted by a node on a forwarded request; node-only services) and the HLC gate.
//!
//! Must never store or log a token, nor trust `icc-caller` or hop marks from anything but a
//! node certificate.

pub(crate) mod authn;
pub(crate) mod identity;
pub mod tls;
