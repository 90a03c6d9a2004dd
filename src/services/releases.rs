//! Releases: the checks Bodhi makes when one is created or edited.

use chrono::NaiveDate;

use crate::buildsys::BuildSystem;
use crate::db::types::{PackageManager, ReleaseState};
use crate::db::{DbConnection, write_transaction};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::release::{NewRelease, Release, ReleaseChanges};

/// The mail templates Bodhi ships; a release names one of them.
pub const MAIL_TEMPLATES: &[&str] = &[
    "fedora_errata_template",
    "fedora_epel_errata_template",
    "fedora_epel_legacy_errata_template",
    "fedora_modular_errata_template",
    "maillist_template",
];

/// A release with Fedora's conventions and Bodhi's defaults: tags derived from the dist tag
/// (`f43` → `f43-updates`, `f43-updates-testing`, `f43-updates-candidate`,
/// `f43-signing-pending`, `f43-updates-testing-pending`, `f43-updates-pending`,
/// `f43-override`), the version from the digits of the name, branch = dist tag, ID prefix
/// `FEDORA`, state `disabled`.
pub fn fedora_release(name: &str, long_name: &str, dist_tag: &str) -> NewRelease {
    NewRelease {
        name: name.to_owned(),
        long_name: long_name.to_owned(),
        version: name.chars().filter(|c| c.is_ascii_digit()).collect(),
        id_prefix: "FEDORA".into(),
        branch: dist_tag.to_owned(),
        dist_tag: dist_tag.to_owned(),
        stable_tag: format!("{dist_tag}-updates"),
        testing_tag: format!("{dist_tag}-updates-testing"),
        candidate_tag: format!("{dist_tag}-updates-candidate"),
        pending_signing_tag: format!("{dist_tag}-signing-pending"),
        pending_testing_tag: format!("{dist_tag}-updates-testing-pending"),
        pending_stable_tag: format!("{dist_tag}-updates-pending"),
        override_tag: format!("{dist_tag}-override"),
        mail_template: "fedora_errata_template".into(),
        state: ReleaseState::Disabled,
        composed_by_bodhi: true,
        create_automatic_updates: false,
        package_manager: PackageManager::Unspecified,
        testing_repository: None,
        released_on: None,
        eol: None,
        setting_status: None,
        min_karma: None,
        critpath_min_karma: None,
        mandatory_days_in_testing: None,
        critpath_mandatory_days_in_testing: None,
        announce_list: None,
        test_announce_list: None,
    }
}

/// The parent of each of a release's tags in Fedora's layout: updates on top of the dist
/// tag, testing and overrides on top of updates, candidates on top of testing.
pub fn fedora_tag_parent<'a>(release: &'a NewRelease, tag: &str) -> Option<&'a str> {
    if tag == release.stable_tag {
        Some(release.dist_tag.as_str())
    } else if tag == release.testing_tag || tag == release.override_tag {
        Some(release.stable_tag.as_str())
    } else if tag == release.candidate_tag {
        Some(release.testing_tag.as_str())
    } else {
        None
    }
    .filter(|parent| *parent != tag)
}

fn check_length(errors: &mut Vec<FieldError>, name: &str, value: &str, max: usize) {
    if value.is_empty() {
        errors.push(FieldError::new("body", name, "Required"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            "body",
            name,
            format!("Longer than maximum length {max}"),
        ));
    }
}

fn check_date(errors: &mut Vec<FieldError>, name: &str, label: &str, value: Option<NaiveDate>) {
    let low = NaiveDate::from_ymd_opt(1999, 1, 1);
    let high = NaiveDate::from_ymd_opt(2100, 1, 1);
    if let Some(date) = value
        && !(Some(date) > low && Some(date) < high)
    {
        errors.push(FieldError::new(
            "body",
            name,
            format!("{label} date may not be in the right range of years (2000-2100)"),
        ));
    }
}

