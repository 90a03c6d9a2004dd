//! Creating and editing updates (spec §2.8): builds checked against the build system and
//! split per release, the karma and days floors with their caveats, the karma-reset comment
//! when builds change, and the tags that follow.

use diesel::prelude::*;

use crate::buildsys::BuildSystem;
use crate::db::DbConnection;
use crate::db::schema::{builds, update_bugs};
use crate::db::types::{
    ContentType, UpdateRequest, UpdateSeverity, UpdateStatus, UpdateSuggestion, UpdateType,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::bug::Bug;
use crate::models::build::{Build, NewBuild};
use crate::models::overrides::BuildrootOverride;
use crate::models::package::Package;
use crate::models::release::Release;
use crate::models::update::{NewUpdate, Update, new_alias};
use crate::services::accounts::CurrentUser;
use crate::services::messages::{self, KojiBuildRef};
use crate::services::requirements::{mandatory_days, min_karma};
use crate::services::{critpath, permissions};

use super::comments::system_comment;
use super::requests::{self, tag_all, untag_known};
use super::{Caveat, Ctx, builds_of, known_tags, release_from_tags, release_of};
use crate::services::tagging::TagOp;

/// The fields of `POST /updates/` (spec §3.4), already parsed.
#[derive(Debug, Clone)]
pub struct UpdateForm {
    pub builds: Vec<String>,
    pub from_tag: Option<String>,
    pub bugs: Vec<i32>,
    pub display_name: String,
    pub close_bugs: bool,
    pub update_type: UpdateType,
    pub severity: UpdateSeverity,
    pub notes: String,
    pub autokarma: bool,
    pub stable_karma: i32,
    pub unstable_karma: i32,
    pub suggest: UpdateSuggestion,
    pub edited: Option<String>,
    pub require_bugs: bool,
    pub require_testcases: bool,
    pub autotime: bool,
    pub stable_days: i32,
}

/// A build the build system knows, with what the update needs of it.
#[derive(Debug, Clone)]
pub struct CheckedBuild {
    pub nvr: String,
    /// The build system's build id, and the task that built it.
    pub build_id: i32,
    pub task_id: Option<i32>,
    pub name: String,
    pub content_type: ContentType,
    pub epoch: Option<i32>,
    pub release: Release,
}

/// The agent of ready-for-testing messages Pipal sends by itself (Bodhi's).
const SYSTEM_AGENT: &str = "bodhi";

fn koji_ref(build: &CheckedBuild) -> KojiBuildRef {
    KojiBuildRef {
        nvr: build.nvr.clone(),
        id: build.build_id,
        task_id: build.task_id,
    }
}

/// Python's repr of a list of strings, as Bodhi's messages show it.
pub fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

fn builds_error(description: impl Into<String>) -> AppError {
    AppError::invalid("body", "builds", description)
}

/// Bodhi's content type inference from Koji's build `extra`.
pub fn infer_content_type(nvr: &str, extra: &serde_json::Value) -> AppResult<ContentType> {
    let typeinfo = extra.get("typeinfo");
    if typeinfo.and_then(|t| t.get("module")).is_some() {
        return Ok(ContentType::Module);
    }
    if let Some(image) = typeinfo.and_then(|t| t.get("image")) {
        if image.get("index").and_then(|i| i.get("pull")).is_none() {
            return Err(builds_error(format!(
                "Unable to infer content_type.  'Image build {nvr} cannot be used for update, it \
                 has no pull specs'"
            )));
        }
        return Ok(if image.get("flatpak").is_some() {
            ContentType::Flatpak
        } else {
            ContentType::Container
        });
    }
    Ok(ContentType::Rpm)
}

/// Bodhi's build checks for a new update (or, with `editing`, for an edit of it): every build
/// exists, has tags, belongs to one release, is a candidate (or testing, when editing), is not
/// in another update, and each package appears once per release.
pub fn check_builds(
    conn: &mut DbConnection,
    buildsys: &dyn BuildSystem,
    nvrs: &[String],
    editing: Option<&Update>,
    from_tag: Option<&str>,
) -> AppResult<Vec<CheckedBuild>> {
    let mut seen = std::collections::HashSet::new();
    for nvr in nvrs {
        if !seen.insert(nvr.as_str()) {
            return Err(builds_error(format!("Duplicate builds: {nvr}")));
        }
    }
    let known = known_tags(conn)?;
    let mut valid_tags: Vec<String> = known
        .iter()
        .filter(|(_, kind, _)| {
            *kind == crate::models::release::TagKind::Candidate
                || (editing.is_some() && *kind == crate::models::release::TagKind::Testing)
        })
        .map(|(tag, _, _)| tag.clone())
        .collect();
    if let Some(tag) = from_tag {
        valid_tags.push(tag.to_owned());
    }
    // Bodhi counts the side tag's whole inheritance among every build's tags.
    let inherited = match from_tag {
        Some(tag) => buildsys.full_inheritance(tag)?,
        None => Vec::new(),
    };
    let edited_release = match editing {
        Some(update) => Some(release_of(conn, update)?),
        None => None,
    };
    let mut checked = Vec::new();
    for nvr in nvrs {
        let info = buildsys
            .get_build(nvr)
            .map_err(|_| builds_error(format!("Koji error getting build: {nvr}")))?
            .ok_or_else(|| builds_error(format!("Build does not exist: {nvr}")))?;
        let content_type = infer_content_type(nvr, &info.extra)?;
        let tags: Vec<String> = buildsys
            .list_tags(nvr)
            .map_err(|_| builds_error(format!("Invalid koji build: {nvr}")))?
            .into_iter()
            .map(|t| t.name)
            .collect();
        if tags.is_empty() {
            return Err(builds_error(format!(
                "Cannot find any tags associated with build: {nvr}"
            )));
        }
        let tags: Vec<String> = tags.into_iter().chain(inherited.iter().cloned()).collect();
        let Some(release) = release_from_tags(conn, &tags)? else {
            return Err(builds_error(format!(
                "Cannot find release associated with build: {nvr}, tags: {}",
                python_list(&tags)
            )));
        };
        if let Some(edited) = &edited_release
            && edited.id != release.id
        {
            return Err(builds_error(format!(
                "Cannot add a {} build to an {} update",
                release.name, edited.name
            )));
        }
        if !tags.iter().any(|t| valid_tags.contains(t)) {
            return Err(builds_error(format!(
                "Invalid tag: {nvr} not tagged with any of the following tags {}",
                python_list(&valid_tags)
            )));
        }
        if let Some(tag) = from_tag
            && !tags.iter().any(|t| t == tag)
        {
            return Err(builds_error(format!(
                "Invalid build: {nvr} not tagged in {tag}"
            )));
        }
        if let Some(existing) = Build::by_nvr(conn, nvr)?
            && let Some(update_id) = existing.update_id
            && editing.is_none_or(|e| e.id != update_id)
        {
            let other = Update::by_id(conn, update_id)?;
            if other.status != UpdateStatus::Unpushed {
                return Err(builds_error(format!("Update for {nvr} already exists")));
            }
        }
        checked.push(CheckedBuild {
            nvr: nvr.clone(),
            build_id: info.id,
            task_id: info.task_id,
            name: info.package_name.clone(),
            content_type,
            epoch: info.epoch.or(Some(0)),
            release,
        });
    }
    for (index, build) in checked.iter().enumerate() {
        if checked[..index]
            .iter()
            .any(|b| b.name == build.name && b.release.id == build.release.id)
        {
            return Err(builds_error(format!(
                "Multiple {} builds specified in {}",
                build.name, build.release.name
            )));
        }
    }
    Ok(checked)
}

/// Bodhi's `validate_from_tag`: the side tag exists, is a side tag, has no update yet (unless
/// it is the one edited), and holds builds. Fills `form.builds` with its latest builds when
/// none were given; returns the side tag's owner.
pub fn resolve_side_tag(
    conn: &mut DbConnection,
    buildsys: &dyn BuildSystem,
    form: &mut UpdateForm,
) -> AppResult<Option<String>> {
    let Some(tag) = form.from_tag.clone() else {
        return Ok(None);
    };
    let side_error = |text: &str| AppError::invalid("body", "from_tag", text);
    let info = buildsys
        .get_tag(&tag)?
        .ok_or_else(|| side_error("The supplied from_tag doesn't exist."))?;
    if info.extra.get("sidetag").and_then(|v| v.as_bool()) != Some(true) {
        return Err(side_error("The supplied tag is not a side tag."));
    }
    let existing: Option<String> = crate::db::schema::updates::table
        .filter(crate::db::schema::updates::from_tag.eq(&tag))
        .select(crate::db::schema::updates::alias)
        .first(conn)
        .optional()?;
    if existing.is_some_and(|alias| form.edited.as_deref() != Some(alias.as_str())) {
        return Err(side_error("Update already exists using this side tag"));
    }
    if form.builds.is_empty() {
        let options = crate::buildsys::ListTaggedOptions {
            latest: true,
            inherit: false,
            ..Default::default()
        };
        form.builds = buildsys
            .list_tagged(&tag, &options)?
            .into_iter()
            .map(|t| t.build.nvr)
            .collect();
        if form.builds.is_empty() {
            return Err(side_error(
                "The supplied from_tag doesn't contain any builds.",
            ));
        }
    }
    Ok(info
        .extra
        .get("sidetag_user")
        .and_then(|v| v.as_str())
        .map(str::to_owned))
}

/// Makes the update's bugs exactly `bug_ids` (creating bugs as needed); returns the numbers
/// newly attached. A security bug makes the update a security update.
pub fn set_bugs(
    conn: &mut DbConnection,
    update: &mut Update,
    bug_ids: &[i32],
) -> AppResult<Vec<i32>> {
    let current = Bug::for_updates(conn, &[update.id])?;
    for (_, bug) in &current {
        if !bug_ids.contains(&bug.bug_id) {
            diesel::delete(
                update_bugs::table
                    .filter(update_bugs::update_id.eq(update.id))
                    .filter(update_bugs::bug_id.eq(bug.id)),
            )
            .execute(conn)?;
        }
    }
    let mut new = Vec::new();
    for number in bug_ids {
        let bug = Bug::ensure(conn, *number)?;
        if Update::attach_bug(conn, update.id, bug.id)? {
            new.push(bug.bug_id);
        }
        if bug.security && update.update_type != UpdateType::Security {
            update.update_type = UpdateType::Security;
        }
    }
    Ok(new)
}

/// The package row of a checked build (created if missing).
fn package_of(conn: &mut DbConnection, build: &CheckedBuild) -> QueryResult<Package> {
    Ok(Package::ensure(conn, &build.name, build.content_type)?.0)
}

/// The build row of a checked build, attached to `update_id` (created, or taken over from an
/// unpushed update).
fn attach_build(
    conn: &mut DbConnection,
    build: &CheckedBuild,
    package: &Package,
    update_id: i32,
    signed: bool,
) -> QueryResult<Build> {
    match Build::by_nvr(conn, &build.nvr)? {
        Some(existing) => {
            diesel::update(builds::table.find(existing.id))
                .set((
                    builds::update_id.eq(Some(update_id)),
                    builds::release_id.eq(Some(build.release.id)),
                    builds::package_id.eq(package.id),
                ))
                .execute(conn)?;
            Build::by_nvr(conn, &build.nvr)?.ok_or(diesel::result::Error::NotFound)
        }
        None => Build::create(
            conn,
            &NewBuild {
                nvr: &build.nvr,
                signed,
                package_id: package.id,
                release_id: Some(build.release.id),
                update_id: Some(update_id),
                content_type: build.content_type,
                epoch: if build.content_type == ContentType::Rpm {
                    build.epoch
                } else {
                    None
                },
            },
        ),
    }
}

fn check_form(form: &UpdateForm, ctx: &Ctx<'_>) -> AppResult<()> {
    let mut errors = Vec::new();
    let notes_len = form.notes.trim().chars().count();
    if notes_len == 0 {
        errors.push(FieldError::new(
            "body",
            "notes",
            "A description is required for the update.",
        ));
    } else if notes_len < 2 {
        errors.push(FieldError::new(
            "body",
            "notes",
            "Shorter than minimum length 2",
        ));
    } else if form.notes.chars().count() > ctx.settings.rules.update_notes_maxlength {
        errors.push(FieldError::new(
            "body",
            "notes",
            format!(
                "Longer than maximum length {}",
                ctx.settings.rules.update_notes_maxlength
            ),
        ));
    }
    if form.update_type == UpdateType::Security && form.severity == UpdateSeverity::Unspecified {
        errors.push(FieldError::new(
            "body",
            "severity",
            "Must specify severity for a security update",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The outcome of `POST /updates/`: one update per release, and the caveats.
pub struct Saved {
    pub updates: Vec<Update>,
    pub caveats: Vec<Caveat>,
}

/// Creates one update per release of the builds (Bodhi's `Update.new` via `new_update`).
pub fn create(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    buildsys: &dyn BuildSystem,
    user: &CurrentUser,
    form: &UpdateForm,
) -> AppResult<Saved> {
    check_form(form, ctx)?;
    let mut form = form.clone();
    let sidetag_owner = resolve_side_tag(conn, buildsys, &mut form)?;
    let form = &form;
    let checked = check_builds(conn, buildsys, &form.builds, None, form.from_tag.as_deref())?;
    if form.from_tag.is_none() && checked.iter().any(|b| !b.release.composed_by_bodhi) {
        return Err(builds_error(
            "Cannot manually create updates for a Release which is not composed by Bodhi.\n\
             Read the 'Automatic updates' page in Bodhi docs about this error.",
        ));
    }
    let mut packages = Vec::new();
    for build in &checked {
        packages.push(package_of(conn, build)?);
    }
    permissions::check_new_update_acls(
        conn,
        user,
        &packages,
        sidetag_owner.as_deref(),
        &ctx.settings.accounts,
    )?;

    let mut releases: Vec<Release> = Vec::new();
    for build in &checked {
        if !releases.iter().any(|r| r.id == build.release.id) {
            releases.push(build.release.clone());
        }
    }
    let mut caveats = Vec::new();
    if releases.len() > 1 {
        caveats.push(Caveat::new(
            "releases",
            format!(
                "Your update is being split into {}, one for each release.",
                releases.len()
            ),
        ));
    }
    let mut updates = Vec::new();
    for release in &releases {
        let release_builds: Vec<(&CheckedBuild, &Package)> = checked
            .iter()
            .zip(&packages)
            .filter(|(b, _)| b.release.id == release.id)
            .collect();
        let names: Vec<String> = release_builds.iter().map(|(b, _)| b.name.clone()).collect();
        let content_type = release_builds
            .first()
            .map_or(ContentType::Rpm, |(b, _)| b.content_type);
        let (is_critpath, groups) = critpath::classify(
            &ctx.settings.critpath,
            &release.branch,
            content_type,
            &names,
        )?;
        let mut new = NewUpdate::with_defaults(
            new_alias(&release.id_prefix, ctx.now),
            release.id,
            Some(user.user.id),
            form.update_type,
            form.notes.clone(),
            ctx.now,
        );
        new.autokarma = form.autokarma;
        new.autotime = form.autotime;
        new.stable_karma = form.stable_karma;
        new.stable_days = form.stable_days;
        new.unstable_karma = form.unstable_karma;
        new.require_bugs = form.require_bugs;
        new.require_testcases = form.require_testcases;
        new.display_name = form.display_name.trim().to_owned();
        new.severity = form.severity;
        new.suggest = form.suggest;
        new.close_bugs = form.close_bugs;
        new.critpath = is_critpath;
        new.critpath_groups = groups;
        new.from_tag = form.from_tag.clone();
        if !release.composed_by_bodhi {
            new.autotime = true;
            new.stable_days = 0;
        }
        let mut update = Update::create(conn, &new)?;
        let signed = release.pending_signing_tag.is_empty();
        for (build, package) in &release_builds {
            attach_build(conn, build, package, update.id, signed)?;
        }
        let bugs = set_bugs(conn, &mut update, &form.bugs)?;
        let days = mandatory_days(&update, release, &ctx.settings.rules);
        if days > update.stable_days {
            update.stable_days = days;
            caveats.push(Caveat::new(
                "stable days",
                format!(
                    "The number of stable days required was set to the mandatory release value \
                     of {days} days"
                ),
            ));
        }
        let karma = min_karma(&update, release, &ctx.settings.rules);
        if karma > update.stable_karma {
            update.stable_karma = karma;
            caveats.push(Caveat::new(
                "stable karma",
                format!(
                    "The stable karma required was set to the mandatory release value of {karma}"
                ),
            ));
        }
        update.save(conn)?;
        crate::services::bugs::queue_submitted(conn, ctx.settings, &update, &bugs, ctx.now)?;
        if form.from_tag.is_none() {
            requests::set_request(conn, ctx, &mut update, UpdateRequest::Testing, user.name())?;
        } else {
            let builds = builds_of(conn, update.id)?;
            let ops = side_tag_signing_ops(release, &update, &builds);
            ctx.tag(conn, &update, user.name(), ops)?;
        }
        if ctx.settings.rules.test_gating_required && update.request != Some(UpdateRequest::Testing)
        {
            update.test_gating_status = Some(crate::db::types::TestGatingStatus::Waiting);
            update.save(conn)?;
        }
        if content_type == ContentType::Rpm {
            let refs: Vec<KojiBuildRef> = release_builds.iter().map(|(b, _)| koji_ref(b)).collect();
            messages::ready_for_testing(conn, ctx, &update, SYSTEM_AGENT, &refs, false)?;
        }
        updates.push(update);
    }
    for update in &mut updates {
        match super::obsolete::obsolete_older_updates(conn, ctx, update) {
            Ok(more) => caveats.extend(more),
            Err(error) => caveats.push(Caveat::new(
                "update",
                format!("Problem obsoleting older updates: {error}"),
            )),
        }
    }
    Ok(Saved { updates, caveats })
}

/// Where a new side-tag update's builds go to be signed (Bodhi's
/// `handle_side_and_related_tags`): a composed release's signing and candidate tags; for a
/// release Pipal does not compose, the side tag's own `-signing-pending` and
/// `-testing-pending` tags, created under it (the testing one with the `autosign` permission
/// for the signer), and the builds into the first.
pub fn side_tag_signing_ops(release: &Release, update: &Update, builds: &[Build]) -> Vec<TagOp> {
    let Some(from_tag) = update
        .from_tag
        .as_deref()
        .filter(|_| !release.composed_by_bodhi)
    else {
        let mut ops = tag_all(builds, &release.pending_signing_tag);
        ops.extend(tag_all(builds, &release.candidate_tag));
        return ops;
    };
    let signing = format!("{from_tag}-signing-pending");
    let mut ops = vec![
        TagOp::CreateTag {
            name: signing.clone(),
            parent: from_tag.to_owned(),
            perm: None,
        },
        TagOp::CreateTag {
            name: format!("{from_tag}-testing-pending"),
            parent: from_tag.to_owned(),
            perm: Some("autosign".to_owned()),
        },
    ];
    ops.extend(tag_all(builds, &signing));
    ops
}

/// Edits an update (Bodhi's `Update.edit`).
pub fn edit(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    buildsys: &dyn BuildSystem,
    user: &CurrentUser,
    alias: &str,
    form: &UpdateForm,
) -> AppResult<Saved> {
    check_form(form, ctx)?;
    let mut form = form.clone();
    let sidetag_owner = resolve_side_tag(conn, buildsys, &mut form)?;
    let form = &form;
    let mut update = Update::by_alias_for_update(conn, alias)?
        .ok_or_else(|| builds_error(format!("Cannot find update to edit: {alias}")))?;
    let release = release_of(conn, &update)?;
    if update.status == UpdateStatus::Stable
        && !permissions::is_admin_packager(user, &ctx.settings.accounts)
    {
        return Err(builds_error("Cannot edit stable updates"));
    }
    permissions::check_update_acls(conn, user, &update, &release, &ctx.settings.accounts)?;
    let checked = check_builds(
        conn,
        buildsys,
        &form.builds,
        Some(&update),
        form.from_tag.as_deref(),
    )?;
    let mut packages = Vec::new();
    for build in &checked {
        packages.push(package_of(conn, build)?);
    }
    permissions::check_new_update_acls(
        conn,
        user,
        &packages,
        sidetag_owner.as_deref(),
        &ctx.settings.accounts,
    )?;

    let mut caveats = Vec::new();
    let days = mandatory_days(&update, &release, &ctx.settings.rules);
    let mut stable_days = form.stable_days;
    if days > stable_days {
        stable_days = days;
        caveats.push(Caveat::new(
            "stable days",
            format!(
                "The number of stable days required was raised to the mandatory release value of \
                 {days} days"
            ),
        ));
    }
    let karma_floor = min_karma(&update, &release, &ctx.settings.rules);
    let mut stable_karma = form.stable_karma;
    if karma_floor > stable_karma {
        stable_karma = karma_floor;
        caveats.push(Caveat::new(
            "stable karma",
            format!("The stable karma required was raised to the mandatory release value of {karma_floor}"),
        ));
    }

    let current = builds_of(conn, update.id)?;
    let new_builds: Vec<&CheckedBuild> = checked
        .iter()
        .filter(|b| !current.iter().any(|c| c.nvr == b.nvr))
        .collect();
    let removed: Vec<&Build> = current
        .iter()
        .filter(|c| !form.builds.contains(&c.nvr))
        .collect();
    if update.locked && !new_builds.is_empty() {
        return Err(builds_error("Can't add builds to a locked update"));
    }
    if update.locked && !removed.is_empty() {
        return Err(builds_error("Can't remove builds from a locked update"));
    }
    let signed = release.pending_signing_tag.is_empty();
    for build in &new_builds {
        let package = package_of(conn, build)?;
        attach_build(conn, build, &package, update.id, signed)?;
    }
    for build in &removed {
        // Bodhi's `Build.unpush`: out of the pending tags, from testing back to candidates.
        let ops = vec![
            TagOp::untag(&release.pending_signing_tag, &build.nvr),
            TagOp::untag(&release.pending_testing_tag, &build.nvr),
            TagOp::untag(&release.pending_stable_tag, &build.nvr),
            TagOp::Move {
                from: release.testing_tag.clone(),
                to: release.candidate_tag.clone(),
                nvr: build.nvr.clone(),
            },
        ];
        ctx.tag(conn, &update, user.name(), ops)?;
        match BuildrootOverride::for_build(conn, build.id)? {
            Some(o) if o.expired_date.is_none() => {
                crate::services::overrides::expire(conn, ctx, &o, user.name())?;
                diesel::update(builds::table.find(build.id))
                    .set(builds::update_id.eq(None::<i32>))
                    .execute(conn)?;
            }
            Some(_) => {
                diesel::update(builds::table.find(build.id))
                    .set(builds::update_id.eq(None::<i32>))
                    .execute(conn)?;
            }
            None => super::delete_build(conn, build.id)?,
        }
    }
    let builds_changed = !new_builds.is_empty() || !removed.is_empty();

    let mut comment = format!("{} edited this update.", user.name());
    if !new_builds.is_empty() {
        comment.push_str("\n\nNew build(s):\n");
        for build in &new_builds {
            comment.push_str(&format!("\n- {}", build.nvr));
        }
    }
    if !removed.is_empty() {
        comment.push_str("\n\nRemoved build(s):\n");
        for build in &removed {
            comment.push_str(&format!("\n- {}", build.nvr));
        }
    }
    if builds_changed {
        comment.push_str("\n\nKarma has been reset.");
    }
    system_comment(conn, ctx, &update, &comment)?;
    caveats.push(Caveat::new("builds", comment));

    let mut request = None;
    if builds_changed {
        request = Some(UpdateRequest::Testing);
        update.date_testing = None;
        let builds_to_tag: Vec<String> = if update.status != UpdateStatus::Pending {
            untag_known(conn, ctx, &mut update, user.name(), true)?;
            // Bodhi's unpush: back to the candidate tag.
            update.status = UpdateStatus::Unpushed;
            update.request = None;
            update.pushed = false;
            caveats.push(Caveat::new(
                "status",
                "Builds changed.  Your update is being sent back to testing.",
            ));
            builds_of(conn, update.id)?
                .into_iter()
                .map(|b| b.nvr)
                .collect()
        } else {
            new_builds.iter().map(|b| b.nvr.clone()).collect()
        };
        let mut ops = Vec::new();
        for nvr in &builds_to_tag {
            if update.status == UpdateStatus::Unpushed || update.from_tag.is_some() {
                ops.push(TagOp::tag(&release.candidate_tag, nvr));
            }
            ops.push(TagOp::tag(&release.pending_signing_tag, nvr));
        }
        ctx.tag(conn, &update, user.name(), ops)?;
        // Builds that came back need signing again.
        if !release.pending_signing_tag.is_empty() {
            diesel::update(builds::table.filter(builds::nvr.eq_any(&builds_to_tag)))
                .set(builds::signed.eq(false))
                .execute(conn)?;
        }
    }
    let new_bugs = set_bugs(conn, &mut update, &form.bugs)?;
    update.save(conn)?;
    let new_nvrs: Vec<String> = new_builds.iter().map(|b| b.nvr.clone()).collect();
    let removed_nvrs: Vec<String> = removed.iter().map(|b| b.nvr.clone()).collect();
    if let Some(request) = request
        && release.composed_by_bodhi
    {
        requests::set_request(conn, ctx, &mut update, request, user.name())?;
    }
    update.display_name = form.display_name.trim().to_owned();
    update.close_bugs = form.close_bugs;
    update.update_type = form.update_type;
    update.severity = form.severity;
    update.notes = form.notes.clone();
    update.autokarma = form.autokarma;
    update.stable_karma = stable_karma;
    update.unstable_karma = form.unstable_karma;
    update.suggest = form.suggest;
    update.require_bugs = form.require_bugs;
    update.require_testcases = form.require_testcases;
    update.autotime = form.autotime;
    update.stable_days = stable_days;
    let names: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let content_type = checked.first().map_or(ContentType::Rpm, |b| b.content_type);
    let (is_critpath, groups) = critpath::classify(
        &ctx.settings.critpath,
        &release.branch,
        content_type,
        &names,
    )?;
    update.critpath = is_critpath;
    update.critpath_groups = groups;
    update.date_modified = Some(ctx.now);
    update.save(conn)?;
    crate::services::bugs::queue_submitted(conn, ctx.settings, &update, &new_bugs, ctx.now)?;
    if (!new_nvrs.is_empty() || !removed_nvrs.is_empty()) && content_type == ContentType::Rpm {
        let refs: Vec<KojiBuildRef> = checked.iter().map(koji_ref).collect();
        messages::ready_for_testing(conn, ctx, &update, SYSTEM_AGENT, &refs, false)?;
    }
    messages::edit(
        conn,
        ctx,
        &update,
        &messages::Edit {
            agent: user.name(),
            new_bugs: &new_bugs,
            new_builds: &new_nvrs,
            removed_builds: &removed_nvrs,
        },
    )?;
    let mut caveats_after = super::obsolete::obsolete_older_updates(conn, ctx, &mut update)
        .unwrap_or_else(|error| {
            vec![Caveat::new(
                "update",
                format!("Problem obsoleting older updates: {error}"),
            )]
        });
    caveats.append(&mut caveats_after);
    Ok(Saved {
        updates: vec![update],
        caveats,
    })
}
