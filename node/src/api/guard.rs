//! Authorization in front of every service: each wrapper checks the one permission an RPC
//! needs, on the region (or `global`) it touches, before the real handler runs; handlers never
//! check. A new RPC added to a service fails to compile here until it says which permission it
//! needs. (Node-internal services are also limited to node certificates by
//! `crate::security::authn`; their wrapper says so again.)

use std::sync::Arc;

use icc_proto::v1 as pb;
use icc_proto::v1::audit_service_server::AuditService;
use icc_proto::v1::cluster_service_server::ClusterService;
use icc_proto::v1::drill_service_server::DrillService;
use icc_proto::v1::incident_service_server::IncidentService;
use icc_proto::v1::policy_service_server::PolicyService;
use icc_proto::v1::policy_sync_service_server::PolicySyncService;
use icc_proto::v1::rbac_service_server::RbacService;
use tonic::{Request, Response, Status};

use crate::cluster::{NodeCtx, group_of_incident};
use crate::domain::GLOBAL_GROUP;
use crate::domain::rbac::{Permission, Principal};

/// A service `S` behind permission checks.
pub(crate) struct Guarded<S> {
    inner: S,
    ctx: Arc<NodeCtx>,
}

impl<S> Guarded<S> {
    /// Wraps `inner`; decisions use the node's copy of the policy state (`ctx.policy`) and the
    /// node's region for requests that name none.
    pub(crate) fn new(inner: S, ctx: Arc<NodeCtx>) -> Self {
        Self { inner, ctx }
    }

    /// Allows only nodes of this cluster (or everyone on a plaintext node).
    fn nodes_only<T>(&self, req: &Request<T>) -> Result<(), Status> {
        match req.extensions().get::<Principal>() {
            Some(Principal::Node(_) | Principal::Unchecked) => Ok(()),
            _ => Err(Status::permission_denied(
                "permission denied: node-internal service",
            )),
        }
    }

    /// Allows any authenticated caller (the handler answers for the caller alone).
    fn authenticated<T>(&self, req: &Request<T>) -> Result<(), Status> {
        req.extensions()
            .get::<Principal>()
            .map(|_| ())
            .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
    }

    /// Allows the request's caller `perm` on `scope` ("" means this node's region).
    fn allow<T>(&self, req: &Request<T>, perm: Permission, scope: &str) -> Result<(), Status> {
        let who = req
            .extensions()
            .get::<Principal>()
            .ok_or_else(|| Status::unauthenticated("no authenticated caller"))?;
        let scope = if scope.is_empty() {
            self.ctx.region.as_str()
        } else {
            scope
        };
        let decision = self.ctx.policy.get().check(who, perm, scope);
        if let Err(denied) = &decision {
            tracing::info!(caller = %who.name(), %perm, %scope, "denied: {}", denied.message());
        }
        decision
    }
}

/// The permission an update needs: severity, commander or closing is command; the rest write.
fn update_permission(m: &pb::UpdateIncidentRequest) -> Permission {
    let closes = m.status == Some(pb::Status::Closed as i32);
    if m.severity.is_some() || m.commander.is_some() || closes {
        Permission::IncidentCommand
    } else {
        Permission::IncidentWrite
    }
}

