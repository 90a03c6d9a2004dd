//! Build system tag operations of updates, made durable: a service writes them as a job in
//! the same transaction as the change that needs them, then runs the job right after the
//! commit; if that fails (or the process dies) the worker retries it. Jobs of one update share
//! a queue, so they never overtake each other. Every operation is idempotent: tagging a build
//! already in the tag, or untagging one that is not, succeeds.

use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::buildsys::{BuildSystem, BuildsysError};
use crate::db::DbConnection;
use crate::models::job::{Job, NewJob};
use crate::state::AppState;
use crate::worker::JobHandler;

pub const KIND: &str = "buildsys_tags";

/// One change of a build's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TagOp {
    Tag {
        tag: String,
        nvr: String,
    },
    Untag {
        tag: String,
        nvr: String,
    },
    /// Koji's `moveBuild`: out of `from`, into `to`.
    Move {
        from: String,
        to: String,
        nvr: String,
    },
}

impl TagOp {
    pub fn tag(tag: &str, nvr: &str) -> TagOp {
        TagOp::Tag {
            tag: tag.to_owned(),
            nvr: nvr.to_owned(),
        }
    }

    pub fn untag(tag: &str, nvr: &str) -> TagOp {
        TagOp::Untag {
            tag: tag.to_owned(),
            nvr: nvr.to_owned(),
        }
    }

    /// Applies the operation; already done counts as done.
    pub fn apply(&self, buildsys: &dyn BuildSystem, who: &str) -> Result<(), BuildsysError> {
        let ignore_done = |result: Result<(), BuildsysError>| match result {
            Ok(()) | Err(BuildsysError::AlreadyTagged { .. } | BuildsysError::NotTagged { .. }) => {
                Ok(())
            }
            Err(e) => Err(e),
        };
        match self {
            TagOp::Tag { tag, nvr } => ignore_done(buildsys.tag_build(tag, nvr, who)),
            TagOp::Untag { tag, nvr } => ignore_done(buildsys.untag_build(tag, nvr, who)),
            TagOp::Move { from, to, nvr } => {
                ignore_done(buildsys.tag_build(to, nvr, who))?;
                ignore_done(buildsys.untag_build(from, nvr, who))
            }
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
