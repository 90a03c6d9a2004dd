//! Tables of the local build system: Koji-style events, tags with inheritance, builds, their
//! RPM files and the tag history. The behaviour (latest builds, inheritance walks) is in
//! `crate::buildsys::local`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{
    buildsys_builds, buildsys_events, buildsys_rpm_signatures, buildsys_rpms,
    buildsys_tag_inheritance, buildsys_tag_listing, buildsys_tags,
};

/// Koji's build states.
pub const BUILD_STATE_BUILDING: i32 = 0;
pub const BUILD_STATE_COMPLETE: i32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildsys_events)]
pub struct Event {
    pub id: i32,
    pub ts: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildsys_tags)]
pub struct Tag {
    pub id: i32,
    pub name: String,
    pub arches: Option<String>,
    pub perm: Option<String>,
    pub locked: bool,
    /// JSON object (Koji's tag `extra`).
    pub extra: String,
    pub create_event: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildsys_tag_inheritance)]
pub struct TagInheritance {
    pub id: i32,
    pub tag_id: i32,
    pub parent_id: i32,
    pub priority: i32,
    pub maxdepth: Option<i32>,
    pub intransitive: bool,
    pub noconfig: bool,
    pub pkg_filter: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildsys_builds)]
pub struct BuildsysBuild {
    pub id: i32,
    pub package_name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i32>,
    pub nvr: String,
    pub owner_name: String,
    pub state: i32,
    pub task_id: Option<i32>,
    pub creation_event: i32,
    pub creation_time: NaiveDateTime,
    pub completion_time: Option<NaiveDateTime>,
    pub source: Option<String>,
    /// JSON object (Koji's build `extra`, e.g. `typeinfo`).
    pub extra: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = buildsys_builds)]
pub struct NewBuildsysBuild<'a> {
    pub package_name: &'a str,
    pub version: &'a str,
    pub release: &'a str,
    pub epoch: Option<i32>,
    pub nvr: &'a str,
    pub owner_name: &'a str,
    pub state: i32,
    pub task_id: Option<i32>,
    pub creation_event: i32,
    pub creation_time: NaiveDateTime,
    pub completion_time: Option<NaiveDateTime>,
    pub source: Option<&'a str>,
    pub extra: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildsys_rpms)]
pub struct Rpm {
    pub id: i32,
    pub build_id: i32,
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i32>,
    pub arch: String,
    pub size: i64,
    pub payloadhash: String,
    pub buildtime: i64,
    /// Relative to the build system's top directory.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = buildsys_rpms)]
pub struct NewRpm<'a> {
    pub build_id: i32,
    pub name: &'a str,
    pub version: &'a str,
    pub release: &'a str,
    pub epoch: Option<i32>,
    pub arch: &'a str,
    pub size: i64,
    pub payloadhash: &'a str,
    pub buildtime: i64,
    pub path: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildsys_tag_listing)]
pub struct TagListing {
    pub id: i32,
    pub tag_id: i32,
    pub build_id: i32,
    pub create_event: i32,
    pub revoke_event: Option<i32>,
    pub creator: Option<String>,
    pub revoker: Option<String>,
}

impl Event {
    /// A new event id, as every change of tag contents gets in Koji.
    pub fn create(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Event> {
        diesel::insert_into(buildsys_events::table)
            .values(buildsys_events::ts.eq(now))
            .returning(buildsys_events::all_columns)
            .get_result(conn)
    }

    pub fn last(conn: &mut DbConnection) -> QueryResult<Option<Event>> {
        buildsys_events::table
            .order(buildsys_events::id.desc())
            .select(Event::as_select())
            .first(conn)
            .optional()
    }
}

impl Tag {
    pub fn create(
        conn: &mut DbConnection,
        name: &str,
        arches: Option<&str>,
        extra: &str,
        event: i32,
    ) -> QueryResult<Tag> {
        diesel::insert_into(buildsys_tags::table)
            .values((
                buildsys_tags::name.eq(name),
                buildsys_tags::arches.eq(arches),
                buildsys_tags::extra.eq(extra),
                buildsys_tags::create_event.eq(event),
            ))
            .returning(buildsys_tags::all_columns)
            .get_result(conn)
    }

    pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Tag>> {
        buildsys_tags::table
            .filter(buildsys_tags::name.eq(name))
            .select(Tag::as_select())
            .first(conn)
            .optional()
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Tag> {
        buildsys_tags::table
            .find(id)
            .select(Tag::as_select())
            .first(conn)
    }

    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Tag>> {
        buildsys_tags::table
            .order(buildsys_tags::name.asc())
            .select(Tag::as_select())
            .load(conn)
    }

    pub fn set_perm(conn: &mut DbConnection, id: i32, perm: Option<&str>) -> QueryResult<()> {
        diesel::update(buildsys_tags::table.find(id))
            .set(buildsys_tags::perm.eq(perm))
            .execute(conn)
            .map(drop)
    }

    /// Deletes a tag with its listings and its place in inheritance (Koji's `deleteTag`).
    pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
        diesel::delete(buildsys_tag_listing::table.filter(buildsys_tag_listing::tag_id.eq(id)))
            .execute(conn)?;
        diesel::delete(
            buildsys_tag_inheritance::table.filter(
                buildsys_tag_inheritance::tag_id
                    .eq(id)
                    .or(buildsys_tag_inheritance::parent_id.eq(id)),
            ),
        )
        .execute(conn)?;
        diesel::delete(buildsys_tags::table.find(id))
            .execute(conn)
            .map(drop)
    }

    pub fn set_extra(conn: &mut DbConnection, id: i32, extra: &str) -> QueryResult<()> {
        diesel::update(buildsys_tags::table.find(id))
            .set(buildsys_tags::extra.eq(extra))
            .execute(conn)
            .map(drop)
    }

    /// Makes `parent_id` a parent of `tag_id` (or changes its priority); false if unchanged.
    pub fn add_parent(
        conn: &mut DbConnection,
        tag_id: i32,
        parent_id: i32,
        priority: i32,
    ) -> QueryResult<bool> {
        let existing: Option<TagInheritance> = buildsys_tag_inheritance::table
            .filter(buildsys_tag_inheritance::tag_id.eq(tag_id))
            .filter(buildsys_tag_inheritance::parent_id.eq(parent_id))
            .select(TagInheritance::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(link) if link.priority == priority => Ok(false),
            Some(link) => {
                diesel::update(buildsys_tag_inheritance::table.find(link.id))
                    .set(buildsys_tag_inheritance::priority.eq(priority))
                    .execute(conn)?;
                Ok(true)
            }
            None => {
                diesel::insert_into(buildsys_tag_inheritance::table)
                    .values((
                        buildsys_tag_inheritance::tag_id.eq(tag_id),
                        buildsys_tag_inheritance::parent_id.eq(parent_id),
                        buildsys_tag_inheritance::priority.eq(priority),
                    ))
                    .execute(conn)?;
                Ok(true)
            }
        }
    }

    /// The direct parents of a tag, by priority.
    pub fn parents(conn: &mut DbConnection, tag_id: i32) -> QueryResult<Vec<TagInheritance>> {
        buildsys_tag_inheritance::table
            .filter(buildsys_tag_inheritance::tag_id.eq(tag_id))
            .order((
                buildsys_tag_inheritance::priority.asc(),
                buildsys_tag_inheritance::id.asc(),
            ))
            .select(TagInheritance::as_select())
            .load(conn)
    }
}

impl BuildsysBuild {
    pub fn create(
        conn: &mut DbConnection,
        new: &NewBuildsysBuild<'_>,
    ) -> QueryResult<BuildsysBuild> {
        diesel::insert_into(buildsys_builds::table)
            .values(new)
            .returning(buildsys_builds::all_columns)
            .get_result(conn)
    }

    pub fn by_nvr(conn: &mut DbConnection, nvr: &str) -> QueryResult<Option<BuildsysBuild>> {
        buildsys_builds::table
            .filter(buildsys_builds::nvr.eq(nvr))
            .select(BuildsysBuild::as_select())
            .first(conn)
            .optional()
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Option<BuildsysBuild>> {
        buildsys_builds::table
            .find(id)
            .select(BuildsysBuild::as_select())
            .first(conn)
            .optional()
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        buildsys_builds::table.count().get_result(conn)
    }
}

impl Rpm {
    pub fn create(conn: &mut DbConnection, new: &NewRpm<'_>) -> QueryResult<Rpm> {
        diesel::insert_into(buildsys_rpms::table)
            .values(new)
            .returning(buildsys_rpms::all_columns)
            .get_result(conn)
    }

    /// The RPM files of a build, ordered by name then arch.
    pub fn for_build(conn: &mut DbConnection, build_id: i32) -> QueryResult<Vec<Rpm>> {
        buildsys_rpms::table
            .filter(buildsys_rpms::build_id.eq(build_id))
            .order((buildsys_rpms::name.asc(), buildsys_rpms::arch.asc()))
            .select(Rpm::as_select())
            .load(conn)
    }

