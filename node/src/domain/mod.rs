//! The domain: what icc's replicated state means and the pure rules that change it.
//!
//! One folder per aggregate (`incident`, `rbac`, `policy`, `drill`), each with its model, its
//! commands and their checks, and its apply: apply reads the aggregate's state through a view
//! trait and returns what to write; the store (`crate::store`) implements the view and persists
//! the result. The aggregates are listed once, in the `aggregates!` invocation below.
//!
//! Must never touch Raft, RocksDB, gRPC, the local clock or randomness, nor import another layer
//! of the node (`tests/architecture.rs` checks it): the same log gives the same state on every
//! node, and time comes only from the HLC stamp in each command.

mod aggregate;
mod command;
mod error;
mod residency;
mod stamp;
pub(crate) mod validate;

pub(crate) mod drill;
pub(crate) mod incident;
pub(crate) mod policy;
pub(crate) mod rbac;

use serde::{Deserialize, Serialize};

pub(crate) use aggregate::{Aggregate, Audited, actor};
pub(crate) use command::Command;
pub use error::DomainError;
pub(crate) use residency::Reader;
pub use stamp::Stamp;

/// The name of the global group, which holds global incidents, role bindings, tokens, the
/// severity policy and drill records; also the id prefix of global incidents.
pub(crate) const GLOBAL_GROUP: &str = "global";

/// What applying one log entry answers: the aggregate's reply, or why the command was refused
/// (a refused command changes nothing).
pub(crate) type Outcome = Result<Reply, DomainError>;

/// An aggregate listed in [`aggregates!`]: its commands travel in [`Op`] and its replies in
/// [`Reply`]. Implemented by the macro, never by hand.
pub(crate) trait Registered: Aggregate + Into<Op> {
    /// This aggregate's reply, if `reply` is one (a request id reused for another aggregate's
    /// command is not).
    fn reply_of(reply: Reply) -> Option<Self::Reply>;
    /// `reply` as the answer of any aggregate.
    fn wrap(reply: Self::Reply) -> Reply;
}

/// Declares the aggregates: the ONE list that names them all. For each `Name(module::Op)` it
/// makes the variant `Op::Name` (a command of that aggregate), `Reply::Name` (its answer), the
/// conversions, and the arm of `each_aggregate!`, with which the store hands a command to its
/// aggregate's storage. A new aggregate is a folder per layer plus one line here.
macro_rules! aggregates {
    ($d:tt $( $(#[$doc:meta])* $name:ident($module:ident :: $op:ident) ),+ $(,)?) => {
        /// A command of any aggregate: the payload of every Raft log entry.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub(crate) enum Op {
            $( $(#[$doc])* $name($module::$op), )+
        }

        /// The answer to a command of any aggregate.
        // The incident reply, the large variant, is the common one: boxing it would allocate
        // for each command to save a few bytes on the rare others.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub(crate) enum Reply {
            $( $(#[$doc])* $name(<$module::$op as Aggregate>::Reply), )+
        }

        $(
            impl From<$module::$op> for Op {
                fn from(op: $module::$op) -> Self {
                    Op::$name(op)
                }
            }

            impl Registered for $module::$op {
                fn reply_of(reply: Reply) -> Option<Self::Reply> {
                    match reply {
                        Reply::$name(r) => Some(r),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }

                fn wrap(reply: Self::Reply) -> Reply {
                    Reply::$name(reply)
                }
            }
        )+

        /// Runs `$body` with `$a` bound to the aggregate command inside an [`Op`], whichever
        /// aggregate it belongs to: `each_aggregate!(&cmd.op, op => op.describe())`. The body
        /// is compiled once per aggregate, so it may call a trait every aggregate implements.
        macro_rules! each_aggregate {
            ($d op:expr, $d a:ident => $d body:expr) => {
                match $d op {
                    $( $crate::domain::Op::$name($d a) => $d body, )+
                }
            };
        }
        pub(crate) use each_aggregate;
    };
}

aggregates! {$
    /// Incidents: declare, change, annotate, escalate, notify, retain (regional groups, and
    /// global incidents in the global group).
    Incident(incident::IncidentOp),
    /// Role bindings and bearer tokens (global group).
    Rbac(rbac::RbacOp),
    /// Versions of the severity policy (global group).
    Policy(policy::PolicyOp),
    /// Failover drill records and scheduled-drill slot claims (global group).
    Drill(drill::DrillOp),
}

impl Op {
    /// One line for logs.
    pub(crate) fn describe(&self) -> String {
        each_aggregate!(self, op => op.describe())
    }
}