type Resp<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl<S: IncidentService> IncidentService for Guarded<S> {
    async fn declare_incident(
        &self,
        req: Request<pb::DeclareIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let region = req.get_ref().region.clone();
        self.allow(&req, Permission::IncidentWrite, &region)?;
        self.inner.declare_incident(req).await
    }

    async fn get_incident(
        &self,
        req: Request<pb::GetIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let group = group_of_incident(&req.get_ref().id).to_owned();
        self.allow(&req, Permission::IncidentRead, &group)?;
        self.inner.get_incident(req).await
    }

    async fn list_incidents(
        &self,
        req: Request<pb::ListIncidentsRequest>,
    ) -> Resp<pb::ListIncidentsResponse> {
        let region = req.get_ref().region.clone();
        self.allow(&req, Permission::IncidentRead, &region)?;
        self.inner.list_incidents(req).await
    }

    async fn update_incident(
        &self,
        req: Request<pb::UpdateIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let group = group_of_incident(&req.get_ref().id).to_owned();
        self.allow(&req, update_permission(req.get_ref()), &group)?;
        self.inner.update_incident(req).await
    }

    async fn append_timeline(
        &self,
        req: Request<pb::AppendTimelineRequest>,
    ) -> Resp<pb::AppendTimelineResponse> {
        let group = group_of_incident(&req.get_ref().id).to_owned();
        self.allow(&req, Permission::IncidentWrite, &group)?;
        self.inner.append_timeline(req).await
    }

    async fn get_timeline(
        &self,
        req: Request<pb::GetTimelineRequest>,
    ) -> Resp<pb::GetTimelineResponse> {
        let group = group_of_incident(&req.get_ref().id).to_owned();
        self.allow(&req, Permission::IncidentRead, &group)?;
        self.inner.get_timeline(req).await
    }

    async fn declare_global_incident(
        &self,
        req: Request<pb::DeclareGlobalIncidentRequest>,
    ) -> Resp<pb::IncidentResponse> {
        self.allow(&req, Permission::GlobalDeclare, GLOBAL_GROUP)?;
        self.inner.declare_global_incident(req).await
    }

    async fn change_war_room(
        &self,
        req: Request<pb::WarRoomRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let group = group_of_incident(&req.get_ref().id).to_owned();
        self.allow(&req, Permission::IncidentWrite, &group)?;
        self.inner.change_war_room(req).await
    }

    async fn set_legal_hold(
        &self,
        req: Request<pb::SetLegalHoldRequest>,
    ) -> Resp<pb::IncidentResponse> {
        let group = group_of_incident(&req.get_ref().id).to_owned();
        self.allow(&req, Permission::LegalHold, &group)?;
        self.inner.set_legal_hold(req).await
    }

    type WatchIncidentsStream = S::WatchIncidentsStream;

    async fn watch_incidents(
        &self,
        req: Request<pb::WatchIncidentsRequest>,
    ) -> Resp<Self::WatchIncidentsStream> {
        let region = req.get_ref().region.clone();
        self.allow(&req, Permission::IncidentRead, &region)?;
        self.inner.watch_incidents(req).await
    }
}

#[tonic::async_trait]
impl<S: AuditService> AuditService for Guarded<S> {
    type ExportAuditStream = S::ExportAuditStream;

    async fn export_audit(
        &self,
        req: Request<pb::ExportAuditRequest>,
    ) -> Resp<Self::ExportAuditStream> {
        let group = req.get_ref().group.clone();
        self.allow(&req, Permission::AuditRead, &group)?;
        self.inner.export_audit(req).await
    }

    async fn verify_audit(
        &self,
        req: Request<pb::VerifyAuditRequest>,
    ) -> Resp<pb::VerifyAuditResponse> {
        let group = req.get_ref().group.clone();
        self.allow(&req, Permission::AuditRead, &group)?;
        self.inner.verify_audit(req).await
    }

    type ExportAccessStream = S::ExportAccessStream;

    async fn export_access(
        &self,
        req: Request<pb::ExportAccessRequest>,
    ) -> Resp<Self::ExportAccessStream> {
        self.allow(&req, Permission::AuditRead, "")?;
        self.inner.export_access(req).await
    }

    async fn verify_access(
        &self,
        req: Request<pb::VerifyAccessRequest>,
    ) -> Resp<pb::VerifyAuditResponse> {
        self.allow(&req, Permission::AuditRead, "")?;
        self.inner.verify_access(req).await
    }
}

#[tonic::async_trait]
impl<S: ClusterService> ClusterService for Guarded<S> {
    async fn status(&self, req: Request<pb::StatusRequest>) -> Resp<pb::StatusResponse> {
        self.allow(&req, Permission::ClusterRead, "")?;
        self.inner.status(req).await
    }

    async fn add_learner(
        &self,
        req: Request<pb::AddLearnerRequest>,
    ) -> Resp<pb::MembershipResponse> {
        self.allow(&req, Permission::ClusterAdmin, "")?;
        self.inner.add_learner(req).await
    }

    async fn change_membership(
        &self,
        req: Request<pb::ChangeMembershipRequest>,
    ) -> Resp<pb::MembershipResponse> {
        self.allow(&req, Permission::ClusterAdmin, "")?;
        self.inner.change_membership(req).await
    }

