//! What every layer needs to know of an aggregate's commands without knowing the aggregate:
//! their field checks, where they may be applied, what the audit log records of them, and how
//! their answers travel inside [`super::Reply`].

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DomainError;

/// The commands of one aggregate (implemented by the aggregate's op enum, e.g.
/// [`super::incident::IncidentOp`]). Apply itself is not here: each aggregate reads its own
/// state through its own view, and the store hands it that view.
pub(crate) trait Aggregate: fmt::Debug + Clone {
    /// What an accepted command answers; recorded under its request id, so a repeated request
    /// gets the same answer.
    type Reply: fmt::Debug + Clone + PartialEq + Serialize + DeserializeOwned;

    /// Field checks that need no state, as "<field>: <rule>". The node runs them before it
    /// proposes (garbage never reaches the log) and apply runs them again (it is the authority).
    fn check(&self) -> Result<(), DomainError>;

    /// True when the command may only be applied by the global group (role bindings, policy,
    /// drills); incident commands are applied by the group of the incident's region.
    fn global_only(&self) -> bool;

    /// The audit entry's content for the accepted command: never free text, which may be
    /// restricted or purged later.
    fn audit(&self, reply: &Self::Reply) -> Audited;

    /// One line for logs and errors, e.g. `update us-east-000001`.
    fn describe(&self) -> String;
}

/// What the audit log records of one accepted command, besides its request id, log index and
/// stamp (which the store adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Audited {
    /// Who asked, as the request named them (the store combines it with the authenticated
    /// caller; see [`actor`]).
    pub author: String,
    /// What happened, e.g. `update us-east-000001: status=resolved`.
    pub action: String,
    /// The incident concerned, if any.
    pub incident_id: String,
}

/// The audit actor: the identity the proposing node authenticated (`caller`), with the author
/// the client named when they differ (`alice (as bob)`), so a client cannot put another name in
/// the audit log; the author alone for commands a node makes for itself or without
/// authentication; `unknown` when nobody is named.
pub(crate) fn actor(caller: &str, author: &str) -> String {
    let author = if author.trim().is_empty() {
        "unknown"
    } else {
        author
    };
    match caller {
        "" => author.to_owned(),
        caller if caller == author || author == "unknown" => caller.to_owned(),
        caller => format!("{caller} (as {author})"),
    }
}

#[cfg(test)]
mod tests {
    use super::actor;

    #[test]
    fn the_audit_actor_is_the_authenticated_caller_and_names_a_different_author() {
        assert_eq!(actor("", "alice"), "alice");
        assert_eq!(actor("", " "), "unknown");
        assert_eq!(actor("alice", "alice"), "alice");
        assert_eq!(actor("alice", ""), "alice");
        assert_eq!(actor("alice", "bob"), "alice (as bob)");
    }
}
