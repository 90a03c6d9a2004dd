//! updateinfo.xml (spec §6.5): one advisory per update with a build in the repository, not
//! only the updates of this compose, in the XML createrepo_c's serializer writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{builds, updates};
use crate::db::types::{UpdateRequest, UpdateSeverity, UpdateStatus, UpdateSuggestion};
use crate::json::objects::update_title;
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::release::Release;
use crate::models::update::Update;

use super::repo::RepoFile;
use super::repo::xml::escape;

/// The configuration updateinfo.xml needs.
#[derive(Debug, Clone)]
pub struct UpdateinfoSettings<'a> {
    /// The `from` of every advisory (Bodhi's `bodhi_email`).
    pub from: &'a str,
    /// `{year}` is replaced by the current year.
    pub rights: &'a str,
    pub file_url: &'a str,
    /// `%s` is replaced by the bug number.
    pub buglink: &'a str,
    pub now: NaiveDateTime,
}

/// SQLite's limit on bound parameters is 32766; stay far below it.
const CHUNK: usize = 1000;

fn date(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn severity(severity: UpdateSeverity) -> &'static str {
    match severity {
        UpdateSeverity::Unspecified => "None",
        UpdateSeverity::Low => "Low",
        UpdateSeverity::Medium => "Moderate",
        UpdateSeverity::High => "Important",
        UpdateSeverity::Urgent => "Critical",
    }
}

/// The directory of a package in Bodhi's `src` URL.
fn arch_dir(arch: &str) -> &str {
    match arch {
        "src" => "SRPMS",
        "noarch" | "i686" => "i386",
        other => other,
    }
}

/// updateinfo.xml for the repository made of `files` (every arch and the sources), each
/// with the NVR of the build it belongs to (for a module, the module's build).
pub fn generate(
    conn: &mut DbConnection,
    release: &Release,
    files: &[(&RepoFile, &str)],
    settings: &UpdateinfoSettings<'_>,
) -> QueryResult<String> {
    let mut by_build: BTreeMap<&str, Vec<&RepoFile>> = BTreeMap::new();
    for (file, build) in files {
        by_build.entry(build).or_default().push(file);
    }
    let nvrs: Vec<&str> = by_build.keys().copied().collect();
    let mut update_ids = BTreeSet::new();
    for chunk in nvrs.chunks(CHUNK) {
        let found: Vec<Option<i32>> = builds::table
            .filter(builds::nvr.eq_any(chunk))
            .select(builds::update_id)
            .load(conn)?;
        update_ids.extend(found.into_iter().flatten());
    }
    let update_ids: Vec<i32> = update_ids.into_iter().collect();
    let mut found = Vec::new();
    let mut update_builds: BTreeMap<i32, Vec<Build>> = BTreeMap::new();
    let mut bugs: BTreeMap<i32, Vec<Bug>> = BTreeMap::new();
    for chunk in update_ids.chunks(CHUNK) {
        found.extend(
            updates::table
                .filter(updates::id.eq_any(chunk))
                .select(Update::as_select())
                .load(conn)?,
        );
        for build in Build::for_updates(conn, chunk)? {
            if let Some(id) = build.update_id {
                update_builds.entry(id).or_default().push(build);
            }
        }
        for (id, bug) in Bug::for_updates(conn, chunk)? {
            bugs.entry(id).or_default().push(bug);
        }
    }
    found.sort_by(|a, b| (a.date_submitted, &a.alias).cmp(&(b.date_submitted, &b.alias)));

    let rights = settings
        .rights
        .replace("{year}", &settings.now.year().to_string());
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n");
    for update in &found {
        let builds = update_builds.remove(&update.id).unwrap_or_default();
        let nvrs: Vec<&str> = builds.iter().map(|b| b.nvr.as_str()).collect();
        let packages: Vec<&RepoFile> = builds
            .iter()
            .filter_map(|b| by_build.get(b.nvr.as_str()))
            .flatten()
            .copied()
            .collect();
        if packages.is_empty() {
            continue;
        }
        let title = update_title(&update.alias, &nvrs);
        write_advisory(
            &mut xml,
            update,
            release,
            &title,
            bugs.get(&update.id).map(Vec::as_slice).unwrap_or_default(),
            &packages,
            &rights,
            settings,
        );
    }
    xml.push_str("</updates>\n");
    Ok(xml)
}