/// Checks the fields of a release as Bodhi's schema does.
pub fn validate(release: &NewRelease) -> AppResult<()> {
    let mut errors = Vec::new();
    check_length(&mut errors, "name", &release.name, 10);
    check_length(&mut errors, "long_name", &release.long_name, 25);
    check_length(&mut errors, "version", &release.version, 5);
    check_length(&mut errors, "id_prefix", &release.id_prefix, 25);
    check_length(&mut errors, "branch", &release.branch, 10);
    check_length(&mut errors, "dist_tag", &release.dist_tag, 20);
    for (name, tag) in [
        ("stable_tag", &release.stable_tag),
        ("testing_tag", &release.testing_tag),
        ("candidate_tag", &release.candidate_tag),
    ] {
        if tag.is_empty() {
            errors.push(FieldError::new("body", name, "Required"));
        }
    }
    if !MAIL_TEMPLATES.contains(&release.mail_template.as_str()) {
        errors.push(FieldError::new(
            "body",
            "mail_template",
            format!(
                "\"{}\" is not one of {}",
                release.mail_template,
                MAIL_TEMPLATES.join(", ")
            ),
        ));
    }
    check_date(&mut errors, "eol", "End-of-life", release.eol);
    check_date(
        &mut errors,
        "released_on",
        "Released-on",
        release.released_on,
    );
    for (name, value) in [
        ("min_karma", release.min_karma),
        ("critpath_min_karma", release.critpath_min_karma),
        (
            "mandatory_days_in_testing",
            release.mandatory_days_in_testing,
        ),
        (
            "critpath_mandatory_days_in_testing",
            release.critpath_mandatory_days_in_testing,
        ),
    ] {
        if value.is_some_and(|v| v < 0) {
            errors.push(FieldError::new(
                "body",
                name,
                format!("{} is less than minimum value 0", value.unwrap_or_default()),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The release's tags that the build system does not know.
pub fn missing_tags(buildsys: &dyn BuildSystem, release: &NewRelease) -> AppResult<Vec<String>> {
    let mut missing = Vec::new();
    for tag in tags_of(release) {
        if buildsys.get_tag(&tag)?.is_none() && !missing.contains(&tag) {
            missing.push(tag);
        }
    }
    Ok(missing)
}

/// Every non-empty tag of a release, dist tag first.
pub fn tags_of(release: &NewRelease) -> Vec<String> {
    [
        &release.dist_tag,
        &release.stable_tag,
        &release.testing_tag,
        &release.candidate_tag,
        &release.pending_signing_tag,
        &release.pending_testing_tag,
        &release.pending_stable_tag,
        &release.override_tag,
    ]
    .into_iter()
    .filter(|t| !t.is_empty())
    .cloned()
    .collect()
}

/// Creates the release; its name and long name must be free.
pub fn create(conn: &mut DbConnection, release: &NewRelease) -> AppResult<Release> {
    validate(release)?;
    write_transaction(conn, |conn| {
        ensure_names_free(conn, None, &release.name, &release.long_name)?;
        Ok(Release::create(conn, release)?)
    })
}

/// Applies `changes` to the release called `name`, with the side effects of a state change.
pub fn edit(
    conn: &mut DbConnection,
    ctx: &mut crate::services::updates::Ctx<'_>,
    name: &str,
    changes: &ReleaseChanges,
) -> AppResult<Release> {
    let current = Release::by_name(conn, name)?
        .ok_or_else(|| AppError::not_found("body", "name", "No such release"))?;
    let merged = apply(&current, changes);
    validate(&merged)?;
    ensure_names_free(conn, Some(current.id), &merged.name, &merged.long_name)?;
    if let Some(state) = changes.state {
        on_state_change(conn, ctx, &current, state)?;
    }
    Ok(Release::update(conn, current.id, changes)?)
}

/// Fails unless the name and long name are free (or used by the release `own_id` itself).
pub fn ensure_names_free(
    conn: &mut DbConnection,
    own_id: Option<i32>,
    name: &str,
    long_name: &str,
) -> AppResult<()> {
    for (field, value) in [("name", name), ("long_name", long_name)] {
        if let Some(other) = Release::get(conn, value)?
            && Some(other.id) != own_id
            && (other.name == value || other.long_name == value)
        {
            return Err(AppError::invalid(
                "body",
                field,
                format!(
                    "Unable to create/edit release: {value} is already used by {}",
                    other.name
                ),
            ));
        }
    }
    Ok(())
}

/// The release as it would be after the changes.
pub fn apply(current: &Release, c: &ReleaseChanges) -> NewRelease {
    fn pick<T: Clone>(change: &Option<T>, current: &T) -> T {
        change.clone().unwrap_or_else(|| current.clone())
    }
    NewRelease {
        name: pick(&c.name, &current.name),
        long_name: pick(&c.long_name, &current.long_name),
        version: pick(&c.version, &current.version),
        id_prefix: pick(&c.id_prefix, &current.id_prefix),
        branch: pick(&c.branch, &current.branch),
        dist_tag: pick(&c.dist_tag, &current.dist_tag),
        stable_tag: pick(&c.stable_tag, &current.stable_tag),
        testing_tag: pick(&c.testing_tag, &current.testing_tag),
        candidate_tag: pick(&c.candidate_tag, &current.candidate_tag),
        pending_signing_tag: pick(&c.pending_signing_tag, &current.pending_signing_tag),
        pending_testing_tag: pick(&c.pending_testing_tag, &current.pending_testing_tag),
        pending_stable_tag: pick(&c.pending_stable_tag, &current.pending_stable_tag),
        override_tag: pick(&c.override_tag, &current.override_tag),
        mail_template: pick(&c.mail_template, &current.mail_template),
        state: pick(&c.state, &current.state),
        composed_by_bodhi: pick(&c.composed_by_bodhi, &current.composed_by_bodhi),
        create_automatic_updates: pick(
            &c.create_automatic_updates,
            &current.create_automatic_updates,
        ),
        package_manager: pick(&c.package_manager, &current.package_manager),
        testing_repository: pick(&c.testing_repository, &current.testing_repository),
        released_on: pick(&c.released_on, &current.released_on),
        eol: pick(&c.eol, &current.eol),
        setting_status: pick(&c.setting_status, &current.setting_status),
        min_karma: pick(&c.min_karma, &current.min_karma),
        critpath_min_karma: pick(&c.critpath_min_karma, &current.critpath_min_karma),
        mandatory_days_in_testing: pick(
            &c.mandatory_days_in_testing,
            &current.mandatory_days_in_testing,
        ),
        critpath_mandatory_days_in_testing: pick(
            &c.critpath_mandatory_days_in_testing,
            &current.critpath_mandatory_days_in_testing,
        ),
        announce_list: pick(&c.announce_list, &current.announce_list),
        test_announce_list: pick(&c.test_announce_list, &current.test_announce_list),
    }
}

/// Bodhi's side effects of a release's state change: archiving obsoletes its open updates,
/// freezing warns the updates waiting for stable.
pub fn on_state_change(
    conn: &mut DbConnection,
    ctx: &mut crate::services::updates::Ctx<'_>,
    release: &Release,
    new_state: crate::db::types::ReleaseState,
) -> AppResult<()> {
    use crate::db::schema::updates;
    use crate::db::types::{ReleaseState, UpdateRequest, UpdateStatus};
    use crate::models::update::Update;
    use crate::services::updates::comments::system_comment;
    use diesel::prelude::*;

    if new_state == release.state {
        return Ok(());
    }
    match new_state {
        ReleaseState::Archived => {
            let open: Vec<Update> = updates::table
                .filter(updates::release_id.eq(release.id))
                .filter(updates::status.ne_all([
                    UpdateStatus::Obsolete,
                    UpdateStatus::Stable,
                    UpdateStatus::Unpushed,
                ]))
                .select(Update::as_select())
                .load(conn)?;
            for mut update in open {
                update.status = UpdateStatus::Obsolete;
                update.request = None;
                update.save(conn)?;
                system_comment(
                    conn,
                    ctx,
                    &update,
                    &format!(
                        "This update is marked obsolete because the {} release is archived.",
                        release.name
                    ),
                )?;
            }
        }
        ReleaseState::Frozen => {
            let waiting: Vec<Update> = updates::table
                .filter(updates::release_id.eq(release.id))
                .filter(updates::request.eq(UpdateRequest::Stable))
                .filter(updates::locked.eq(false))
                .select(Update::as_select())
                .load(conn)?;
            for update in waiting {
                system_comment(
                    conn,
                    ctx,
                    &update,
                    "There is an ongoing freeze; this will be pushed to stable after the freeze \
                     is over.",
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The tags of a release Bodhi checks against the build system, with their field names.
pub fn checked_tags(release: &NewRelease) -> Vec<(&'static str, &str)> {
    [
        ("candidate_tag", release.candidate_tag.as_str()),
        ("testing_tag", &release.testing_tag),
        ("stable_tag", &release.stable_tag),
        ("override_tag", &release.override_tag),
        ("pending_testing_tag", &release.pending_testing_tag),
        ("pending_stable_tag", &release.pending_stable_tag),
    ]
    .into_iter()
    .filter(|(_, tag)| !tag.is_empty())
    .collect()
}

/// Bodhi's `validate_tags`: each tag must exist in the build system (`Invalid tag: {tag}`).
pub fn check_tags_exist(buildsys: &dyn BuildSystem, release: &NewRelease) -> AppResult<()> {
    let mut errors = Vec::new();
    for (field, tag) in checked_tags(release) {
        if buildsys.get_tag(tag)?.is_none() {
            errors.push(FieldError::new(
                "body",
                field,
                format!("Invalid tag: {tag}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}
