//! The local build system: Koji's data model (events, tags with inheritance, builds, RPM files,
//! tag history) kept in Pipal's own database, with the RPM files under a top directory laid
//! out like Koji's (`packages/<name>/<version>/<release>/<arch>/`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::db::{Db, DbConnection, write_transaction};
use crate::models::buildsys::{BuildsysBuild, Event, Rpm, Tag, TagListing};
use crate::models::now;

use super::{
    BuildInfo, BuildSystem, BuildsysError, BuildsysResult, ChangelogEntry, ListTaggedOptions,
    RpmInfo, SourceHeader, TagInfo, TagOp, TaggedBuild,
};

#[derive(Clone)]
pub struct LocalBuildSystem {
    db: Db,
    root: PathBuf,
}

impl LocalBuildSystem {
    pub fn new(db: Db, root: impl Into<PathBuf>) -> Self {
        LocalBuildSystem {
            db,
            root: root.into(),
        }
    }

    /// The top directory (Koji's `topdir`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn conn(&self) -> BuildsysResult<crate::db::PooledDb> {
        self.db
            .conn()
            .map_err(|e| BuildsysError::Unavailable(e.to_string()))
    }

    /// The source RPM of a build under the top directory, where `pipal buildsys import` put
    /// it; None when the build came without one.
    fn source_rpm(&self, nvr: &str) -> BuildsysResult<Option<PathBuf>> {
        let mut conn = self.conn()?;
        let build = existing_build(&mut conn, nvr)?;
        let path = self.root.join(format!(
            "packages/{}/{}/{}/src/{nvr}.src.rpm",
            build.package_name, build.version, build.release
        ));
        Ok(path.is_file().then_some(path))
    }

    /// Creates a tag with optional parents (in priority order); errors if it exists.
    pub fn create_tag(
        &self,
        name: &str,
        parents: &[String],
        arches: Option<&str>,
        extra: &serde_json::Value,
    ) -> BuildsysResult<TagInfo> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| {
            create_tag_row(conn, name, parents, arches, extra)
        })
    }

    /// Creates the tag unless it exists; true if it was created.
    pub fn ensure_tag(&self, name: &str) -> BuildsysResult<bool> {
        match self.create_tag(name, &[], None, &serde_json::json!({})) {
            Ok(_) => Ok(true),
            Err(BuildsysError::TagExists(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every tag, by name.
    pub fn all_tags(&self) -> BuildsysResult<Vec<TagInfo>> {
        let mut conn = self.conn()?;
        Ok(Tag::list(&mut conn)?.into_iter().map(tag_info).collect())
    }

    /// The tag history of a build: (tag, tagged at event, untagged at event).
    pub fn tag_history(&self, nvr: &str) -> BuildsysResult<Vec<(String, i32, Option<i32>)>> {
        let mut conn = self.conn()?;
        let build = existing_build(&mut conn, nvr)?;
        Ok(TagListing::history_of_build(&mut conn, build.id)?
            .into_iter()
            .map(|(listing, tag)| (tag, listing.create_event, listing.revoke_event))
            .collect())
    }

    /// Builds tagged into `tag` (not inherited) at or before `cutoff`: what a signer that
    /// takes `now - cutoff` to sign would have finished.
    pub fn tagged_before(
        &self,
        tag: &str,
        cutoff: chrono::NaiveDateTime,
    ) -> BuildsysResult<Vec<String>> {
        use crate::db::schema::{buildsys_builds, buildsys_events, buildsys_tag_listing};
        use diesel::prelude::*;
        let mut conn = self.conn()?;
        let Some(tag) = Tag::by_name(&mut conn, tag)? else {
            return Err(BuildsysError::NoSuchTag(tag.to_owned()));
        };
        Ok(buildsys_tag_listing::table
            .inner_join(buildsys_builds::table)
            .inner_join(
                buildsys_events::table
                    .on(buildsys_events::id.eq(buildsys_tag_listing::create_event)),
            )
            .filter(buildsys_tag_listing::tag_id.eq(tag.id))
            .filter(buildsys_tag_listing::revoke_event.is_null())
            .filter(buildsys_events::ts.le(cutoff))
            .order(buildsys_tag_listing::create_event.asc())
            .select(buildsys_builds::nvr)
            .load(&mut conn)?)
    }

    /// The tag and its ancestors in Koji's inheritance order: depth first, parents by
    /// priority, each tag once.
    fn inheritance_chain(conn: &mut DbConnection, tag: &Tag) -> BuildsysResult<Vec<Tag>> {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![tag.clone()];
        while let Some(current) = stack.pop() {
            if !seen.insert(current.id) {
                continue;
            }
            let parents = Tag::parents(conn, current.id)?;
            order.push(current);
            for link in parents.into_iter().rev() {
                if !seen.contains(&link.parent_id) {
                    stack.push(Tag::by_id(conn, link.parent_id)?);
                }
            }
        }
        Ok(order)
    }
}

fn validate_tag_name(name: &str) -> BuildsysResult<()> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
    if valid {
        Ok(())
    } else {
        Err(BuildsysError::Invalid(format!(
            "invalid tag name `{name}`: use letters, digits, `.`, `_`, `-` or `+`"
        )))
    }
}

fn existing_build(conn: &mut DbConnection, nvr: &str) -> BuildsysResult<BuildsysBuild> {
    BuildsysBuild::by_nvr(conn, nvr)?.ok_or_else(|| BuildsysError::NoSuchBuild(nvr.to_owned()))
}

fn existing_tag(conn: &mut DbConnection, name: &str) -> BuildsysResult<Tag> {
    Tag::by_name(conn, name)?.ok_or_else(|| BuildsysError::NoSuchTag(name.to_owned()))
}

fn parse_extra(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::json!({}))
}

pub(crate) fn build_info(build: BuildsysBuild) -> BuildInfo {
    BuildInfo {
        id: build.id,
        name: build.package_name.clone(),
        package_name: build.package_name,
        version: build.version,
        release: build.release,
        epoch: build.epoch,
        nvr: build.nvr,
        owner_name: build.owner_name,
        state: build.state,
        task_id: build.task_id,
        creation_event_id: build.creation_event,
        creation_time: build.creation_time,
        completion_time: build.completion_time,
        source: build.source,
        extra: parse_extra(&build.extra),
    }
}

fn tag_info(tag: Tag) -> TagInfo {
    TagInfo {
        id: tag.id,
        name: tag.name,
        arches: tag.arches,
        perm: tag.perm,
        locked: tag.locked,
        extra: parse_extra(&tag.extra),
    }
}

impl BuildSystem for LocalBuildSystem {
    fn get_build(&self, nvr: &str) -> BuildsysResult<Option<BuildInfo>> {
        let mut conn = self.conn()?;
        Ok(BuildsysBuild::by_nvr(&mut conn, nvr)?.map(build_info))
    }

    fn get_tag(&self, name: &str) -> BuildsysResult<Option<TagInfo>> {
        let mut conn = self.conn()?;
        Ok(Tag::by_name(&mut conn, name)?.map(tag_info))
    }

    fn full_inheritance(&self, tag: &str) -> BuildsysResult<Vec<String>> {
        let mut conn = self.conn()?;
        let tag = existing_tag(&mut conn, tag)?;
        Ok(Self::inheritance_chain(&mut conn, &tag)?
            .into_iter()
            .skip(1)
            .map(|t| t.name)
            .collect())
    }

    fn last_event(&self) -> BuildsysResult<i32> {
        let mut conn = self.conn()?;
        Ok(Event::last(&mut conn)?.map_or(0, |event| event.id))
    }

    fn tag_changed_since_event(&self, event: i32, tags: &[String]) -> BuildsysResult<bool> {
        let mut conn = self.conn()?;
        let mut ids = Vec::with_capacity(tags.len());
        for name in tags {
            let tag = existing_tag(&mut conn, name)?;
            if tag.create_event > event {
                return Ok(true);
            }
            ids.push(tag.id);
        }
        Ok(TagListing::changed_since(&mut conn, &ids, event)?)
    }

    fn list_tags(&self, nvr: &str) -> BuildsysResult<Vec<TagInfo>> {
        let mut conn = self.conn()?;
        let build = existing_build(&mut conn, nvr)?;
        Ok(TagListing::tags_of_build(&mut conn, build.id)?
            .into_iter()
            .map(tag_info)
            .collect())
    }

    fn list_tagged(
        &self,
        tag: &str,
        options: &ListTaggedOptions<'_>,
    ) -> BuildsysResult<Vec<TaggedBuild>> {
        let mut conn = self.conn()?;
        let tag = existing_tag(&mut conn, tag)?;
        let chain = if options.inherit {
            Self::inheritance_chain(&mut conn, &tag)?
        } else {
            vec![tag]
        };
        let listings =
            TagListing::active_in_tags(&mut conn, &chain.iter().map(|t| t.id).collect::<Vec<_>>())?;
        let mut seen_builds = HashSet::new();
        let mut seen_packages = HashSet::new();
        let mut result = Vec::new();
        // Tags in inheritance order; within a tag, the most recently tagged first.
        for tag in &chain {
            for (listing, build) in listings.iter().filter(|(l, _)| l.tag_id == tag.id) {
                if options.package.is_some_and(|p| p != build.package_name) {
                    continue;
                }
                if options
                    .prefix
                    .is_some_and(|p| !build.package_name.starts_with(p))
                {
                    continue;
                }
                if !seen_builds.insert(build.id) {
                    continue;
                }
                if options.latest && !seen_packages.insert(build.package_name.clone()) {
                    continue;
                }
                result.push(TaggedBuild {
                    build: build_info(build.clone()),
                    tag_id: tag.id,
                    tag_name: tag.name.clone(),
                    create_event: listing.create_event,
                });
            }
        }
        Ok(result)
    }

    fn list_build_rpms(&self, nvr: &str) -> BuildsysResult<Vec<RpmInfo>> {
        let mut conn = self.conn()?;
        let build = existing_build(&mut conn, nvr)?;
        Ok(Rpm::for_build(&mut conn, build.id)?
            .into_iter()
            .map(|rpm| RpmInfo {
                id: rpm.id,
                build_id: rpm.build_id,
                name: rpm.name,
                version: rpm.version,
                release: rpm.release,
                epoch: rpm.epoch,
                arch: rpm.arch,
                size: rpm.size,
                payloadhash: rpm.payloadhash,
                buildtime: rpm.buildtime,
            })
            .collect())
    }

    fn create_tag_under(&self, name: &str, parent: &str, perm: Option<&str>) -> BuildsysResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| create_tag_in(conn, name, parent, perm))
    }

    fn delete_tag(&self, name: &str) -> BuildsysResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| {
            let tag = existing_tag(conn, name)?;
            Ok(Tag::delete(conn, tag.id)?)
        })
    }

    fn changelog(&self, nvr: &str) -> BuildsysResult<Vec<ChangelogEntry>> {
        match self.source_rpm(nvr)? {
            Some(path) => {
                super::rpmfile::RpmHeader::changelog(&path).map_err(BuildsysError::Invalid)
            }
            None => Ok(Vec::new()),
        }
    }

    fn source_header(&self, nvr: &str) -> BuildsysResult<SourceHeader> {
        match self.source_rpm(nvr)? {
            Some(path) => {
                super::rpmfile::RpmHeader::source_header(&path).map_err(BuildsysError::Invalid)
            }
            None => Ok(SourceHeader::default()),
        }
    }

    fn list_side_tags(&self, user: Option<&str>) -> BuildsysResult<Vec<TagInfo>> {
        let mut conn = self.conn()?;
        Ok(Tag::list(&mut conn)?
            .into_iter()
            .map(tag_info)
            .filter(|t| t.extra.get("sidetag").and_then(|v| v.as_bool()) == Some(true))
            .filter(|t| {
                user.is_none_or(|u| t.extra.get("sidetag_user").and_then(|v| v.as_str()) == Some(u))
            })
            .collect())
    }

    fn tag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| tag_in(conn, tag, nvr, who))
    }

    fn untag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| untag_in(conn, tag, nvr, who))
    }

    /// Atomic, as Koji's moveBuild task is.
    fn move_build(&self, from: &str, to: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| {
            apply_in(
                conn,
                &TagOp::Move {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    nvr: nvr.to_owned(),
                },
                who,
            )
        })
    }

    /// One transaction for the whole batch (a push moves thousands of builds), each operation
    /// in a savepoint of its own so that one failure leaves the others done.
    fn apply_batch(&self, ops: &[TagOp], who: &str) -> Vec<BuildsysResult<()>> {
        let mut results = Vec::with_capacity(ops.len());
        let outcome = self.conn().and_then(|mut conn| {
            write_transaction(&mut conn, |conn| -> BuildsysResult<()> {
                for op in ops {
                    results.push(write_transaction(conn, |conn| apply_in(conn, op, who)));
                }
                Ok(())
            })
        });
        match outcome {
            Ok(()) => results,
            Err(error) => ops
                .iter()
                .map(|_| Err(BuildsysError::Unavailable(error.to_string())))
                .collect(),
        }
    }
}

