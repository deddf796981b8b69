//! Storage of the severity policy's versions (global group): `pol/v/<version u64 BE>` holds a
//! version, `pol/head` the latest version number.

use std::io;

use super::{Applying, GroupStore, Stored, View};
use crate::domain::DomainError;
use crate::domain::policy::{self, PolicyOp, PolicyRecord, PolicyView};

impl PolicyView for View<'_, '_> {
    fn head(&self) -> io::Result<u64> {
        Ok(self.pending.get_u64(&self.keys.policy_head())?.unwrap_or(0))
    }
}

impl Stored for PolicyOp {
    fn apply(&self, at: &mut Applying<'_, '_>) -> io::Result<Result<PolicyRecord, DomainError>> {
        let view = at.view();
        let record = policy::apply(&view, self, at.cmd.stamp, &at.cmd.request_id)?;
        at.pending
            .put_as(at.keys.policy_version(record.version), &record)?;
        at.pending.put_u64(at.keys.policy_head(), record.version);
        Ok(Ok(record))
    }
}

impl GroupStore {
    /// Stored severity policy version `version`, or the latest with `None`.
    pub(crate) fn severity_policy(&self, version: Option<u64>) -> io::Result<Option<PolicyRecord>> {
        let version = match version {
            Some(v) => v,
            None => match self.get_u64(&self.keys().policy_head())? {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        self.get_as(&self.keys().policy_version(version))
    }

    /// Every stored severity policy version, oldest first.
    pub(crate) fn severity_history(&self) -> io::Result<Vec<PolicyRecord>> {
        self.decode_prefix(&self.keys().policy_versions())
    }
}
