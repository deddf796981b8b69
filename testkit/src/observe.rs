//! What the nodes say about their groups: each node's own status, who leads, how far each has
//! applied, and waits on those.

use std::collections::BTreeMap;
use std::time::Duration;

use icc_client::{Client, v1::NodeStatus};

use crate::{Cluster, wait_for};

/// Deadline of one status call: a node that does not answer within it counts as silent.
const STATUS_DEADLINE: Duration = Duration::from_secs(2);

impl Cluster {
    /// Node `id`'s own status in `group` (None while it is down, paused or does not answer).
    pub async fn group_status_of(&self, id: u64, group: &str) -> Option<NodeStatus> {
        let node = self.node(id);
        if node.child.is_none() || node.paused {
            return None;
        }
        let c = Client::new(
            self.client_config([node.addr.clone()])
                .with_deadline(STATUS_DEADLINE),
        )
        .ok()?;
        let s = c.cluster_status(true).await.ok()?;
        s.groups
            .into_iter()
            .find(|g| g.group == group)?
            .nodes
            .into_iter()
            .next()
    }

    /// Node `id`'s own status in its region's group (None while it does not answer).
    pub async fn status_of(&self, id: u64) -> Option<NodeStatus> {
        self.group_status_of(id, &self.node(id).region).await
    }

    /// The first region (the group most tests write to).
    fn first_region(&self) -> String {
        self.nodes
            .first()
            .map(|n| n.region.clone())
            .unwrap_or_default()
    }

    /// Running voters of `group` (started and not paused).
    fn running(&self, group: &str) -> Vec<u64> {
        self.group_ids(group)
            .into_iter()
            .filter(|id| {
                let n = self.node(*id);
                n.child.is_some() && !n.paused
            })
            .collect()
    }

    /// Waits until the running members of the first region agree on one leader; returns it.
    pub async fn leader(&self) -> anyhow::Result<u64> {
        self.leader_of(&self.first_region()).await
    }

    /// Waits until every running member of `group` names the same leader, one of them; returns
    /// it. For tests whose next call may go to any node: all of them know the leader. Under a
    /// partition a cut-off node keeps its own view; use [`Cluster::majority_leader`] there.
    pub async fn leader_of(&self, group: &str) -> anyhow::Result<u64> {
        let running = self.running(group);
        wait_for(
            &format!("a leader of {group} its running members agree on"),
            || async {
                let mut leaders = Vec::new();
                for id in &running {
                    leaders.push(self.group_status_of(*id, group).await?.leader_id);
                }
                let first = *leaders.first()?;
                (first != 0 && leaders.iter().all(|l| *l == first) && running.contains(&first))
                    .then_some(first)
            },
        )
        .await
    }

    /// The leader of `group` as a majority of its voters see it right now (None if no majority
    /// agrees on a leader that itself says it leads).
    pub async fn current_leader(&self, group: &str) -> Option<u64> {
        let members = self.group_ids(group);
        let mut votes: BTreeMap<u64, usize> = BTreeMap::new();
        let mut leaders_self = Vec::new();
        for id in &members {
            if let Some(s) = self.group_status_of(*id, group).await {
                if s.leader_id != 0 {
                    *votes.entry(s.leader_id).or_default() += 1;
                }
                if s.leader_id == *id {
                    leaders_self.push(*id);
                }
            }
        }
        votes
            .into_iter()
            .find(|(l, n)| *n * 2 > members.len() && leaders_self.contains(l))
            .map(|(l, _)| l)
    }

    /// Waits for [`Cluster::current_leader`] of `group`: the leader a majority follows, even
    /// while a cut-off or paused node thinks otherwise.
    pub async fn majority_leader(&self, group: &str) -> anyhow::Result<u64> {
        wait_for(&format!("a leader of {group}"), || {
            self.current_leader(group)
        })
        .await
    }

    /// Waits until every running node of the first region has applied at least `index`.
    pub async fn wait_applied(&self, index: u64) -> anyhow::Result<()> {
        let running = self.running(&self.first_region());
        wait_for(
            &format!("every running node applied index {index}"),
            || async {
                for id in &running {
                    if self.status_of(*id).await?.applied_index < index {
                        return None;
                    }
                }
                Some(())
            },
        )
        .await
    }

    /// Waits until node `id` follows a leader of `group` and has applied everything that
    /// leader had committed when the wait began (a restarted node rejoined).
    pub async fn wait_caught_up(&self, id: u64, group: &str) -> anyhow::Result<()> {
        let target = wait_for(
            &format!("a leader of {group} reporting its commit index"),
            || async {
                let l = self.current_leader(group).await?;
                Some(self.group_status_of(l, group).await?.committed_index)
            },
        )
        .await?;
        wait_for(
            &format!("node {id} to apply index {target} of {group}"),
            || async {
                let s = self.group_status_of(id, group).await?;
                (s.leader_id != 0 && s.applied_index >= target).then_some(())
            },
        )
        .await
    }

    /// Waits until every voter of every group runs and has applied the same index as the
    /// others in that group (the cluster is quiet and caught up).
    pub async fn wait_converged(&self) -> anyhow::Result<()> {
        for group in self.groups() {
            let members = self.group_ids(&group);
            wait_for(
                &format!("every member of {group} applied the same index"),
                || async {
                    let mut applied = Vec::new();
                    for id in &members {
                        let s = self.group_status_of(*id, &group).await?;
                        applied.push((s.applied_index, s.committed_index));
                    }
                    let first = applied.first()?.0;
                    applied
                        .iter()
                        .all(|(a, c)| *a == first && *c == first)
                        .then_some(())
                },
            )
            .await?;
        }
        Ok(())
    }
}