fn tag_in(conn: &mut DbConnection, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
    let tag = existing_tag(conn, tag)?;
    let build = existing_build(conn, nvr)?;
    if TagListing::active(conn, tag.id, build.id)?.is_some() {
        return Err(BuildsysError::AlreadyTagged {
            nvr: build.nvr,
            tag: tag.name,
        });
    }
    let event = Event::create(conn, now())?;
    TagListing::create(conn, tag.id, build.id, event.id, Some(who))?;
    Ok(())
}

fn untag_in(conn: &mut DbConnection, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
    let tag = existing_tag(conn, tag)?;
    let build = existing_build(conn, nvr)?;
    let listing =
        TagListing::active(conn, tag.id, build.id)?.ok_or_else(|| BuildsysError::NotTagged {
            nvr: build.nvr.clone(),
            tag: tag.name.clone(),
        })?;
    let event = Event::create(conn, now())?;
    TagListing::revoke(conn, listing.id, event.id, Some(who))?;
    Ok(())
}

/// One operation inside the caller's transaction.
fn apply_in(conn: &mut DbConnection, op: &TagOp, who: &str) -> BuildsysResult<()> {
    match op {
        TagOp::Tag { tag, nvr } => tag_in(conn, tag, nvr, who),
        TagOp::Untag { tag, nvr } => untag_in(conn, tag, nvr, who),
        TagOp::Move { from, to, nvr } => {
            untag_in(conn, from, nvr, who)?;
            tag_in(conn, to, nvr, who)
        }
        TagOp::CreateTag { name, parent, perm } => {
            create_tag_in(conn, name, parent, perm.as_deref())
        }
        TagOp::DeleteTag { name } => {
            let tag = existing_tag(conn, name)?;
            Ok(Tag::delete(conn, tag.id)?)
        }
    }
}

fn create_tag_row(
    conn: &mut DbConnection,
    name: &str,
    parents: &[String],
    arches: Option<&str>,
    extra: &serde_json::Value,
) -> BuildsysResult<TagInfo> {
    validate_tag_name(name)?;
    if Tag::by_name(conn, name)?.is_some() {
        return Err(BuildsysError::TagExists(name.to_owned()));
    }
    let event = Event::create(conn, now())?;
    let tag = Tag::create(conn, name, arches, &extra.to_string(), event.id)?;
    for (index, parent) in parents.iter().enumerate() {
        let parent =
            Tag::by_name(conn, parent)?.ok_or_else(|| BuildsysError::NoSuchTag(parent.clone()))?;
        Tag::add_parent(conn, tag.id, parent.id, index as i32 * 10)?;
    }
    Ok(tag_info(tag))
}

fn create_tag_in(
    conn: &mut DbConnection,
    name: &str,
    parent: &str,
    perm: Option<&str>,
) -> BuildsysResult<()> {
    let created = create_tag_row(
        conn,
        name,
        &[parent.to_owned()],
        None,
        &serde_json::json!({}),
    )?;
    if perm.is_some() {
        Tag::set_perm(conn, created.id, perm)?;
    }
    Ok(())
}
