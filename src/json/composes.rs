//! Composes with their release and the summary of the updates they hold.

use std::collections::HashMap;

use diesel::prelude::*;

use super::ReleaseJson;
use super::objects::{ComposeJson, UpdateSummaryJson, beautiful_title};
use crate::config::RulesSettings;
use crate::db::DbConnection;
use crate::db::schema::{releases, updates};
use crate::db::types::{UpdateRequest, UpdateType};
use crate::models::build::Build;
use crate::models::compose::Compose;
use crate::models::release::Release;
use crate::models::update::Update;

#[derive(Debug, Default)]
pub struct ComposeGraph {
    pub composes: Vec<Compose>,
    releases: HashMap<i32, Release>,
    /// (release id, request) → its locked updates, oldest submission first.
    updates: HashMap<(i32, UpdateRequest), Vec<Update>>,
    /// Update id → its builds, by NVR.
    builds: HashMap<i32, Vec<Build>>,
}

impl ComposeGraph {
    pub fn load(conn: &mut DbConnection, composes: Vec<Compose>) -> QueryResult<ComposeGraph> {
        let release_ids: Vec<i32> = composes.iter().map(|c| c.release_id).collect();
        let releases = releases::table
            .filter(releases::id.eq_any(&release_ids))
            .select(Release::as_select())
            .load(conn)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let locked: Vec<Update> = updates::table
            .filter(updates::locked.eq(true))
            .filter(updates::release_id.eq_any(&release_ids))
            .order((updates::date_submitted.asc(), updates::id.asc()))
            .select(Update::as_select())
            .load(conn)?;
        let ids: Vec<i32> = locked.iter().map(|u| u.id).collect();
        let mut builds: HashMap<i32, Vec<Build>> = HashMap::new();
        for build in Build::for_updates(conn, &ids)? {
            if let Some(update_id) = build.update_id {
                builds.entry(update_id).or_default().push(build);
            }
        }
        let mut by_compose: HashMap<(i32, UpdateRequest), Vec<Update>> = HashMap::new();
        for update in locked {
            if let Some(request) = update.request {
                by_compose
                    .entry((update.release_id, request))
                    .or_default()
                    .push(update);
            }
        }
        let mut graph = ComposeGraph {
            composes,
            releases,
            updates: by_compose,
            builds,
        };
        let mut composes = std::mem::take(&mut graph.composes);
        composes.sort_by_key(|c| graph.priority(c));
        graph.composes = composes;
        Ok(graph)
    }

    /// Bodhi's order: security composes first, then stable before testing.
    fn priority(&self, compose: &Compose) -> (bool, bool) {
        (
            !self.is_security(compose),
            compose.request != UpdateRequest::Stable,
        )
    }

    pub fn updates_of(&self, compose: &Compose) -> &[Update] {
        self.updates
            .get(&(compose.release_id, compose.request))
            .map_or(&[], Vec::as_slice)
    }

    pub fn is_security(&self, compose: &Compose) -> bool {
        self.updates_of(compose)
            .iter()
            .any(|u| u.update_type == UpdateType::Security)
    }

    pub fn json<'a>(
        &'a self,
        compose: &'a Compose,
        rules: &RulesSettings,
    ) -> Option<ComposeJson<'a>> {
        let release = self.releases.get(&compose.release_id)?;
        let updates = self.updates_of(compose);
        let content_type = updates
            .first()
            .and_then(|u| self.builds.get(&u.id))
            .and_then(|b| b.first())
            .map(|b| b.content_type);
        let update_summary = updates
            .iter()
            .map(|u| {
                let labels: Vec<String> = self
                    .builds
                    .get(&u.id)
                    .map(|b| b.iter().map(|b| b.nvr.clone()).collect())
                    .unwrap_or_default();
                UpdateSummaryJson {
                    alias: u.alias.clone(),
                    title: beautiful_title(&u.display_name, &u.alias, &labels, false),
                }
            })
            .collect();
        Some(ComposeJson {
            release_id: compose.release_id,
            request: compose.request,
            checkpoints: &compose.checkpoints,
            error_message: compose.error_message.as_deref(),
            date_created: compose.date_created,
            state_date: compose.state_date,
            state: compose.state,
            content_type,
            security: self.is_security(compose),
            update_summary,
            release: ReleaseJson::new(release, rules),
        })
    }
}
