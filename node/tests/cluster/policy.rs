//! The severity policy on real processes: a bad document is refused with each error's line and
//! rule, a good one becomes version 1 in the global group, reaches a node that does not host
//! that group, and the declares it proposes from then on carry the new targets.

use icc_client::ClientError;
use icc_proto::v1::{AppendTimelineRequest, Consistency, EventKind, Severity};
use icc_testkit::{Cluster, Options, wait_for};
use tonic::Code;

use crate::fixtures::{declare, declare_sev1};

const TEMPLATE: &str = include_str!("../../../deploy/local/policy.yaml");

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the document"))
        + 1
}

fn rejection(r: Result<impl std::fmt::Debug, ClientError>) -> (Code, String) {
    match r {
        Err(ClientError::Rejected { code, message }) => (code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_policy_names_lines_and_a_good_one_reaches_every_node_and_later_declares() {
    let cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader_of("global").await.expect("a leader");
    let admin = cluster.client();

    // Several errors at once: an unknown severity in the matrix, a zero and a negative timeout,
    // and a missing level.
    let sev4 = TEMPLATE.find("  sev4:").expect("sev4 level");
    let matrix = TEMPLATE.find("\n# impact -> exposure").expect("matrix");
    let bad = format!("{}{}", &TEMPLATE[..sev4], &TEMPLATE[matrix + 1..])
        .replacen("internal: sev3", "internal: sev7", 1)
        .replacen("acknowledge: 5m", "acknowledge: 0s", 1)
        .replacen("after: 15m", "after: -15m", 1);
    let (code, message) = rejection(admin.policy_apply(&bad, "broken on purpose").await);
    assert_eq!(code, Code::InvalidArgument, "{message}");
    for expected in [
        format!(
            "policy.yaml line {}: levels.sev1.acknowledge: must be a positive duration (zero or negative given)",
            line_of(&bad, "acknowledge: 0s")
        ),
        format!(
            "policy.yaml line {}: levels: missing level sev4 (every one of sev1..sev4 is required)",
            line_of(&bad, "levels:")
        ),
        format!(
            "policy.yaml line {}: matrix.outage.internal: unknown severity \"sev7\"; one of sev1, sev2, sev3, sev4",
            line_of(&bad, "internal: sev7")
        ),
        format!(
            "policy.yaml line {}: escalation.tiers[1].after: must be a positive duration (zero or negative given)",
            line_of(&bad, "after: -15m")
        ),
    ] {
        assert!(
            message.lines().any(|l| l == expected),
            "missing {expected:?} in:\n{message}"
        );
    }

    // Only admins and global commanders apply policies; a reason is required.
    let (code, message) = rejection(
        cluster
            .client_as("bob")
            .policy_apply(TEMPLATE, "not mine to change")
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "{message}");
    let (code, message) = rejection(admin.policy_apply(TEMPLATE, "  ").await);
    assert_eq!(code, Code::InvalidArgument, "{message}");
    assert!(message.starts_with("reason: required"), "{message}");

    // Nothing was stored: still version 0.
    assert_eq!(admin.policy_get(None).await.expect("get").version, 0);

    // Applied through a node outside the global group (it passes the request to a global
    // voter), which learns version 1 through the policy sync like every other node.
    let far = *cluster
        .nodes
        .iter()
        .find(|n| !n.global)
        .map(|n| &n.id)
        .expect("a node outside the global group");
    let node3 = cluster.client_of(far);
    let good = TEMPLATE.replacen("acknowledge: 5m", "acknowledge: 7m", 1);
    let applied = node3
        .policy_apply(&good, "SEV1 acknowledge target to 7m after review")
        .await
        .expect("apply");
    assert_eq!((applied.version, applied.author.as_str()), (1, "admin"));
    wait_for("the new policy version on a non-voter", || async {
        let v = node3.policy_get(None).await.ok()?;
        (v.version == 1).then_some(())
    })
    .await
    .expect("waited");
    assert_eq!(node3.policy_get(Some(1)).await.expect("v1").yaml, good);

    // A declare proposed there uses the new targets.
    let mut req = declare("after the policy change");
    req.severity = Severity::Sev1 as i32;
    let inc = node3
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident");
    let created = inc.created_at.expect("created").wall_ns;
    let sla = inc.sla.expect("deadlines");
    assert_eq!(sla.acknowledge_by_ns - created, 7 * 60 * 1_000_000_000);
    assert_eq!(sla.mitigate_by_ns - created, 3_600 * 1_000_000_000);
    assert_eq!(inc.policy_version, 1);

    // The matrix proposes a severity when none is given, and the timeline names the cell.
    let mut req = declare("classified by the matrix");
    req.severity = 0;
    req.impact = "degraded".into();
    req.exposure = "all-customers".into();
    let inc = node3
        .declare(req, None)
        .await
        .expect("declare")
        .incident
        .expect("incident");
    assert_eq!(inc.severity, Severity::Sev2 as i32);
    let timeline = node3
        .get_timeline(&inc.id, Consistency::Linearizable)
        .await
        .expect("timeline");
    let first = &timeline.events[0].text;
    assert!(
        first.ends_with("(severity from policy v1 matrix: degraded x all-customers)"),
        "{first}"
    );
    let mut req = declare("unknown cell");
    req.severity = 0;
    req.impact = "meteor".into();
    req.exposure = "all-customers".into();
    let (code, message) = rejection(node3.declare(req, None).await);
    assert_eq!(code, Code::InvalidArgument, "{message}");
    assert!(message.starts_with("impact: no cell for"), "{message}");

    // The apply is in the global group's audit chain, by its author.
    let audit = admin.export_audit("global", 1).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "policy apply" && e.actor == "admin"),
        "{audit:?}"
    );

    // History: version 0 (built in) and 1, with author and reason.
    let history = node3.policy_history().await.expect("history").versions;
    let listed: Vec<(u64, &str, &str)> = history
        .iter()
        .map(|v| (v.version, v.author.as_str(), v.reason.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                0,
                "cluster file",
                "built-in default (with the cluster file's [[sla]] targets)"
            ),
            (1, "admin", "SEV1 acknowledge target to 7m after review"),
        ]
    );
}

