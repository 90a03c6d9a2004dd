//! On-demand composes (ODCS's `composes` table): the rows, and the queries the API, the
//! generator and the cleanup job ask. The rules live in `crate::odcs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::connection::MultiBackend;
use crate::db::schema::odcs_composes;

/// ODCS's state numbers.
pub const WAIT: i32 = 0;
pub const GENERATING: i32 = 1;
pub const DONE: i32 = 2;
pub const REMOVED: i32 = 3;
pub const FAILED: i32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, AsChangeset)]
#[diesel(table_name = odcs_composes, treat_none_as_null = true)]
pub struct OdcsCompose {
    pub id: i32,
    pub owner: String,
    pub source_type: i32,
    pub source: String,
    pub state: i32,
    pub state_reason: Option<String>,
    pub koji_event: Option<i32>,
    pub packages: Option<String>,
    pub builds: Option<String>,
    pub sigkeys: String,
    pub arches: String,
    pub flags: i32,
    pub results: i32,
    pub label: Option<String>,
    pub compose_type: String,
    pub respin_of: Option<String>,
    pub reused_id: Option<i32>,
    pub removed_by: Option<String>,
    pub time_to_expire: NaiveDateTime,
    pub time_submitted: NaiveDateTime,
    pub time_started: Option<NaiveDateTime>,
    pub time_done: Option<NaiveDateTime>,
    pub time_removed: Option<NaiveDateTime>,
}

/// A compose to insert, in state wait.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = odcs_composes)]
pub struct NewOdcsCompose {
    pub owner: String,
    pub source_type: i32,
    pub source: String,
    pub state: i32,
    pub state_reason: Option<String>,
    pub packages: Option<String>,
    pub builds: Option<String>,
    pub sigkeys: String,
    pub arches: String,
    pub flags: i32,
    pub results: i32,
    pub label: Option<String>,
    pub compose_type: String,
    pub respin_of: Option<String>,
    pub time_to_expire: NaiveDateTime,
    pub time_submitted: NaiveDateTime,
}

/// The filters of `GET /api/1/composes/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OdcsFilter {
    pub owner: Option<String>,
    pub source_type: Option<i32>,
    pub source: Option<String>,
    pub state: Option<i32>,
    pub compose_type: Option<String>,
    pub label: Option<String>,
}

/// The orders ODCS accepts, by column; descending when `descending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdcsOrder {
    pub column: OdcsOrderColumn,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdcsOrderColumn {
    Id,
    Owner,
    KojiEvent,
    State,
    TimeToExpire,
    TimeSubmitted,
    TimeDone,
    TimeRemoved,
}

impl OdcsOrderColumn {
    pub fn parse(name: &str) -> Option<OdcsOrderColumn> {
        Some(match name {
            "id" => OdcsOrderColumn::Id,
            "owner" => OdcsOrderColumn::Owner,
            "koji_event" => OdcsOrderColumn::KojiEvent,
            "state" => OdcsOrderColumn::State,
            "time_to_expire" => OdcsOrderColumn::TimeToExpire,
            "time_submitted" => OdcsOrderColumn::TimeSubmitted,
            "time_done" => OdcsOrderColumn::TimeDone,
            "time_removed" => OdcsOrderColumn::TimeRemoved,
            _ => return None,
        })
    }
}

type Boxed<'a> = odcs_composes::BoxedQuery<'a, MultiBackend>;

impl OdcsFilter {
    fn query(&self) -> Boxed<'_> {
        use odcs_composes as c;
        let mut q = c::table.into_boxed();
        if let Some(owner) = &self.owner {
            q = q.filter(c::owner.eq(owner));
        }
        if let Some(source_type) = self.source_type {
            q = q.filter(c::source_type.eq(source_type));
        }
        if let Some(source) = &self.source {
            q = q.filter(c::source.eq(source));
        }
        if let Some(state) = self.state {
            q = q.filter(c::state.eq(state));
        }
        if let Some(compose_type) = &self.compose_type {
            q = q.filter(c::compose_type.eq(compose_type));
        }
        if let Some(label) = &self.label {
            q = q.filter(c::label.eq(label));
        }
        q
    }
}