    async fn transfer_leader(
        &self,
        req: Request<pb::TransferLeaderRequest>,
    ) -> Resp<pb::MembershipResponse> {
        self.allow(&req, Permission::ClusterAdmin, "")?;
        self.inner.transfer_leader(req).await
    }
}

#[tonic::async_trait]
impl<S: RbacService> RbacService for Guarded<S> {
    async fn bind(&self, req: Request<pb::BindRequest>) -> Resp<pb::RbacChangeResponse> {
        self.allow(&req, Permission::RbacAdmin, GLOBAL_GROUP)?;
        self.inner.bind(req).await
    }

    async fn unbind(&self, req: Request<pb::UnbindRequest>) -> Resp<pb::RbacChangeResponse> {
        self.allow(&req, Permission::RbacAdmin, GLOBAL_GROUP)?;
        self.inner.unbind(req).await
    }

    async fn list_bindings(
        &self,
        req: Request<pb::ListBindingsRequest>,
    ) -> Resp<pb::ListBindingsResponse> {
        self.allow(&req, Permission::RbacAdmin, GLOBAL_GROUP)?;
        self.inner.list_bindings(req).await
    }

    async fn create_token(
        &self,
        req: Request<pb::CreateTokenRequest>,
    ) -> Resp<pb::CreateTokenResponse> {
        self.allow(&req, Permission::RbacAdmin, GLOBAL_GROUP)?;
        self.inner.create_token(req).await
    }

    async fn revoke_token(
        &self,
        req: Request<pb::RevokeTokenRequest>,
    ) -> Resp<pb::RbacChangeResponse> {
        self.allow(&req, Permission::RbacAdmin, GLOBAL_GROUP)?;
        self.inner.revoke_token(req).await
    }

    async fn list_tokens(
        &self,
        req: Request<pb::ListTokensRequest>,
    ) -> Resp<pb::ListTokensResponse> {
        self.allow(&req, Permission::RbacAdmin, GLOBAL_GROUP)?;
        self.inner.list_tokens(req).await
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Resp<pb::WhoAmIResponse> {
        self.authenticated(&req)?;
        self.inner.who_am_i(req).await
    }
}

#[tonic::async_trait]
impl<S: PolicyService> PolicyService for Guarded<S> {
    async fn get(
        &self,
        req: Request<pb::GetSeverityPolicyRequest>,
    ) -> Resp<pb::SeverityPolicyVersion> {
        self.allow(&req, Permission::ClusterRead, "")?;
        self.inner.get(req).await
    }

    async fn apply(
        &self,
        req: Request<pb::ApplySeverityPolicyRequest>,
    ) -> Resp<pb::SeverityPolicyVersion> {
        self.allow(&req, Permission::PolicyApply, GLOBAL_GROUP)?;
        self.inner.apply(req).await
    }

    async fn history(
        &self,
        req: Request<pb::SeverityPolicyHistoryRequest>,
    ) -> Resp<pb::SeverityPolicyHistoryResponse> {
        self.allow(&req, Permission::ClusterRead, "")?;
        self.inner.history(req).await
    }
}

#[tonic::async_trait]
impl<S: DrillService> DrillService for Guarded<S> {
    async fn crash(&self, req: Request<pb::CrashRequest>) -> Resp<pb::CrashResponse> {
        self.allow(&req, Permission::ClusterAdmin, "")?;
        self.inner.crash(req).await
    }

    async fn record(&self, req: Request<pb::RecordDrillRequest>) -> Resp<pb::RecordDrillResponse> {
        self.allow(&req, Permission::ClusterAdmin, GLOBAL_GROUP)?;
        self.inner.record(req).await
    }

    async fn list(&self, req: Request<pb::ListDrillsRequest>) -> Resp<pb::ListDrillsResponse> {
        self.allow(&req, Permission::ClusterRead, "")?;
        self.inner.list(req).await
    }
}

#[tonic::async_trait]
impl<S: PolicySyncService> PolicySyncService for Guarded<S> {
    async fn get_policy(&self, req: Request<pb::GetPolicyRequest>) -> Resp<pb::PolicySnapshot> {
        self.nodes_only(&req)?;
        self.inner.get_policy(req).await
    }
}
