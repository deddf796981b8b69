//! Authentication of every incoming RPC, before any handler runs: who is calling (node
//! certificate, client certificate, bearer token, or a caller a node forwards), which services
//! they may reach at all, and the HLC check. The caller is put in the request's extensions
//! ([`Principal`]) for authorization, and in the `icc-caller` metadata so onward hops (forward
//! to a leader, route to another region) keep acting for the original caller.

use std::sync::Arc;

use icc_proto::security::CALLER_METADATA_KEY;
use icc_proto::v1::Hlc;
use icc_proto::{
    FORWARDED_METADATA_KEY, HLC_METADATA_KEY, ORIGIN_REGION_METADATA_KEY, ROUTED_FROM_METADATA_KEY,
};
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

use super::identity::{CertKind, classify};
use crate::cluster::policy::PolicyHandle;
use crate::domain::Stamp;
use crate::domain::rbac::Principal;
use crate::raft::hlc::NodeClock;

/// Which callers a service admits before authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Clients and nodes (incident, audit, cluster, rbac services).
    Anyone,
    /// Nodes of this cluster only (Raft transport, internal policy sync).
    NodesOnly,
}

/// The interceptor in front of every service.
#[derive(Clone)]
pub struct Authenticate {
    hlc: HlcGate,
    secure: bool,
    policy: PolicyHandle,
    audience: Audience,
}

impl Authenticate {
    /// Authenticates against `policy` (token hashes) when `secure`; admits `audience`.
    pub fn new(hlc: HlcGate, secure: bool, policy: PolicyHandle, audience: Audience) -> Self {
        Self {
            hlc,
            secure,
            policy,
            audience,
        }
    }

    fn who(&self, req: &Request<()>) -> Result<Principal, Status> {
        let cert = req.peer_certs().and_then(|c| c.first().cloned());
        if let Some(der) = cert {
            return match classify(der.as_ref()) {
                Ok(CertKind::Node(id)) => Ok(Principal::Node(id)),
                Ok(CertKind::Client(name)) => Ok(Principal::User(name)),
                Err(e) => Err(Status::unauthenticated(e)),
            };
        }
        let Some(value) = req.metadata().get("authorization") else {
            return Err(Status::unauthenticated(
                "no client certificate and no bearer token: present a certificate from the cluster CA \
                 (icc --cert/--key) or a token (icc --token, created with `icc rbac token create`)",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Status::unauthenticated("authorization: must be `Bearer <token>`"))?;
        self.policy
            .identity_of_token(&token_hash(token))
            .map(Principal::User)
            .ok_or_else(|| Status::unauthenticated("authorization: unknown or revoked token"))
    }
}

/// The stored form of a token: hex SHA-256. Tokens are 256-bit random values, so a plain hash
/// (no salt, no stretching) does not make them guessable.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if !self.secure {
            let caller = req
                .metadata()
                .get(CALLER_METADATA_KEY)
                .and_then(|v| v.to_str().ok())
                .map_or(Principal::Unchecked, Principal::from_name);
            req.extensions_mut().insert(caller);
            return self.hlc.call(req);
        }
        let principal = self.who(&req)?;
        if self.audience == Audience::NodesOnly && !matches!(principal, Principal::Node(_)) {
            return Err(Status::permission_denied(format!(
                "node-internal service: only nodes of this cluster (node certificates from the cluster CA) \
                 may call it; {} is not a node",
                principal.name()
            )));
        }
        let asserted = req
            .metadata()
            .get(CALLER_METADATA_KEY)
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| Status::invalid_argument("icc-caller: must be ASCII"))
            })
            .transpose()?;
        let from_node = matches!(principal, Principal::Node(_));
        let effective = match (&principal, asserted) {
            (Principal::Node(_), Some(a)) => Principal::from_name(&a),
            (Principal::Node(_), None) => principal,
            (_, Some(_)) => {
                return Err(Status::permission_denied(format!(
                    "icc-caller: only cluster nodes may act for another caller; {} is not a node",
                    principal.name()
                )));
            }
            (_, None) => principal,
        };
        let md = req.metadata_mut();
        if !from_node {
            // Hop marks steer residency and routing; only nodes may set them.
            md.remove(FORWARDED_METADATA_KEY);
            md.remove(ROUTED_FROM_METADATA_KEY);
            md.remove(ORIGIN_REGION_METADATA_KEY);
        }
        if let Ok(v) = MetadataValue::try_from(effective.name()) {
            md.insert(CALLER_METADATA_KEY, v);
        }
        req.extensions_mut().insert(effective);
        self.hlc.call(req)
    }
}

/// Server-side gate on every incoming RPC: observes the sender's HLC and refuses a sender whose
/// clock is too far ahead (the refusal is counted and logged by the clock).
#[derive(Clone)]
pub(crate) struct HlcGate(pub Arc<NodeClock>);

impl Interceptor for HlcGate {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(value) = req.metadata().get(HLC_METADATA_KEY) else {
            return Ok(req);
        };
        let text = value
            .to_str()
            .map_err(|_| Status::invalid_argument("icc-hlc: must be ASCII"))?;
        let hlc = Hlc::from_header(text).ok_or_else(|| {
            Status::invalid_argument("icc-hlc: must be <wall_ns>.<logical>.<node_id>")
        })?;
        let stamp = Stamp {
            wall_ns: hlc.wall_ns,
            logical: hlc.logical,
            node_id: hlc.node_id,
        };
        self.0
            .observe(stamp)
            .map_err(|e| Status::failed_precondition(e.to_string()))?;
        Ok(req)
    }
}