fn ordered(q: Boxed<'_>, order: OdcsOrder) -> Boxed<'_> {
    use OdcsOrderColumn as O;
    use odcs_composes as c;
    let q = match (order.column, order.descending) {
        (O::Id, false) => q.order(c::id.asc()),
        (O::Id, true) => q.order(c::id.desc()),
        (O::Owner, false) => q.order(c::owner.asc()),
        (O::Owner, true) => q.order(c::owner.desc()),
        (O::KojiEvent, false) => q.order(c::koji_event.asc()),
        (O::KojiEvent, true) => q.order(c::koji_event.desc()),
        (O::State, false) => q.order(c::state.asc()),
        (O::State, true) => q.order(c::state.desc()),
        (O::TimeToExpire, false) => q.order(c::time_to_expire.asc()),
        (O::TimeToExpire, true) => q.order(c::time_to_expire.desc()),
        (O::TimeSubmitted, false) => q.order(c::time_submitted.asc()),
        (O::TimeSubmitted, true) => q.order(c::time_submitted.desc()),
        (O::TimeDone, false) => q.order(c::time_done.asc()),
        (O::TimeDone, true) => q.order(c::time_done.desc()),
        (O::TimeRemoved, false) => q.order(c::time_removed.asc()),
        (O::TimeRemoved, true) => q.order(c::time_removed.desc()),
    };
    // Ties in the other columns keep a stable page order.
    q.then_order_by(c::id.desc())
}

impl OdcsCompose {
    pub fn insert(conn: &mut DbConnection, new: &NewOdcsCompose) -> QueryResult<OdcsCompose> {
        diesel::insert_into(odcs_composes::table)
            .values(new)
            .returning(odcs_composes::all_columns)
            .get_result(conn)
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Option<OdcsCompose>> {
        odcs_composes::table
            .find(id)
            .select(OdcsCompose::as_select())
            .first(conn)
            .optional()
    }

    /// Writes every column of the row back.
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(odcs_composes::table.find(self.id))
            .set(self)
            .execute(conn)
            .map(drop)
    }

    /// One page of the composes the filter matches, and how many it matches in all.
    pub fn page(
        conn: &mut DbConnection,
        filter: &OdcsFilter,
        order: OdcsOrder,
        page: i64,
        per_page: i64,
    ) -> QueryResult<(Vec<OdcsCompose>, i64)> {
        let total: i64 = filter.query().count().get_result(conn)?;
        let items = ordered(filter.query(), order)
            .select(OdcsCompose::as_select())
            .limit(per_page)
            .offset((page - 1).max(0) * per_page)
            .load(conn)?;
        Ok((items, total))
    }

    /// Composes an earlier compose of the same source could be reused from, in ODCS's order:
    /// done ones newest first, then generating ones oldest first; none of them a reuse.
    pub fn reuse_candidates(
        conn: &mut DbConnection,
        of: &OdcsCompose,
    ) -> QueryResult<Vec<OdcsCompose>> {
        use odcs_composes as c;
        let base = || {
            c::table
                .filter(c::source_type.eq(of.source_type))
                .filter(c::source.eq(&of.source))
                .filter(c::id.lt(of.id))
                .filter(c::reused_id.is_null())
                .select(OdcsCompose::as_select())
        };
        let mut candidates = base()
            .filter(c::state.eq(DONE))
            .order(c::id.desc())
            .load(conn)?;
        candidates.extend(
            base()
                .filter(c::state.eq(GENERATING))
                .order(c::id.asc())
                .load(conn)?,
        );
        Ok(candidates)
    }

    /// The composes that reuse this one.
    pub fn reusing(conn: &mut DbConnection, id: i32) -> QueryResult<Vec<OdcsCompose>> {
        odcs_composes::table
            .filter(odcs_composes::reused_id.eq(id))
            .order(odcs_composes::id.asc())
            .select(OdcsCompose::as_select())
            .load(conn)
    }

    /// Done or failed composes whose time ran out before `now`, oldest expiry first.
    pub fn expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<OdcsCompose>> {
        odcs_composes::table
            .filter(odcs_composes::state.eq_any([DONE, FAILED]))
            .filter(odcs_composes::time_to_expire.lt(now))
            .order(odcs_composes::time_to_expire.asc())
            .select(OdcsCompose::as_select())
            .load(conn)
    }

    /// The composes waiting for or in generation that generate themselves (not followers
    /// of another compose's generation).
    pub fn generating_themselves(conn: &mut DbConnection) -> QueryResult<Vec<OdcsCompose>> {
        odcs_composes::table
            .filter(odcs_composes::state.eq_any([WAIT, GENERATING]))
            .filter(odcs_composes::reused_id.is_null())
            .order(odcs_composes::id.asc())
            .select(OdcsCompose::as_select())
            .load(conn)
    }

    /// Whether any compose not yet removed still uses the directory of `id` (it, or a
    /// compose reusing it).
    pub fn directory_in_use(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
        use odcs_composes as c;
        let users: i64 = c::table
            .filter(c::id.eq(id).or(c::reused_id.eq(id)))
            .filter(c::state.ne(REMOVED))
            .count()
            .get_result(conn)?;
        Ok(users > 0)
    }
}
