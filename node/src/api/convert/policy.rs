//! Severity policy versions to and from wire.

use icc_proto::v1 as pb;

use super::{hlc, stamp_of};
use crate::domain::policy::PolicyRecord;

/// A stored version to wire; `with_document` false leaves `yaml` and `json` empty.
pub(crate) fn version_pb(r: &PolicyRecord, with_document: bool) -> pb::SeverityPolicyVersion {
    let json = if with_document {
        icc_policy::parse(&r.yaml)
            .ok()
            .and_then(|p| serde_json::to_string_pretty(&p).ok())
            .unwrap_or_default()
    } else {
        String::new()
    };
    pb::SeverityPolicyVersion {
        version: r.version,
        yaml: if with_document {
            r.yaml.clone()
        } else {
            String::new()
        },
        author: r.author.clone(),
        reason: r.reason.clone(),
        at: Some(hlc(r.at)),
        json,
    }
}

/// Wire to a stored version (the node-internal sync carries the document).
pub(crate) fn record_of(v: pb::SeverityPolicyVersion) -> PolicyRecord {
    PolicyRecord {
        version: v.version,
        yaml: v.yaml,
        author: v.author,
        reason: v.reason,
        at: stamp_of(v.at.unwrap_or_default()),
        request_id: String::new(),
    }
}
