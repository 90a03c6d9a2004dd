//! Buildroot overrides with their build and submitter, loaded in a constant number of queries.

use std::collections::HashMap;

use diesel::prelude::*;

use super::objects::OverrideJson;
use super::{JsonContext, UpdateGraph, UserJson};
use crate::db::DbConnection;
use crate::db::schema::{builds, users};
use crate::models::build::Build;
use crate::models::overrides::BuildrootOverride;
use crate::models::user::{Group, User};

#[derive(Debug, Default)]
pub struct OverrideGraph {
    pub overrides: Vec<BuildrootOverride>,
    builds: HashMap<i32, Build>,
    users: HashMap<i32, User>,
    groups: HashMap<i32, Vec<Group>>,
}

impl OverrideGraph {
    pub fn load(
        conn: &mut DbConnection,
        overrides: Vec<BuildrootOverride>,
    ) -> QueryResult<OverrideGraph> {
        let build_ids: Vec<i32> = overrides.iter().map(|o| o.build_id).collect();
        let user_ids: Vec<i32> = overrides.iter().map(|o| o.submitter_id).collect();
        let builds = builds::table
            .filter(builds::id.eq_any(&build_ids))
            .select(Build::as_select())
            .load(conn)?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let users = users::table
            .filter(users::id.eq_any(&user_ids))
            .select(User::as_select())
            .load(conn)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let groups = User::groups_of(conn, &user_ids)?;
        Ok(OverrideGraph {
            overrides,
            builds,
            users,
            groups,
        })
    }

    pub fn json<'a>(
        &'a self,
        o: &'a BuildrootOverride,
        ctx: &JsonContext<'_>,
    ) -> Option<OverrideJson<'a>> {
        let build = self.builds.get(&o.build_id)?;
        Some(OverrideJson {
            notes: &o.notes,
            submission_date: o.submission_date,
            expiration_date: o.expiration_date,
            expired_date: o.expired_date,
            build_id: o.build_id,
            submitter_id: o.submitter_id,
            nvr: &build.nvr,
            build: UpdateGraph::build_json(build),
            submitter: self.users.get(&o.submitter_id).map(|user| {
                let groups = self.groups.get(&user.id).map_or(&[][..], Vec::as_slice);
                UserJson::new(user, groups, ctx)
            }),
        })
    }
}
