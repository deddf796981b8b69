//! Requests and reads the cluster tests share (the processes themselves are `icc_testkit`'s).

use std::time::Duration;

use icc_client::Client;
use icc_proto::v1::{Consistency, DeclareIncidentRequest, Severity};
use icc_testkit::Cluster;

/// A declare request with a unique title.
pub fn declare(title: &str) -> DeclareIncidentRequest {
    DeclareIncidentRequest {
        request_id: String::new(),
        title: title.to_owned(),
        severity: Severity::Sev2 as i32,
        service: "checkout".into(),
        commander: String::new(),
        author: "test".into(),
        region: String::new(),
        parent_id: String::new(),
        details: String::new(),
        customer_ids: Vec::new(),
        ..Default::default()
    }
}

/// Declares a SEV1 (the severity with SLA clocks in the tests' policies) and returns it.
pub async fn declare_sev1(client: &icc_client::Client, title: &str) -> icc_proto::v1::Incident {
    let mut req = declare(title);
    req.severity = Severity::Sev1 as i32;
    client
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident")
}

/// Every incident id a node holds, read locally from that node.
pub async fn ids_on(cluster: &Cluster, id: u64) -> Option<Vec<String>> {
    let req = icc_proto::v1::ListIncidentsRequest {
        consistency: Consistency::Local as i32,
        page_size: 1000,
        ..Default::default()
    };
    let c = Client::new(
        cluster
            .client_config([cluster.addr(id)])
            .with_deadline(Duration::from_secs(2)),
    )
    .ok()?;
    let r = c.list_all_incidents(req, None).await.ok()?;
    Some(r.incidents.into_iter().map(|i| i.id).collect())
}