/// A cluster with an internal channel nobody listens on (its notifications stay pending, which
/// is enough to see what was enqueued), once the global group has a leader.
async fn with_dead_channel() -> Cluster {
    let cluster = Cluster::start(Options {
        extra_config:
            "[[channel]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\nformat = \"json\"\n"
                .into(),
        ..Options::default()
    })
    .expect("cluster starts");
    cluster.leader_of("global").await.expect("a leader");
    cluster
}

/// Applies `yaml` as version 1 and waits until every node of us-east uses it (whichever node
/// proposes a declare copies its targets).
async fn apply_everywhere(cluster: &Cluster, yaml: &str, reason: &str) {
    let applied = cluster
        .client()
        .policy_apply(yaml, reason)
        .await
        .expect("apply");
    assert_eq!(applied.version, 1);
    for id in cluster.region_ids("us-east") {
        let node = cluster.client_of(id);
        wait_for("the test policy on every node", || async {
            (node.policy_get(None).await.ok()?.version == 1).then_some(())
        })
        .await
        .expect("waited");
    }
}

/// The texts of an incident's clock-breach events, in order.
async fn breaches(client: &icc_client::Client, id: &str) -> Option<Vec<String>> {
    let t = client
        .get_timeline(id, Consistency::Linearizable)
        .await
        .ok()?;
    Some(
        t.events
            .into_iter()
            .filter(|e| e.kind == EventKind::ClockBreached as i32)
            .map(|e| e.text)
            .collect(),
    )
}