#[allow(clippy::too_many_arguments)]
fn write_advisory(
    xml: &mut String,
    update: &Update,
    release: &Release,
    title: &str,
    bugs: &[Bug],
    packages: &[&RepoFile],
    rights: &str,
    settings: &UpdateinfoSettings<'_>,
) {
    let status = match update.request {
        None => update.status.to_string(),
        Some(UpdateRequest::Stable) => "stable".to_owned(),
        Some(_) => "testing".to_owned(),
    };
    let date_pushed = update.date_stable.or(update.date_testing);
    let updated = match (update.date_modified, date_pushed) {
        (Some(modified), Some(pushed)) => modified.max(pushed),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => update.date_submitted,
    };
    let _ = writeln!(
        xml,
        "  <update from=\"{}\" status=\"{status}\" type=\"{}\" version=\"2.0\">",
        escape(settings.from),
        update.update_type
    );
    let _ = writeln!(xml, "    <id>{}</id>", escape(&update.alias));
    let _ = writeln!(xml, "    <title>{}</title>", escape(title));
    let _ = writeln!(
        xml,
        "    <issued date=\"{}\"/>",
        date(update.date_submitted)
    );
    let _ = writeln!(xml, "    <updated date=\"{}\"/>", date(updated));
    let _ = writeln!(xml, "    <rights>{}</rights>", escape(rights));
    let _ = writeln!(xml, "    <release>{}</release>", escape(&release.long_name));
    let _ = writeln!(
        xml,
        "    <severity>{}</severity>",
        severity(update.severity)
    );
    let _ = writeln!(
        xml,
        "    <summary>{} {} update</summary>",
        escape(title),
        update.update_type
    );
    if update.notes.is_empty() {
        xml.push_str("    <description/>\n");
    } else {
        let _ = writeln!(
            xml,
            "    <description>{}</description>",
            escape(&update.notes)
        );
    }
    if bugs.is_empty() {
        xml.push_str("    <references/>\n");
    } else {
        xml.push_str("    <references>\n");
        for bug in bugs {
            let href = settings.buglink.replace("%s", &bug.bug_id.to_string());
            let _ = writeln!(
                xml,
                "      <reference href=\"{}\" id=\"{}\" type=\"bugzilla\" title=\"{}\"/>",
                escape(&href),
                bug.bug_id,
                escape(bug.title.as_deref().unwrap_or(""))
            );
        }
        xml.push_str("    </references>\n");
    }
    let testing = update.request == Some(UpdateRequest::Testing)
        || (update.request.is_none() && update.status == UpdateStatus::Testing);
    let base = format!(
        "{}/{}{}",
        settings.file_url.trim_end_matches('/'),
        if testing { "testing/" } else { "" },
        release.version
    );
    xml.push_str("    <pkglist>\n");
    let _ = writeln!(
        xml,
        "      <collection short=\"{}\">",
        escape(&release.name)
    );
    let _ = writeln!(xml, "        <name>{}</name>", escape(&release.long_name));
    for file in packages {
        let package = &file.package;
        let file_name = package.file_name();
        let letter = package.name.chars().next().unwrap_or('_');
        let _ = writeln!(
            xml,
            "        <package name=\"{}\" version=\"{}\" release=\"{}\" epoch=\"{}\" arch=\"{}\" src=\"{}\">",
            escape(&package.name),
            escape(&package.version),
            escape(&package.release),
            package.epoch,
            escape(&package.arch),
            escape(&format!(
                "{base}/{}/{letter}/{file_name}",
                arch_dir(&package.arch)
            ))
        );
        let _ = writeln!(xml, "          <filename>{}</filename>", escape(&file_name));
        match update.suggest {
            UpdateSuggestion::Reboot => {
                xml.push_str("          <reboot_suggested>True</reboot_suggested>\n")
            }
            UpdateSuggestion::Logout => {
                xml.push_str("          <relogin_suggested>True</relogin_suggested>\n")
            }
            UpdateSuggestion::Unspecified => {}
        }
        xml.push_str("        </package>\n");
    }
    xml.push_str("      </collection>\n    </pkglist>\n  </update>\n");
}
