//! Buildroot overrides (spec §2.10): a build made available in a release's buildroot through
//! its override tag until an expiration date.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::buildsys::BuildSystem;
use crate::db::DbConnection;
use crate::db::schema::{buildroot_overrides, builds};
use crate::db::types::TestGatingStatus;
use crate::error::{AppError, AppResult};
use crate::models::build::{Build, NewBuild};
use crate::models::overrides::{BuildrootOverride, NewBuildrootOverride};
use crate::models::package::Package;
use crate::models::release::{Release, TagKind};
use crate::models::update::Update;
use crate::models::user::User;
use crate::services::accounts::CurrentUser;
use crate::services::messages;
use crate::services::tagging::TagOp;
use crate::services::updates::save::infer_content_type;
use crate::services::updates::{Caveat, Ctx, known_tags, release_from_tags};

pub const MAX_NOTES: usize = 2000;

/// The fields of `POST /overrides/`.
#[derive(Debug, Clone)]
pub struct OverrideForm {
    pub nvrs: Vec<String>,
    pub notes: String,
    pub expiration_date: NaiveDateTime,
    pub expired: bool,
    /// The NVR of the override being edited.
    pub edited: Option<String>,
}

fn nvr_error(description: impl Into<String>) -> AppError {
    AppError::invalid("body", "nvr", description)
}

fn queue(nvr: &str) -> String {
    format!("override:{nvr}")
}

