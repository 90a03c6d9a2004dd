//! A compose being worked on: its row, its release, the updates it took (their ids kept in
//! the checkpoints, so a resumed compose works on the same set even after the updates were
//! unlocked), and the checkpoint and state bookkeeping every step uses.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::db::DbConnection;
use crate::db::schema::updates;
use crate::db::types::{ComposeState, ContentType, UpdateRequest, UpdateType};
use crate::models::build::Build;
use crate::models::compose::Compose;
use crate::models::release::Release;
use crate::models::update::Update;

pub struct Work {
    pub compose: Compose,
    pub release: Release,
    checkpoints: Map<String, Value>,
}

impl Work {
    /// Loads the compose; on its first start, records which updates it takes (those locked
    /// with its release and request).
    pub fn load(conn: &mut DbConnection, compose: Compose) -> QueryResult<Work> {
        let release = Release::by_id(conn, compose.release_id)?;
        let checkpoints = match serde_json::from_str::<Value>(&compose.checkpoints) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let mut work = Work {
            compose,
            release,
            checkpoints,
        };
        if !work.checkpoints.contains_key("updates") {
            let ids: Vec<i32> = updates::table
                .filter(updates::release_id.eq(work.compose.release_id))
                .filter(updates::request.eq(work.compose.request))
                .filter(updates::locked.eq(true))
                .order(updates::alias.asc())
                .select(updates::id)
                .load(conn)?;
            work.checkpoints.insert("updates".into(), json!(ids));
            work.save(conn)?;
        }
        Ok(work)
    }

    pub fn request(&self) -> UpdateRequest {
        self.compose.request
    }

    pub fn update_ids(&self) -> Vec<i32> {
        self.checkpoints
            .get("updates")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_i64().and_then(|id| i32::try_from(id).ok()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The compose's updates, by alias.
    pub fn updates(&self, conn: &mut DbConnection) -> QueryResult<Vec<Update>> {
        updates::table
            .filter(updates::id.eq_any(self.update_ids()))
            .order(updates::alias.asc())
            .select(Update::as_select())
            .load(conn)
    }

    pub fn builds(&self, conn: &mut DbConnection) -> QueryResult<Vec<Build>> {
        Build::for_updates(conn, &self.update_ids())
    }

    /// An ejected update leaves the compose.
    pub fn forget(&mut self, update_id: i32) {
        let ids: Vec<i32> = self
            .update_ids()
            .into_iter()
            .filter(|id| *id != update_id)
            .collect();
        self.checkpoints.insert("updates".into(), json!(ids));
    }

    pub fn done(&self, step: &str) -> bool {
        self.checkpoints.get(step) == Some(&Value::Bool(true))
    }

    /// A text checkpoint (such as the directory a compose writes its repositories into).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.checkpoints.get(key).and_then(Value::as_str)
    }

    pub fn set_text(&mut self, key: &str, value: &str) {
        self.checkpoints
            .insert(key.into(), Value::String(value.into()));
    }

    /// Forgets a checkpoint, so that its step runs again.
    pub fn clear(&mut self, key: &str) {
        self.checkpoints.remove(key);
    }

    pub fn mark_done(&mut self, step: &str) {
        self.checkpoints.insert(step.into(), Value::Bool(true));
    }

    /// Writes the checkpoints (in the caller's transaction, with the step's changes).
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        Compose::save_checkpoints(
            conn,
            self.compose.id,
            self.compose.lease_owner.as_deref(),
            &Value::Object(self.checkpoints.clone()).to_string(),
        )
    }

    /// Moves to `state`, adding the time spent in the previous one to the timings.
    pub fn set_state(
        &mut self,
        conn: &mut DbConnection,
        state: ComposeState,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        if self.compose.state == state {
            return Ok(());
        }
        let spent = (now - self.compose.state_date).num_milliseconds().max(0) as f64 / 1000.0;
        let timings = self
            .checkpoints
            .entry("timings")
            .or_insert_with(|| json!({}));
        if let Value::Object(timings) = timings {
            let key = self.compose.state.to_string();
            let before = timings.get(&key).and_then(Value::as_f64).unwrap_or(0.0);
            timings.insert(key, json!(before + spent));
        }
        Compose::set_state(
            conn,
            self.compose.id,
            self.compose.lease_owner.as_deref(),
            state,
            now,
        )?;
        self.compose.state = state;
        self.compose.state_date = now;
        self.save(conn)
    }

    /// Seconds spent per state, as the history keeps them.
    pub fn timings(&self) -> Value {
        self.checkpoints
            .get("timings")
            .cloned()
            .unwrap_or_else(|| json!({}))
    }

    /// The content type of the compose's builds (the release's kind when it has none left).
    pub fn content_type(builds: &[Build]) -> Option<ContentType> {
        builds.first().map(|b| b.content_type)
    }

    pub fn security(updates: &[Update]) -> bool {
        updates
            .iter()
            .any(|u| u.update_type == UpdateType::Security)
    }
}

/// The steps a compose goes through, by checkpoint name, in order (gating for stable only).
const STEPS: &[&str] = &[
    "perform_gating",
    "determine_and_perform_tag_actions",
    "remove_pending_tags",
    "completed_repo",
    "compose_done",
    "mark_status_changes",
    "status_comments",
    "send_notices",
    "unlock_updates",
    "thresholds_and_obsoleting",
];

fn checkpoints_of(compose: &Compose) -> Map<String, Value> {
    match serde_json::from_str(&compose.checkpoints) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The compose's steps in order, each with whether it is done (gating for stable only).
pub fn steps(compose: &Compose) -> Vec<(&'static str, bool)> {
    let checkpoints = checkpoints_of(compose);
    STEPS
        .iter()
        .filter(|s| compose.request == UpdateRequest::Stable || **s != "perform_gating")
        .map(|s| (*s, checkpoints.get(*s) == Some(&Value::Bool(true))))
        .collect()
}

/// Seconds spent in each state the compose has left, in the order of the states.
pub fn state_timings(timings: &str) -> Vec<(ComposeState, f64)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(timings) else {
        return Vec::new();
    };
    ComposeState::ALL
        .iter()
        .filter_map(|state| {
            map.get(state.as_str())
                .and_then(Value::as_f64)
                .map(|seconds| (*state, seconds))
        })
        .collect()
}

/// The timings recorded in a compose's checkpoints, as [`state_timings`] reads them.
pub fn timings_of(compose: &Compose) -> String {
    checkpoints_of(compose)
        .get("timings")
        .map_or_else(|| "{}".to_owned(), Value::to_string)
}

/// How far a compose is: (steps done, steps in all, updates it took), read from its row.
pub fn progress(compose: &Compose) -> (usize, usize, usize) {
    let steps = steps(compose);
    let done = steps.iter().filter(|(_, done)| *done).count();
    let updates = checkpoints_of(compose)
        .get("updates")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    (done, steps.len(), updates)
}