fn count(texts: &[String], prefix: &str) -> usize {
    texts.iter().filter(|t| t.starts_with(prefix)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn communication_clocks_breach_once_per_slot_across_a_leader_kill() {
    let mut cluster = Cluster::start(Options::default()).expect("cluster starts");
    cluster.leader_of("global").await.expect("a leader");
    let client = cluster.client();
    let fast = TEMPLATE
        .replacen("status_update_every: 30m", "status_update_every: 2s", 1)
        .replacen("first_customer_notice: 15m", "first_customer_notice: 2s", 1);
    apply_everywhere(&cluster, &fast, "short communication clocks for the test").await;
    let inc = declare_sev1(&client, "nobody talks to customers").await;
    let sla = inc.sla.expect("clocks");
    assert_eq!(sla.status_update_every_ns, 2_000_000_000);
    assert_ne!(sla.customer_notice_by_ns, 0);

    // No status update and no customer notice: both clocks breach, each recorded as an event.
    wait_for("both clocks breached", || async {
        let b = breaches(&client, &inc.id).await?;
        (count(&b, "status update overdue") == 1 && count(&b, "first customer notice overdue") == 1)
            .then_some(())
    })
    .await
    .expect("waited");

    // A new leader re-reads the same incident: the recorded slots stay recorded once. A status
    // update starts a new slot, which breaches once more when it runs out.
    let leader = cluster.leader().await.expect("a leader");
    cluster.kill(leader);
    client
        .append_timeline(
            AppendTimelineRequest {
                id: inc.id.clone(),
                author: "alice".into(),
                text: "rolled back the deploy".into(),
                status_update: true,
                ..Default::default()
            },
            None,
        )
        .await
        .expect("status update");
    let b = wait_for("the next status-update slot breached", || async {
        let b = breaches(&client, &inc.id).await?;
        (count(&b, "status update overdue") == 2).then_some(b)
    })
    .await
    .expect("waited");
    assert_eq!(count(&b, "first customer notice overdue"), 1, "{b:?}");
    assert_eq!(b.len(), 3, "{b:?}");
    let shown = client
        .get_incident(&inc.id, Consistency::Linearizable)
        .await
        .expect("get")
        .incident
        .expect("incident");
    let sla = shown.sla.expect("clocks");
    assert!(
        sla.status_update_breached && sla.customer_notice_breached,
        "{sla:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standups_are_held_once_per_slot_across_a_leader_kill_and_remind_the_commander() {
    let mut cluster = with_dead_channel().await;
    let client = cluster.client();
    let fast = TEMPLATE.replacen(
        "standup: {every: 30m, time_box: 15m}",
        "standup: {every: 2s, time_box: 1s}",
        1,
    );
    apply_everywhere(&cluster, &fast, "standups every two seconds for the test").await;
    let inc = declare_sev1(&client, "long outage").await;
    let standups = |texts: Vec<String>| -> Vec<String> {
        texts
            .into_iter()
            .filter_map(|t| t.split(" (").next().map(str::to_owned))
            .collect()
    };
    let timeline = |client: &icc_client::Client| {
        let id = inc.id.clone();
        let client = client.clone();
        async move {
            let t = client
                .get_timeline(&id, Consistency::Linearizable)
                .await
                .ok()?;
            Some(standups(
                t.events
                    .into_iter()
                    .filter(|e| e.kind == EventKind::Standup as i32)
                    .map(|e| e.text)
                    .collect(),
            ))
        }
    };
    wait_for("standup 1", || async {
        let s = timeline(&client).await?;
        (!s.is_empty()).then_some(())
    })
    .await
    .expect("waited");
    let leader = cluster.leader().await.expect("a leader");
    cluster.kill(leader);
    let held = wait_for("standup 3 under the next leader", || async {
        let s = timeline(&client).await?;
        (s.len() >= 3).then_some(s)
    })
    .await
    .expect("waited");
    assert_eq!(
        held[..3],
        ["standup 1", "standup 2", "standup 3"],
        "each slot once, in order"
    );
    let shown = client
        .get_incident(&inc.id, Consistency::Linearizable)
        .await
        .expect("get")
        .incident
        .expect("incident");
    let reminders = shown
        .notifications
        .iter()
        .filter(|n| n.kind == "reminder" && n.text.contains("standup"))
        .count();
    assert!(
        reminders >= 3,
        "one reminder per standup: {:?}",
        shown.notifications
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_guard_folds_escalation_pages_beyond_the_policy_limit() {
    let cluster = with_dead_channel().await;
    let client = cluster.client();
    let fast = TEMPLATE
        .replacen(
            "acknowledge: 5m\n    mitigate: 1h\n    resolve: 4h",
            "acknowledge: 1s\n    mitigate: 2s\n    resolve: 3s",
            1,
        )
        .replacen("max_pages: 5", "max_pages: 1", 1);
    assert_ne!(fast, TEMPLATE.replacen("max_pages: 5", "max_pages: 1", 1));
    apply_everywhere(&cluster, &fast, "one page per hour for the test").await;
    let inc = declare_sev1(&client, "everything is on fire").await;
    let shown = wait_for("three escalation steps", || async {
        let i = client
            .get_incident(&inc.id, Consistency::Linearizable)
            .await
            .ok()?
            .incident?;
        (i.escalation_tier == 4).then_some(i)
    })
    .await
    .expect("waited");
    let pages = shown
        .notifications
        .iter()
        .filter(|n| n.kind == "page")
        .count();
    assert_eq!(pages, 1, "{:?}", shown.notifications);
    let t = client
        .get_timeline(&inc.id, Consistency::Linearizable)
        .await
        .expect("timeline");
    let escalations: Vec<&str> = t
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Escalated as i32)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(escalations.len(), 3, "{escalations:?}");
    assert!(!escalations[0].contains("page folded"), "{escalations:?}");
    assert!(
        escalations[1..]
            .iter()
            .all(|t| t.contains("(page folded: 1 escalation page(s) within 1h already")),
        "{escalations:?}"
    );
}