/// Checks the expiration date and the notes as Bodhi does.
pub fn check_form(form: &OverrideForm, buildroot_limit: i32, now: NaiveDateTime) -> AppResult<()> {
    let mut errors = Vec::new();
    let today = now.date();
    let day = form.expiration_date.date();
    if day <= today {
        errors.push(crate::error::FieldError::new(
            "body",
            "expiration_date",
            "Expiration date in the past",
        ));
    } else if day > today + Duration::days(i64::from(buildroot_limit)) {
        errors.push(crate::error::FieldError::new(
            "body",
            "expiration_date",
            format!("Expiration date may not be longer than {buildroot_limit}"),
        ));
    }
    if form.notes.chars().count() > MAX_NOTES {
        errors.push(crate::error::FieldError::new(
            "body",
            "notes",
            format!("Notes may not contain more than {MAX_NOTES} chars"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Bodhi's `_validate_override_build`: the build row for an NVR (created from the build
/// system when Pipal does not know it yet), checked to be overridable.
fn override_build(
    conn: &mut DbConnection,
    buildsys: &dyn BuildSystem,
    nvr: &str,
    editing: bool,
    expiring: bool,
) -> AppResult<(Build, Release)> {
    let valid_kinds = [TagKind::Candidate, TagKind::Testing];
    let known = known_tags(conn)?;
    let candidate_or_testing = |tags: &[String]| -> Vec<String> {
        tags.iter()
            .filter(|t| {
                known
                    .iter()
                    .any(|(tag, kind, _)| tag == *t && valid_kinds.contains(kind))
            })
            .cloned()
            .collect()
    };
    let tags: Vec<String> = buildsys
        .list_tags(nvr)
        .map_err(|e| nvr_error(format!("Couldn't determine koji tags for {nvr}, '{e}'")))?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let build = match Build::by_nvr(conn, nvr)? {
        Some(build) => {
            if !editing
                && let Some(update_id) = build.update_id
                && Update::by_id(conn, update_id)?.test_gating_status
                    == Some(TestGatingStatus::Failed)
            {
                return Err(nvr_error(
                    "Cannot create a buildroot override if build's test gating status is failed.",
                ));
            }
            if build.release_id.is_none() {
                let release =
                    release_from_tags(conn, &candidate_or_testing(&tags))?.ok_or_else(|| {
                        nvr_error("Invalid build.  Couldn't determine release from koji tags.")
                    })?;
                diesel::update(builds::table.find(build.id))
                    .set(builds::release_id.eq(Some(release.id)))
                    .execute(conn)?;
            }
            Build::by_nvr(conn, nvr)?.ok_or(diesel::result::Error::NotFound)?
        }
        None => {
            let release = release_from_tags(conn, &candidate_or_testing(&tags))?
                .ok_or_else(|| nvr_error("Invalid build"))?;
            let info = buildsys
                .get_build(nvr)?
                .ok_or_else(|| nvr_error("Invalid build"))?;
            let content_type = infer_content_type(nvr, &info.extra)?;
            let (package, _) = Package::ensure(conn, &info.package_name, content_type)?;
            Build::create(
                conn,
                &NewBuild {
                    nvr,
                    signed: false,
                    package_id: package.id,
                    release_id: Some(release.id),
                    update_id: None,
                    content_type,
                    epoch: info.epoch,
                },
            )?
        }
    };
    let release_id = build.release_id.ok_or(diesel::result::Error::NotFound)?;
    let release = Release::by_id(conn, release_id)?;
    if release.override_tag.is_empty() {
        return Err(nvr_error(
            "Cannot create a buildroot override because the release associated with the build \
             does not support it.",
        ));
    }
    if !expiring
        && !tags
            .iter()
            .any(|t| *t == release.candidate_tag || *t == release.testing_tag)
    {
        return Err(nvr_error(
            "Invalid build.  It must be tagged as either candidate or testing.",
        ));
    }
    Ok((build, release))
}

/// The result of `POST /overrides/`.
pub struct SavedOverrides {
    pub overrides: Vec<BuildrootOverride>,
    pub caveats: Vec<Caveat>,
}

/// Creates or edits overrides (Bodhi's `save_override`).
pub fn save(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    buildsys: &dyn BuildSystem,
    user: &CurrentUser,
    form: &OverrideForm,
) -> AppResult<SavedOverrides> {
    if form.nvrs.is_empty() {
        return Err(nvr_error("A comma-separated list of NVRs is required."));
    }
    if form.nvrs.len() != 1 && form.edited.is_some() {
        return Err(nvr_error(
            "Cannot combine multiple NVRs with editing a buildroot override.",
        ));
    }
    check_form(form, ctx.settings.rules.buildroot_limit, ctx.now)?;
    let mut resolved = Vec::new();
    for nvr in &form.nvrs {
        resolved.push(override_build(
            conn,
            buildsys,
            nvr,
            form.edited.is_some(),
            form.expired,
        )?);
    }
    let mut caveats = Vec::new();
    let mut overrides = Vec::new();
    if let Some(edited) = &form.edited {
        let build = Build::by_nvr(conn, edited)?
            .ok_or_else(|| AppError::invalid("body", "edited", "No such build"))?;
        let current = BuildrootOverride::for_build(conn, build.id)?.ok_or_else(|| {
            AppError::invalid("body", "edited", "No buildroot override for this build")
        })?;
        overrides.push(edit(
            conn,
            ctx,
            &current,
            user,
            &form.notes,
            form.expiration_date,
            form.expired,
            None,
        )?);
        return Ok(SavedOverrides { overrides, caveats });
    }
    if resolved.len() > 1 {
        caveats.push(Caveat::new(
            "nvrs",
            format!(
                "Your override submission was split into {}.",
                resolved.len()
            ),
        ));
    }
    for (build, release) in &resolved {
        match BuildrootOverride::for_build(conn, build.id)? {
            Some(existing) => {
                let expiration = if existing.expired_date.is_none() {
                    existing.expiration_date.max(form.expiration_date)
                } else {
                    form.expiration_date
                };
                let old_submitter = User::by_id(conn, existing.submitter_id)?;
                let mut notes = format!(
                    "{}\n_____________\n_@{} ({})_\n{}",
                    form.notes,
                    old_submitter.name,
                    existing.submission_date.format("%b %d, %Y"),
                    existing.notes
                );
                if notes.chars().count() > MAX_NOTES {
                    notes = notes.chars().take(1972).collect::<String>()
                        + "(...)\n___Notes truncated___";
                }
                overrides.push(edit(
                    conn,
                    ctx,
                    &existing,
                    user,
                    &notes,
                    expiration,
                    false,
                    Some(ctx.now),
                )?);
            }
            None => overrides.push(create(conn, ctx, build, release, user, form)?),
        }
    }
    Ok(SavedOverrides { overrides, caveats })
}

fn create(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    build: &Build,
    release: &Release,
    user: &CurrentUser,
    form: &OverrideForm,
) -> AppResult<BuildrootOverride> {
    // An active override of another build of the package in this release is replaced.
    let others: Vec<BuildrootOverride> = buildroot_overrides::table
        .inner_join(builds::table)
        .filter(builds::package_id.eq(build.package_id))
        .filter(builds::release_id.eq(build.release_id))
        .filter(builds::id.ne(build.id))
        .filter(buildroot_overrides::expired_date.is_null())
        .select(BuildrootOverride::as_select())
        .load(conn)?;
    for other in &others {
        expire(conn, ctx, other, user.name())?;
    }
    let created = BuildrootOverride::create(
        conn,
        &NewBuildrootOverride {
            build_id: build.id,
            submitter_id: user.user.id,
            notes: &form.notes,
            submission_date: ctx.now,
            expiration_date: form.expiration_date,
            expired_date: None,
        },
    )?;
    ctx.tag_in_queue(
        conn,
        &queue(&build.nvr),
        user.name(),
        vec![TagOp::tag(&release.override_tag, &build.nvr)],
    )?;
    messages::override_changed(conn, ctx, &created, true)?;
    Ok(created)
}

#[allow(clippy::too_many_arguments)]
fn edit(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    current: &BuildrootOverride,
    user: &CurrentUser,
    notes: &str,
    expiration_date: NaiveDateTime,
    expire_now: bool,
    submission_date: Option<NaiveDateTime>,
) -> AppResult<BuildrootOverride> {
    diesel::update(buildroot_overrides::table.find(current.id))
        .set((
            buildroot_overrides::submitter_id.eq(user.user.id),
            buildroot_overrides::notes.eq(notes),
            buildroot_overrides::expiration_date.eq(expiration_date),
            buildroot_overrides::submission_date
                .eq(submission_date.unwrap_or(current.submission_date)),
        ))
        .execute(conn)?;
    let updated = BuildrootOverride::for_build(conn, current.build_id)?
        .ok_or(diesel::result::Error::NotFound)?;
    if updated.expired_date.is_some() && expiration_date > ctx.now {
        enable(conn, ctx, &updated, user.name())?;
    } else if expire_now {
        expire(conn, ctx, &updated, user.name())?;
    }
    Ok(BuildrootOverride::for_build(conn, current.build_id)?
        .ok_or(diesel::result::Error::NotFound)?)
}

fn override_tag_of(conn: &mut DbConnection, o: &BuildrootOverride) -> AppResult<(String, String)> {
    let build: Build = builds::table
        .find(o.build_id)
        .select(Build::as_select())
        .first(conn)?;
    let release_id = build.release_id.ok_or(diesel::result::Error::NotFound)?;
    let release = Release::by_id(conn, release_id)?;
    Ok((release.override_tag, build.nvr))
}

/// Tags the build into the override tag again and clears the expiry.
pub fn enable(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    o: &BuildrootOverride,
    agent: &str,
) -> AppResult<()> {
    let (tag, nvr) = override_tag_of(conn, o)?;
    ctx.tag_in_queue(conn, &queue(&nvr), agent, vec![TagOp::tag(&tag, &nvr)])?;
    diesel::update(buildroot_overrides::table.find(o.id))
        .set(buildroot_overrides::expired_date.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    messages::override_changed(conn, ctx, o, true)?;
    Ok(())
}

/// Takes the build out of the override tag and records when (no-op if expired already).
pub fn expire(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    o: &BuildrootOverride,
    agent: &str,
) -> AppResult<()> {
    if o.expired_date.is_some() {
        return Ok(());
    }
    let (tag, nvr) = override_tag_of(conn, o)?;
    ctx.tag_in_queue(conn, &queue(&nvr), agent, vec![TagOp::untag(&tag, &nvr)])?;
    BuildrootOverride::mark_expired(conn, o.id, ctx.now)?;
    messages::override_changed(conn, ctx, o, false)?;
    Ok(())
}

/// Expires every override whose date has passed (the hourly job); returns how many.
pub fn expire_due(conn: &mut DbConnection, ctx: &mut Ctx<'_>, agent: &str) -> AppResult<usize> {
    let due = BuildrootOverride::due_for_expiry(conn, ctx.now)?;
    for o in &due {
        expire(conn, ctx, o, agent)?;
    }
    Ok(due.len())
}
