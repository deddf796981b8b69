//! Storage of drill records and scheduled-drill slot claims (global group):
//! `drill/<HLC wall ns u64 BE><drill id>` holds a record (in the order they were recorded),
//! `drill-slot/<slot>` a slot's claim (the first one).

use std::io;

use super::{Applying, GroupStore, Stored, View};
use crate::domain::DomainError;
use crate::domain::drill::{self, DrillOp, DrillRecord, DrillReply, DrillView, SlotClaim};

impl DrillView for View<'_, '_> {
    fn claim(&self, slot: &str) -> io::Result<Option<SlotClaim>> {
        self.pending.get_as(&self.keys.drill_claim(slot))
    }
}

impl Stored for DrillOp {
    fn apply(&self, at: &mut Applying<'_, '_>) -> io::Result<Result<DrillReply, DomainError>> {
        let view = at.view();
        let (reply, new) = drill::apply(&view, self, at.cmd.stamp)?;
        if new {
            match &reply {
                DrillReply::Recorded(r) => {
                    at.pending.put_as(at.keys.drill(r.at.wall_ns, &r.id), r)?
                }
                DrillReply::Claimed(c) => at.pending.put_as(at.keys.drill_claim(&c.slot), c)?,
            }
        }
        Ok(Ok(reply))
    }
}

impl GroupStore {
    /// Every recorded failover drill, oldest first.
    pub(crate) fn drills(&self) -> io::Result<Vec<DrillRecord>> {
        self.decode_prefix(&self.keys().drills())
    }

    /// Every claimed scheduled-drill slot, in key order.
    pub(crate) fn drill_claims(&self) -> io::Result<Vec<SlotClaim>> {
        self.decode_prefix(&self.keys().drill_claims())
    }
}