    pub fn add_signature(conn: &mut DbConnection, rpm_id: i32, sigkey: &str) -> QueryResult<bool> {
        let existing: i64 = buildsys_rpm_signatures::table
            .filter(buildsys_rpm_signatures::rpm_id.eq(rpm_id))
            .filter(buildsys_rpm_signatures::sigkey.eq(sigkey))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(false);
        }
        diesel::insert_into(buildsys_rpm_signatures::table)
            .values((
                buildsys_rpm_signatures::rpm_id.eq(rpm_id),
                buildsys_rpm_signatures::sigkey.eq(sigkey),
            ))
            .execute(conn)?;
        Ok(true)
    }

    pub fn signatures(conn: &mut DbConnection, rpm_id: i32) -> QueryResult<Vec<String>> {
        buildsys_rpm_signatures::table
            .filter(buildsys_rpm_signatures::rpm_id.eq(rpm_id))
            .order(buildsys_rpm_signatures::sigkey.asc())
            .select(buildsys_rpm_signatures::sigkey)
            .load(conn)
    }
}

impl TagListing {
    /// Whether a build was tagged into or untagged from any of `tag_ids` after `event`.
    pub fn changed_since(
        conn: &mut DbConnection,
        tag_ids: &[i32],
        event: i32,
    ) -> QueryResult<bool> {
        use buildsys_tag_listing as l;
        let changes: i64 = l::table
            .filter(l::tag_id.eq_any(tag_ids))
            .filter(l::create_event.gt(event).or(l::revoke_event.gt(event)))
            .count()
            .get_result(conn)?;
        Ok(changes > 0)
    }

    /// The active listing of a build in a tag, if the build is tagged there.
    pub fn active(
        conn: &mut DbConnection,
        tag_id: i32,
        build_id: i32,
    ) -> QueryResult<Option<TagListing>> {
        buildsys_tag_listing::table
            .filter(buildsys_tag_listing::tag_id.eq(tag_id))
            .filter(buildsys_tag_listing::build_id.eq(build_id))
            .filter(buildsys_tag_listing::revoke_event.is_null())
            .select(TagListing::as_select())
            .first(conn)
            .optional()
    }

    pub fn create(
        conn: &mut DbConnection,
        tag_id: i32,
        build_id: i32,
        event: i32,
        creator: Option<&str>,
    ) -> QueryResult<TagListing> {
        diesel::insert_into(buildsys_tag_listing::table)
            .values((
                buildsys_tag_listing::tag_id.eq(tag_id),
                buildsys_tag_listing::build_id.eq(build_id),
                buildsys_tag_listing::create_event.eq(event),
                buildsys_tag_listing::creator.eq(creator),
            ))
            .returning(buildsys_tag_listing::all_columns)
            .get_result(conn)
    }

    pub fn revoke(
        conn: &mut DbConnection,
        id: i32,
        event: i32,
        revoker: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(buildsys_tag_listing::table.find(id))
            .set((
                buildsys_tag_listing::revoke_event.eq(Some(event)),
                buildsys_tag_listing::revoker.eq(revoker),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The builds tagged in the given tags now, with their listings, newest tagging first.
    pub fn active_in_tags(
        conn: &mut DbConnection,
        tag_ids: &[i32],
    ) -> QueryResult<Vec<(TagListing, BuildsysBuild)>> {
        buildsys_tag_listing::table
            .inner_join(buildsys_builds::table)
            .filter(buildsys_tag_listing::tag_id.eq_any(tag_ids))
            .filter(buildsys_tag_listing::revoke_event.is_null())
            .order((
                buildsys_tag_listing::create_event.desc(),
                buildsys_tag_listing::id.desc(),
            ))
            .select((TagListing::as_select(), BuildsysBuild::as_select()))
            .load(conn)
    }

    /// The tags a build is in now, by name.
    pub fn tags_of_build(conn: &mut DbConnection, build_id: i32) -> QueryResult<Vec<Tag>> {
        buildsys_tag_listing::table
            .inner_join(buildsys_tags::table)
            .filter(buildsys_tag_listing::build_id.eq(build_id))
            .filter(buildsys_tag_listing::revoke_event.is_null())
            .order(buildsys_tags::name.asc())
            .select(Tag::as_select())
            .load(conn)
    }

    /// Every listing of a build, in event order (its tag history).
    pub fn history_of_build(
        conn: &mut DbConnection,
        build_id: i32,
    ) -> QueryResult<Vec<(TagListing, String)>> {
        buildsys_tag_listing::table
            .inner_join(buildsys_tags::table)
            .filter(buildsys_tag_listing::build_id.eq(build_id))
            .order(buildsys_tag_listing::create_event.asc())
            .select((TagListing::as_select(), buildsys_tags::name))
            .load(conn)
    }
}
