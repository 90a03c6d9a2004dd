//! Build system tag operations of updates, made durable: a service writes them as a job in
//! the same transaction as the change that needs them, then runs the job right after the
//! commit; if that fails (or the process dies) the worker retries it. Jobs of one update share
//! a queue, so they never overtake each other. Every operation is idempotent: tagging a build
//! already in the tag, untagging one that is not, creating a tag that exists or deleting one
//! that is gone, succeeds.

use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub use crate::buildsys::TagOp;
use crate::buildsys::{BuildSystem, BuildsysError};
use crate::db::DbConnection;
use crate::models::job::{Job, NewJob};
use crate::state::AppState;
use crate::worker::JobHandler;

pub const KIND: &str = "buildsys_tags";

/// Tag operations carry their own idempotent application.
pub trait ApplyTagOp {
    fn apply(&self, buildsys: &dyn BuildSystem, who: &str) -> Result<(), BuildsysError>;
}

impl ApplyTagOp for TagOp {
    /// Applies the operation; already done counts as done.
    fn apply(&self, buildsys: &dyn BuildSystem, who: &str) -> Result<(), BuildsysError> {
        let ignore_done = |result: Result<(), BuildsysError>| match result {
            Ok(()) | Err(BuildsysError::AlreadyTagged { .. } | BuildsysError::NotTagged { .. }) => {
                Ok(())
            }
            Err(e) => Err(e),
        };
        match self {
            TagOp::Tag { tag, nvr } => ignore_done(buildsys.tag_build(tag, nvr, who)),
            TagOp::Untag { tag, nvr } => ignore_done(buildsys.untag_build(tag, nvr, who)),
            // A move retried after it half happened (or whose source tag was already left)
            // finishes as a plain tag.
            TagOp::Move { from, to, nvr } => match buildsys.move_build(from, to, nvr, who) {
                Err(BuildsysError::NotTagged { tag, .. }) if &tag == from => {
                    ignore_done(buildsys.tag_build(to, nvr, who))
                }
                Err(BuildsysError::AlreadyTagged { tag, .. }) if &tag == to => {
                    ignore_done(buildsys.untag_build(from, nvr, who))
                }
                other => other,
            },
            TagOp::CreateTag { name, parent, perm } => {
                match buildsys.create_tag_under(name, parent, perm.as_deref()) {
                    Err(BuildsysError::TagExists(_)) => Ok(()),
                    other => other,
                }
            }
            TagOp::DeleteTag { name } => match buildsys.delete_tag(name) {
                Err(BuildsysError::NoSuchTag(_)) => Ok(()),
                other => other,
            },
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    agent: String,
    ops: Vec<TagOp>,
}

/// Writes the operations as a job in the queue `queue` (e.g. `update:<alias>`); returns the
/// job id, or `None` when there is nothing to do. Empty tag names are skipped, as Bodhi does
/// for releases without pending tags.
pub fn enqueue(
    conn: &mut DbConnection,
    queue: &str,
    agent: &str,
    ops: Vec<TagOp>,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<i32>> {
    let ops: Vec<TagOp> = ops
        .into_iter()
        .filter(|op| match op {
            TagOp::Tag { tag, .. } | TagOp::Untag { tag, .. } => !tag.is_empty(),
            TagOp::Move { from, to, .. } => !from.is_empty() && !to.is_empty(),
            TagOp::CreateTag { name, parent, .. } => !name.is_empty() && !parent.is_empty(),
            TagOp::DeleteTag { name } => !name.is_empty(),
        })
        .collect();
    if ops.is_empty() {
        return Ok(None);
    }
    let payload = serde_json::to_string(&Payload {
        agent: agent.to_owned(),
        ops,
    })
    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let (job, _) = Job::enqueue(
        conn,
        &NewJob {
            kind: KIND,
            payload: &payload,
            dedup_key: None,
            run_after: now,
            max_attempts: 20,
            queue_key: Some(queue),
        },
        now,
    )?;
    Ok(Some(job.id))
}

pub struct BuildsysTags;

impl JobHandler for BuildsysTags {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn max_attempts(&self) -> i32 {
        20
    }

    fn run(&self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        let payload: Payload = serde_json::from_str(&job.payload)?;
        for op in &payload.ops {
            op.apply(state.buildsys.as_ref(), &payload.agent)
                .map_err(|e| anyhow::anyhow!("{op:?}: {e}"))?;
        }
        Ok(())
    }
}

pub fn handlers() -> Vec<Arc<dyn JobHandler>> {
    vec![Arc::new(BuildsysTags)]
}
