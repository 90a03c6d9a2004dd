//! Who may do what (spec §5), with Pagure replaced by Pipal's package owners and committers.

use diesel::prelude::*;

use crate::config::AccountsSettings;
use crate::db::DbConnection;
use crate::db::schema::packages;
use crate::db::types::ReleaseState;
use crate::error::{AppError, AppResult};
use crate::models::build::Build;
use crate::models::package::{Package, PackageAcl};
use crate::models::release::Release;
use crate::models::update::Update;
use crate::services::accounts::CurrentUser;

/// Whether the user is an admin packager (may edit any package's updates).
pub fn is_admin_packager(user: &CurrentUser, accounts: &AccountsSettings) -> bool {
    user.in_any(&accounts.admin_packager_groups)
}

/// Whether the user may manage releases and pushes.
pub fn is_admin(user: &CurrentUser, accounts: &AccountsSettings) -> bool {
    user.in_any(&accounts.admin_groups)
}

/// Bodhi's check that a user is in every mandatory packager group.
pub fn check_mandatory_groups(user: &CurrentUser, accounts: &AccountsSettings) -> AppResult<()> {
    for group in &accounts.mandatory_packager_groups {
        if !user.in_group(group) {
            return Err(AppError::invalid(
                "body",
                "builds",
                format!(
                    "{} is not a member of \"{group}\", which is a mandatory packager group",
                    user.name()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether the user may commit to a package: an owner or committer, directly or via a group.
pub fn has_commit_access(
    conn: &mut DbConnection,
    user: &CurrentUser,
    package: &Package,
) -> AppResult<bool> {
    Ok(PackageAcl::user_may_commit(conn, package.id, user.user.id)?)
}

fn no_commit_access(user: &CurrentUser, package: &str) -> AppError {
    AppError::forbidden(
        "body",
        "builds",
        format!("{} does not have commit access to {package}", user.name()),
    )
}

/// Checks that the user may create an update of these packages (Bodhi's `validate_acls` for
/// new builds). `sidetag_owner` is the owner of the side tag the update is made from.
pub fn check_new_update_acls(
    conn: &mut DbConnection,
    user: &CurrentUser,
    packages: &[Package],
    sidetag_owner: Option<&str>,
    accounts: &AccountsSettings,
) -> AppResult<()> {
    if packages.is_empty() && sidetag_owner.is_none() {
        return Err(AppError::invalid(
            "body",
            "builds",
            "ACL validation mechanism was unable to determine ACLs.",
        ));
    }
    if is_admin_packager(user, accounts) {
        return Ok(());
    }
    check_mandatory_groups(user, accounts)?;
    if sidetag_owner == Some(user.name()) {
        return Ok(());
    }
    for package in packages {
        if !has_commit_access(conn, user, package)? {
            return Err(no_commit_access(user, &package.name));
        }
    }
    Ok(())
}

/// Checks that the user may edit an existing update or change its request.
pub fn check_update_acls(
    conn: &mut DbConnection,
    user: &CurrentUser,
    update: &Update,
    release: &Release,
    accounts: &AccountsSettings,
) -> AppResult<()> {
    if release.state == ReleaseState::Archived {
        return Err(AppError::invalid(
            "body",
            "update",
            "cannot edit Update for an archived Release",
        ));
    }
    let builds = Build::for_updates(conn, &[update.id])?;
    if builds.is_empty() && update.from_tag.is_none() {
        return Err(AppError::invalid(
            "body",
            "builds",
            "ACL validation mechanism was unable to determine ACLs.",
        ));
    }
    if is_admin_packager(user, accounts) {
        return Ok(());
    }
    check_mandatory_groups(user, accounts)?;
    if update.from_tag.is_some() && update.user_id == Some(user.user.id) {
        return Ok(());
    }
    let package_ids: Vec<i32> = builds.iter().map(|b| b.package_id).collect();
    let packages: Vec<Package> = packages::table
        .filter(packages::id.eq_any(package_ids))
        .order(packages::name.asc())
        .select(Package::as_select())
        .load(conn)?;
    for package in &packages {
        if !has_commit_access(conn, user, package)? {
            return Err(no_commit_access(user, &package.name));
        }
    }
    Ok(())
}

/// Checks that the user may waive or re-trigger tests: admin packagers and QA groups always,
/// else as for editing.
pub fn check_qa_acls(
    conn: &mut DbConnection,
    user: &CurrentUser,
    update: &Update,
    release: &Release,
    accounts: &AccountsSettings,
) -> AppResult<()> {
    if release.state == ReleaseState::Archived {
        return Err(AppError::invalid(
            "body",
            "update",
            "cannot edit Update for an archived Release",
        ));
    }
    if is_admin_packager(user, accounts) || user.in_any(&accounts.qa_groups) {
        return Ok(());
    }
    check_update_acls(conn, user, update, release, accounts)
}
