//! The filters of Bodhi's list endpoints, turned into SQL. Conditions on related rows (builds,
//! bugs, packages) are `IN (SELECT ...)` subqueries, so a row never appears twice and the count
//! is a plain `COUNT(*)`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::connection::MultiBackend;
use crate::db::schema::{bugs, builds, packages, update_bugs, update_counts, updates};
use crate::db::types::{
    ContentType, TestGatingStatus, UpdateRequest, UpdateSeverity, UpdateStatus, UpdateSuggestion,
    UpdateType,
};
use crate::models::update::Update;

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` for LIKE.
pub fn contains_pattern(text: &str) -> String {
    format!("%{text}%")
}

/// Which kept totals answer a count: release ids and statuses (`None`: all).
type KeptTotals<'a> = (Option<Vec<i32>>, Option<&'a [UpdateStatus]>);

/// The sum of the kept totals (trigger-maintained `update_counts`) for these releases and
/// statuses (`None`: all).
fn count_from_totals(
    conn: &mut DbConnection,
    releases: Option<Vec<i32>>,
    statuses: Option<&[UpdateStatus]>,
) -> QueryResult<i64> {
    let mut q = update_counts::table.into_boxed();
    if let Some(ids) = releases {
        q = q.filter(update_counts::release_id.eq_any(ids));
    }
    if let Some(statuses) = statuses {
        q = q.filter(update_counts::status.eq_any(statuses.iter().map(|s| s.as_str())));
    }
    // A few rows (releases × statuses): summed here, as SUM(bigint) is NUMERIC on PostgreSQL.
    let counts: Vec<i64> = q.select(update_counts::n).load(conn)?;
    Ok(counts.iter().sum())
}

/// The filters of `GET /updates/` (spec §3.3). `None` means no condition; several values of one
/// filter are OR'ed, different filters AND'ed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateFilter {
    pub aliases: Option<Vec<String>>,
    pub updateids: Option<Vec<String>>,
    pub approved_since: Option<NaiveDateTime>,
    pub approved_before: Option<NaiveDateTime>,
    pub bugs: Option<Vec<i32>>,
    pub builds: Option<Vec<String>>,
    pub critpath: Option<bool>,
    pub from_side_tag: Option<bool>,
    pub from_side_tag_name: Option<String>,
    pub gating: Option<Vec<TestGatingStatus>>,
    pub like: Option<String>,
    pub search: Option<String>,
    pub locked: Option<bool>,
    pub modified_since: Option<NaiveDateTime>,
    pub modified_before: Option<NaiveDateTime>,
    pub packages: Option<Vec<String>>,
    pub pushed: Option<bool>,
    /// Bodhi's `pushed_since`/`pushed_before` filter on `date_stable` (its hybrid property
    /// evaluates to that column in SQL); kept for compatibility.
    pub pushed_since: Option<NaiveDateTime>,
    pub pushed_before: Option<NaiveDateTime>,
    pub release_ids: Option<Vec<i32>>,
    pub release_id: Option<i32>,
    pub request: Option<UpdateRequest>,
    pub severity: Option<UpdateSeverity>,
    pub statuses: Option<Vec<UpdateStatus>>,
    pub submitted_since: Option<NaiveDateTime>,
    pub submitted_before: Option<NaiveDateTime>,
    pub suggest: Option<UpdateSuggestion>,
    pub update_type: Option<UpdateType>,
    pub content_type: Option<ContentType>,
    pub user_ids: Option<Vec<i32>>,
}

impl UpdateFilter {
    fn query(&self) -> updates::BoxedQuery<'_, MultiBackend> {
        let mut q = updates::table.into_boxed();
        if let Some(v) = &self.aliases {
            q = q.filter(updates::alias.eq_any(v));
        }
        if let Some(v) = &self.updateids {
            q = q.filter(updates::alias.eq_any(v));
        }
        if let Some(t) = self.approved_since {
            q = q.filter(updates::date_approved.ge(t));
        }
        if let Some(t) = self.approved_before {
            q = q.filter(updates::date_approved.lt(t));
        }
        if let Some(v) = &self.bugs {
            q = q.filter(
                updates::id.eq_any(
                    update_bugs::table
                        .inner_join(bugs::table)
                        .filter(bugs::bug_id.eq_any(v))
                        .select(update_bugs::update_id),
                ),
            );
        }
        if let Some(v) = &self.builds {
            q = q.filter(
                updates::id.nullable().eq_any(
                    builds::table
                        .filter(builds::nvr.eq_any(v))
                        .select(builds::update_id),
                ),
            );
        }
        if let Some(b) = self.critpath {
            q = q.filter(updates::critpath.eq(b));
        }
        match self.from_side_tag {
            Some(true) => q = q.filter(updates::from_tag.is_not_null()),
            Some(false) => q = q.filter(updates::from_tag.is_null()),
            None => {}
        }
        if let Some(tag) = &self.from_side_tag_name {
            q = q.filter(updates::from_tag.eq(tag));
        }
        if let Some(v) = &self.gating {
            q = q.filter(updates::test_gating_status.eq_any(v));
        }
        if let Some(text) = &self.like {
            q = q.filter(
                updates::id.nullable().eq_any(
                    builds::table
                        .filter(builds::nvr.like(contains_pattern(text)))
                        .select(builds::update_id),
                ),
            );
        }
        if let Some(text) = &self.search {
            let pattern = contains_pattern(&text.to_lowercase());
            q = q.filter(
                updates::id
                    .nullable()
                    .eq_any(
                        builds::table
                            .filter(lower(builds::nvr).like(pattern.clone()))
                            .select(builds::update_id),
                    )
                    .or(lower(updates::alias).like(pattern)),
            );
        }
        if let Some(b) = self.locked {
            q = q.filter(updates::locked.eq(b));
        }
        if let Some(t) = self.modified_since {
            q = q.filter(updates::date_modified.ge(t));
        }
        if let Some(t) = self.modified_before {
            q = q.filter(updates::date_modified.lt(t));
        }
        if let Some(v) = &self.packages {
            q = q.filter(
                updates::id.nullable().eq_any(
                    builds::table
                        .inner_join(packages::table)
                        .filter(packages::name.eq_any(v))
                        .select(builds::update_id),
                ),
            );
        }
        if let Some(b) = self.pushed {
            q = q.filter(updates::pushed.eq(b));
        }
        if let Some(t) = self.pushed_since {
            q = q.filter(updates::date_stable.ge(t));
        }
        if let Some(t) = self.pushed_before {
            q = q.filter(updates::date_stable.lt(t));
        }
        if let Some(v) = &self.release_ids {
            q = q.filter(updates::release_id.eq_any(v));
        }
        if let Some(id) = self.release_id {
            q = q.filter(updates::release_id.eq(id));
        }
        if let Some(r) = self.request {
            q = q.filter(updates::request.eq(r));
        }
        if let Some(s) = self.severity {
            q = q.filter(updates::severity.eq(s));
        }
        if let Some(v) = &self.statuses {
            q = q.filter(updates::status.eq_any(v));
        }
        if let Some(t) = self.submitted_since {
            q = q.filter(updates::date_submitted.ge(t));
        }
        if let Some(t) = self.submitted_before {
            q = q.filter(updates::date_submitted.lt(t));
        }
        if let Some(s) = self.suggest {
            q = q.filter(updates::suggest.eq(s));
        }
        if let Some(t) = self.update_type {
            q = q.filter(updates::type_.eq(t));
        }
        if let Some(c) = self.content_type {
            q = q.filter(
                updates::id.nullable().eq_any(
                    builds::table
                        .filter(builds::type_.eq(c))
                        .select(builds::update_id),
                ),
            );
        }
        if let Some(v) = &self.user_ids {
            q = q.filter(updates::user_id.eq_any(v));
        }
        q
    }

    /// How many updates match.
    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        if let Some((releases, statuses)) = self.by_release_and_status_only() {
            return count_from_totals(conn, releases, statuses);
        }
        self.query().count().get_result(conn)
    }

    /// The release and status conditions, when they are the only ones: such counts are read
    /// from the `update_counts` totals the database keeps.
    fn by_release_and_status_only(&self) -> Option<KeptTotals<'_>> {
        let others = UpdateFilter {
            release_ids: None,
            release_id: None,
            statuses: None,
            ..self.clone()
        };
        if others != UpdateFilter::default() {
            return None;
        }
        let releases = match (&self.release_ids, self.release_id) {
            (Some(ids), Some(id)) => Some(ids.iter().copied().filter(|i| *i == id).collect()),
            (Some(ids), None) => Some(ids.clone()),
            (None, Some(id)) => Some(vec![id]),
            (None, None) => None,
        };
        Some((releases, self.statuses.as_deref()))
    }

    /// One page of matching updates, newest submission first.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Update>> {
        self.query()
            .order((updates::date_submitted.desc(), updates::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(Update::as_select())
            .load(conn)
    }
}

/// The filters of `GET /comments/` (spec §3.5).
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    pub like: Option<String>,
    /// Package names.
    pub packages: Option<Vec<String>>,
    pub since: Option<NaiveDateTime>,
    pub update_ids: Option<Vec<i32>>,
    pub update_owner_ids: Option<Vec<i32>>,
    pub ignore_user_ids: Option<Vec<i32>>,
    /// Bodhi hides the system user's comments when `chrome` is true.
    pub hide_user_ids: Vec<i32>,
    pub user_ids: Option<Vec<i32>>,
}

impl CommentFilter {
    fn query(&self) -> crate::db::schema::comments::BoxedQuery<'_, MultiBackend> {
        use crate::db::schema::comments;
        let mut q = comments::table.into_boxed();
        if let Some(text) = &self.like {
            q = q.filter(comments::text.like(contains_pattern(text)));
        }
        if let Some(names) = &self.packages {
            q = q.filter(
                comments::update_id.nullable().eq_any(
                    builds::table
                        .inner_join(packages::table)
                        .filter(packages::name.eq_any(names))
                        .select(builds::update_id),
                ),
            );
        }
        if let Some(t) = self.since {
            q = q.filter(comments::timestamp.ge(t));
        }
        if let Some(ids) = &self.update_ids {
            q = q.filter(comments::update_id.eq_any(ids));
        }
        if let Some(owners) = &self.update_owner_ids {
            q = q.filter(
                comments::update_id.eq_any(
                    updates::table
                        .filter(updates::user_id.eq_any(owners))
                        .select(updates::id),
                ),
            );
        }
        if let Some(ids) = &self.ignore_user_ids {
            q = q.filter(comments::user_id.ne_all(ids));
        }
        if !self.hide_user_ids.is_empty() {
            q = q.filter(comments::user_id.ne_all(&self.hide_user_ids));
        }
        if let Some(ids) = &self.user_ids {
            q = q.filter(comments::user_id.eq_any(ids));
        }
        q
    }

    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    /// Newest first.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<crate::models::comment::Comment>> {
        use crate::db::schema::comments;
        self.query()
            .order((comments::timestamp.desc(), comments::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(crate::models::comment::Comment::as_select())
            .load(conn)
    }
}

/// The filters of `GET /overrides/` (spec §3.6).
#[derive(Debug, Clone, Default)]
pub struct OverrideFilter {
    pub expired: Option<bool>,
    pub builds: Option<Vec<String>>,
    pub packages: Option<Vec<String>>,
    pub release_ids: Option<Vec<i32>>,
    pub like: Option<String>,
    pub search: Option<String>,
    pub submitter_ids: Option<Vec<i32>>,
}

impl OverrideFilter {
    fn query(&self) -> crate::db::schema::buildroot_overrides::BoxedQuery<'_, MultiBackend> {
        use crate::db::schema::buildroot_overrides as o;
        let mut q = o::table.into_boxed();
        match self.expired {
            Some(true) => q = q.filter(o::expired_date.is_not_null()),
            Some(false) => q = q.filter(o::expired_date.is_null()),
            None => {}
        }
        if let Some(nvrs) = &self.builds {
            q = q.filter(
                o::build_id.eq_any(
                    builds::table
                        .filter(builds::nvr.eq_any(nvrs))
                        .select(builds::id),
                ),
            );
        }
        if let Some(names) = &self.packages {
            q = q.filter(
                o::build_id.eq_any(
                    builds::table
                        .inner_join(packages::table)
                        .filter(packages::name.eq_any(names))
                        .select(builds::id),
                ),
            );
        }
        if let Some(ids) = &self.release_ids {
            q = q.filter(
                o::build_id.eq_any(
                    builds::table
                        .filter(builds::release_id.eq_any(ids))
                        .select(builds::id),
                ),
            );
        }
        if let Some(text) = &self.like {
            q = q.filter(
                o::build_id.eq_any(
                    builds::table
                        .filter(builds::nvr.like(contains_pattern(text)))
                        .select(builds::id),
                ),
            );
        }
        if let Some(text) = &self.search {
            q = q.filter(
                o::build_id.eq_any(
                    builds::table
                        .filter(lower(builds::nvr).like(contains_pattern(&text.to_lowercase())))
                        .select(builds::id),
                ),
            );
        }
        if let Some(ids) = &self.submitter_ids {
            q = q.filter(o::submitter_id.eq_any(ids));
        }
        q
    }

    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    /// Newest submission first.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<crate::models::overrides::BuildrootOverride>> {
        use crate::db::schema::buildroot_overrides as o;
        self.query()
            .order((o::submission_date.desc(), o::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(crate::models::overrides::BuildrootOverride::as_select())
            .load(conn)
    }
}

/// The filters of `GET /releases/` (spec §3.7).
#[derive(Debug, Clone, Default)]
pub struct ReleaseFilter {
    pub ids: Option<Vec<i32>>,
    /// A LIKE pattern.
    pub name: Option<String>,
    pub update_ids: Option<Vec<i32>>,
    pub package_ids: Option<Vec<i32>>,
    pub exclude_archived: bool,
    pub states: Option<Vec<crate::db::types::ReleaseState>>,
}

impl ReleaseFilter {
    fn query(&self) -> crate::db::schema::releases::BoxedQuery<'_, MultiBackend> {
        use crate::db::schema::releases as r;
        let mut q = r::table.into_boxed();
        if let Some(ids) = &self.ids {
            q = q.filter(r::id.eq_any(ids));
        }
        if let Some(pattern) = &self.name {
            q = q.filter(r::name.like(pattern));
        }
        if let Some(ids) = &self.update_ids {
            q = q.filter(
                r::id.nullable().eq_any(
                    builds::table
                        .filter(builds::update_id.eq_any(ids))
                        .select(builds::release_id),
                ),
            );
        }
        if let Some(ids) = &self.package_ids {
            q = q.filter(
                r::id.nullable().eq_any(
                    builds::table
                        .filter(builds::package_id.eq_any(ids))
                        .select(builds::release_id),
                ),
            );
        }
        if self.exclude_archived {
            q = q.filter(r::state.ne(crate::db::types::ReleaseState::Archived));
        }
        if let Some(states) = &self.states {
            q = q.filter(r::state.eq_any(states));
        }
        q
    }

    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    /// By name.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<crate::models::release::Release>> {
        use crate::db::schema::releases as r;
        self.query()
            .order(r::name.asc())
            .offset(offset)
            .limit(limit)
            .select(crate::models::release::Release::as_select())
            .load(conn)
    }
}

/// The filters of `GET /builds/`.
#[derive(Debug, Clone, Default)]
pub struct BuildFilter {
    pub nvr: Option<String>,
    pub update_ids: Option<Vec<i32>>,
    pub package_ids: Option<Vec<i32>>,
    pub release_ids: Option<Vec<i32>>,
}

impl BuildFilter {
    fn query(&self) -> builds::BoxedQuery<'_, MultiBackend> {
        let mut q = builds::table.into_boxed();
        if let Some(nvr) = &self.nvr {
            q = q.filter(builds::nvr.eq(nvr));
        }
        if let Some(ids) = &self.update_ids {
            q = q.filter(builds::update_id.eq_any(ids));
        }
        if let Some(ids) = &self.package_ids {
            q = q.filter(builds::package_id.eq_any(ids));
        }
        if let Some(ids) = &self.release_ids {
            q = q.filter(builds::release_id.eq_any(ids));
        }
        q
    }

    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    /// By NVR.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<crate::models::build::Build>> {
        self.query()
            .order(builds::nvr.asc())
            .offset(offset)
            .limit(limit)
            .select(crate::models::build::Build::as_select())
            .load(conn)
    }
}

/// The filters of `GET /users/`.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub like: Option<String>,
    pub search: Option<String>,
    /// A LIKE pattern.
    pub name: Option<String>,
    pub group_ids: Option<Vec<i32>>,
    pub update_ids: Option<Vec<i32>>,
}

impl UserFilter {
    fn query(&self) -> crate::db::schema::users::BoxedQuery<'_, MultiBackend> {
        use crate::db::schema::{user_groups, users};
        let mut q = users::table.into_boxed();
        if let Some(text) = &self.like {
            q = q.filter(users::name.like(contains_pattern(text)));
        }
        if let Some(text) = &self.search {
            q = q.filter(lower(users::name).like(contains_pattern(&text.to_lowercase())));
        }
        if let Some(pattern) = &self.name {
            q = q.filter(users::name.like(pattern));
        }
        if let Some(ids) = &self.group_ids {
            q = q.filter(
                users::id.eq_any(
                    user_groups::table
                        .filter(user_groups::group_id.eq_any(ids))
                        .select(user_groups::user_id),
                ),
            );
        }
        if let Some(ids) = &self.update_ids {
            q = q.filter(
                users::id.nullable().eq_any(
                    updates::table
                        .filter(updates::id.eq_any(ids))
                        .select(updates::user_id),
                ),
            );
        }
        q
    }

    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<crate::models::user::User>> {
        use crate::db::schema::users;
        self.query()
            .order(users::id.asc())
            .offset(offset)
            .limit(limit)
            .select(crate::models::user::User::as_select())
            .load(conn)
    }
}

/// The filters of `GET /packages/`.
#[derive(Debug, Clone, Default)]
pub struct PackageFilter {
    pub name: Option<String>,
    pub like: Option<String>,
    pub search: Option<String>,
}

impl PackageFilter {
    fn query(&self) -> packages::BoxedQuery<'_, MultiBackend> {
        let mut q = packages::table.into_boxed();
        if let Some(name) = &self.name {
            q = q.filter(packages::name.eq(name));
        }
        if let Some(text) = &self.like {
            q = q.filter(packages::name.like(contains_pattern(text)));
        }
        if let Some(text) = &self.search {
            q = q.filter(lower(packages::name).like(contains_pattern(&text.to_lowercase())));
        }
        q
    }

    pub fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        self.query().count().get_result(conn)
    }

    /// With a search, the exact name first; then by name.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<crate::models::package::Package>> {
        let exact = self.search.clone().unwrap_or_default();
        self.query()
            .order((
                packages::name.eq(exact).desc(),
                packages::name.asc(),
                packages::id.asc(),
            ))
            .offset(offset)
            .limit(limit)
            .select(crate::models::package::Package::as_select())
            .load(conn)
    }
}
