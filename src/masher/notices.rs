//! The update notices a compose mails (spec §6.6): after a stable push, an announcement of
//! each build to the release's announce list, rendered with the release's `mail_template`, and
//! a `bodhi.errata.publish` message with the same subject and body; after a testing push of
//! RPMs, the updates-testing digest to the release's test list. What the build system knows
//! (source RPM headers, the previous stable build's changelog) is read first, outside the
//! transaction that queues the mails.

use std::collections::BTreeMap;

use chrono::DateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::buildsys::{BuildSystem, ListTaggedOptions, SourceHeader};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::db::schema::updates;
use crate::db::types::{OutboxKind, UpdateRequest, UpdateStatus, UpdateType};
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::outbox::OutboxEntry;
use crate::models::release::Release;
use crate::models::update::Update;
use crate::notify::mail::MailPayload;
use crate::services::mails::text::{markdown_to_text, python_datetime, wrap_text};
use crate::services::requirements::days_in_testing;
use crate::services::updates::{compare_evr, split_nvr};

use super::events;
use super::work::Work;

const RULE: &str =
    "--------------------------------------------------------------------------------\n";
const MAILLIST_TEMPLATE: &str = include_str!("../../templates/email/notices/maillist_template.tpl");

/// The text of a release's `mail_template`; unknown names fall back to Fedora's.
fn errata_template(name: &str) -> &'static str {
    match name {
        "fedora_epel_errata_template" => {
            include_str!("../../templates/email/notices/fedora_epel_errata_template.tpl")
        }
        "fedora_epel_legacy_errata_template" => {
            include_str!("../../templates/email/notices/fedora_epel_legacy_errata_template.tpl")
        }
        "maillist_template" => MAILLIST_TEMPLATE,
        _ => include_str!("../../templates/email/notices/fedora_errata_template.tpl"),
    }
}

/// What a notice shows of one build, from the build system.
#[derive(Debug, Clone, Default)]
pub struct BuildFacts {
    pub header: SourceHeader,
    /// Changelog entries newer than this (the previous stable build's newest) are new.
    pub changelog_after: i64,
}

/// Reads the facts of `nvrs` (the builds of one release's updates).
pub fn gather(
    buildsys: &dyn BuildSystem,
    release: &Release,
    nvrs: &[String],
) -> anyhow::Result<BTreeMap<String, BuildFacts>> {
    let mut facts = BTreeMap::new();
    for nvr in nvrs {
        let header = buildsys.source_header(nvr)?;
        let changelog_after = match previous_stable(buildsys, release, nvr)? {
            Some(previous) => buildsys
                .changelog(&previous)?
                .first()
                .map_or(0, |entry| entry.time),
            None => 0,
        };
        facts.insert(
            nvr.clone(),
            BuildFacts {
                header,
                changelog_after,
            },
        );
    }
    Ok(facts)
}

/// The newest build of the same package in the stable tag that is older than `nvr`.
fn previous_stable(
    buildsys: &dyn BuildSystem,
    release: &Release,
    nvr: &str,
) -> anyhow::Result<Option<String>> {
    let Some((name, version, rel)) = split_nvr(nvr) else {
        return Ok(None);
    };
    let tagged = buildsys.list_tagged(
        &release.stable_tag,
        &ListTaggedOptions {
            package: Some(name),
            ..ListTaggedOptions::default()
        },
    )?;
    let older = tagged
        .into_iter()
        .map(|t| t.build)
        .filter(|b| compare_evr((b.epoch, &b.version, &b.release), (None, version, rel)).is_lt());
    Ok(older
        .max_by(|a, b| {
            compare_evr(
                (a.epoch, &a.version, &a.release),
                (b.epoch, &b.version, &b.release),
            )
        })
        .map(|b| b.nvr))
}

/// Python's `%(key)s` substitution.
fn substitute(template: &str, fields: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("%(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find(")s") {
            Some(end) if fields.contains_key(&after[..end]) => {
                out.push_str(&fields[&after[..end]]);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("%(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `Build.get_changelog(lastupdate=True)`: the entries newer than the previous stable build's.
fn changelog_text(facts: &BuildFacts) -> String {
    let mut text = String::new();
    for entry in &facts.header.changelog {
        if entry.time <= facts.changelog_after {
            break;
        }
        let date = DateTime::from_timestamp(entry.time, 0)
            .map(|d| d.format("%a %b %e %Y").to_string())
            .unwrap_or_default();
        text.push_str(&format!("* {date} {}\n{}\n", entry.author, entry.text));
    }
    text
}

/// One update's parts that every build's notice shares.
struct UpdateParts {
    notes: String,
    references: String,
}

impl UpdateParts {
    fn new(settings: &Settings, update: &Update, bugs: &[Bug]) -> UpdateParts {
        let notes = if update.notes.is_empty() {
            String::new()
        } else {
            let plain = markdown_to_text(&update.notes);
            format!(
                "Update Information:\n\n{}\n{RULE}",
                wrap_text(&plain, 80, "", "")
            )
        };
        let mut references = String::new();
        if !bugs.is_empty() {
            references.push_str("References:\n\n");
            let has_parent = bugs.iter().any(|b| b.parent);
            let shown = bugs.iter().filter(|b| {
                !(update.update_type == UpdateType::Security && has_parent && !b.parent)
            });
            for (i, bug) in shown.enumerate() {
                let title = match bug.title.as_deref() {
                    Some(t) if t != "Unable to fetch title" && t != "Invalid bug number" => {
                        format!(" - {t}")
                    }
                    _ => String::new(),
                };
                let url = settings
                    .masher
                    .buglink
                    .replace("%s", &bug.bug_id.to_string());
                references.push_str(&format!(
                    "  [ {} ] Bug #{}{title}\n        {url}\n",
                    i + 1,
                    bug.bug_id
                ));
            }
            references.push_str(RULE);
        }
        UpdateParts { notes, references }
    }
}

/// Bodhi's `mail.get_template`: (subject, body) of each build's notice, in NVR order.
fn notices(
    settings: &Settings,
    release: &Release,
    update: &Update,
    builds: &[&Build],
    bugs: &[Bug],
    facts: &BTreeMap<String, BuildFacts>,
    template: &str,
) -> Vec<(String, String, String)> {
    let parts = UpdateParts::new(settings, update, bugs);
    let testing = update.status == UpdateStatus::Testing;
    let date = update
        .date_stable
        .or(update.date_testing)
        .map_or_else(|| "None".to_owned(), |d| python_datetime(&d));
    let none = BuildFacts::default();
    builds
        .iter()
        .map(|build| {
            let facts = facts.get(&build.nvr).unwrap_or(&none);
            let (name, version, rel) = split_nvr(&build.nvr).unwrap_or((&build.nvr, "", ""));
            let subject = format!(
                "{}{}{} Update: {}",
                if update.update_type == UpdateType::Security {
                    "[SECURITY] "
                } else {
                    ""
                },
                release.long_name,
                if testing { " Test" } else { "" },
                build.nvr
            );
            let fields: BTreeMap<&str, String> = [
                ("testing", if testing { " Test" } else { "" }.to_owned()),
                (
                    "yum_repository",
                    if testing {
                        " --enablerepo=updates-testing"
                    } else {
                        ""
                    }
                    .to_owned(),
                ),
                ("updateid", update.alias.clone()),
                ("date", date.clone()),
                ("name", name.to_owned()),
                ("version", version.to_owned()),
                ("release", rel.to_owned()),
                ("product", release.long_name.clone()),
                ("url", facts.header.url.clone()),
                ("summary", facts.header.summary.clone()),
                ("description", facts.header.description.clone()),
                ("notes", parts.notes.clone()),
                ("references", parts.references.clone()),
                (
                    "changelog",
                    format!("ChangeLog:\n\n{}{RULE}", changelog_text(facts)),
                ),
                ("subject", subject.clone()),
            ]
            .into_iter()
            .collect();
            (build.nvr.clone(), subject, substitute(template, &fields))
        })
        .collect()
}

/// Where a push of `request` mails its notices: the release's own list, else the list of
/// its id prefix (lower case, `-` as `_`) in the configuration, as Bodhi's
/// `<prefix>_announce_list` / `<prefix>_test_announce_list`.
pub fn mailing_list(
    settings: &Settings,
    release: &Release,
    request: UpdateRequest,
) -> Option<String> {
    let (own, configured) = match request {
        UpdateRequest::Stable => (&release.announce_list, &settings.mail.announce_lists),
        _ => (
            &release.test_announce_list,
            &settings.mail.test_announce_lists,
        ),
    };
    own.clone().filter(|list| !list.is_empty()).or_else(|| {
        configured
            .get(&release.id_prefix.to_lowercase().replace('-', "_"))
            .cloned()
    })
}

fn queue_mail(
    conn: &mut DbConnection,
    settings: &Settings,
    key: &str,
    to: &str,
    subject: &str,
    body: &str,
) -> QueryResult<()> {
    if settings.mail.exclude.iter().any(|a| a == to) {
        return Ok(());
    }
    let mail = MailPayload {
        from: settings.mail.from.clone(),
        to: to.to_owned(),
        subject: subject.to_owned(),
        headers: vec![("X-Bodhi".into(), settings.mail.email_domain.clone())],
        body: body.to_owned(),
    };
    let payload = serde_json::to_string(&mail)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    OutboxEntry::enqueue(conn, OutboxKind::Mail, key, &payload, crate::models::now()).map(drop)
}

/// The builds of each update, by update id, in NVR order.
fn builds_by_update(
    conn: &mut DbConnection,
    ids: &[i32],
) -> QueryResult<BTreeMap<i32, Vec<Build>>> {
    let mut by_update: BTreeMap<i32, Vec<Build>> = BTreeMap::new();
    for build in Build::for_updates(conn, ids)? {
        by_update
            .entry(build.update_id.unwrap_or(0))
            .or_default()
            .push(build);
    }
    for builds in by_update.values_mut() {
        builds.sort_by(|a, b| a.nvr.cmp(&b.nvr));
    }
    Ok(by_update)
}

fn bugs_by_update(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<BTreeMap<i32, Vec<Bug>>> {
    let mut by_update: BTreeMap<i32, Vec<Bug>> = BTreeMap::new();
    for (update_id, bug) in Bug::for_updates(conn, ids)? {
        by_update.entry(update_id).or_default().push(bug);
    }
    Ok(by_update)
}

/// Bodhi's `send_stable_announcements`: each build of each stable update, mailed to the
/// announce list and published as `bodhi.errata.publish`.
pub fn queue_announcements(
    conn: &mut DbConnection,
    settings: &Settings,
    work: &Work,
    facts: &BTreeMap<String, BuildFacts>,
) -> QueryResult<usize> {
    let Some(list) = mailing_list(settings, &work.release, UpdateRequest::Stable) else {
        return Ok(0);
    };
    let updates: Vec<Update> = work
        .updates(conn)?
        .into_iter()
        .filter(|u| u.status == UpdateStatus::Stable)
        .collect();
    let ids: Vec<i32> = updates.iter().map(|u| u.id).collect();
    let builds = builds_by_update(conn, &ids)?;
    let bugs = bugs_by_update(conn, &ids)?;
    let bodies = events::update_bodies(conn, settings, updates.clone())?;
    let template = errata_template(&work.release.mail_template);
    let compose = events::compose_key(work);
    let mut sent = 0;
    for update in &updates {
        let update_builds: Vec<&Build> = builds.get(&update.id).into_iter().flatten().collect();
        let update_bugs = bugs.get(&update.id).map_or(&[][..], Vec::as_slice);
        for (nvr, subject, body) in notices(
            settings,
            &work.release,
            update,
            &update_builds,
            update_bugs,
            facts,
            template,
        ) {
            queue_mail(
                conn,
                settings,
                &format!("compose:{compose}:announce:{nvr}"),
                &list,
                &subject,
                &body,
            )?;
            events::queue(
                conn,
                work,
                &format!("errata:{nvr}"),
                "bodhi.errata.publish",
                json!({"subject": subject, "body": body, "update": bodies.get(&update.id)}),
            )?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// A line of the digest's warnings: ` AGE  URL   TITLE`.
struct Waiting {
    days: i64,
    alias: String,
    title: String,
}

/// Testing updates of `release` that are security updates, and critical path updates not yet
/// approved, longest in testing first (the digest's two warnings).
fn waiting_updates(
    conn: &mut DbConnection,
    settings: &Settings,
    release: &Release,
) -> QueryResult<(Vec<Waiting>, Vec<Waiting>)> {
    let testing: Vec<Update> = updates::table
        .filter(updates::release_id.eq(release.id))
        .filter(updates::status.eq(UpdateStatus::Testing))
        .filter(updates::request.is_null())
        .filter(
            updates::type_
                .eq(UpdateType::Security)
                .or(updates::critpath.eq(true)),
        )
        .select(Update::as_select())
        .load(conn)?;
    let bodies = events::update_bodies(conn, settings, testing.clone())?;
    let now = crate::models::now();
    let lines = |wanted: &dyn Fn(&Update, &Value) -> bool| {
        let mut lines: Vec<Waiting> = testing
            .iter()
            .filter_map(|u| {
                let body = bodies.get(&u.id)?;
                wanted(u, body).then(|| Waiting {
                    days: days_in_testing(u, now),
                    alias: u.alias.clone(),
                    title: body["title"].as_str().unwrap_or(&u.alias).to_owned(),
                })
            })
            .collect();
        lines.sort_by_key(|w| std::cmp::Reverse(w.days));
        lines
    };
    let security = lines(&|u, _| u.update_type == UpdateType::Security);
    let critpath =
        lines(&|u, body| u.critpath && body["meets_testing_requirements"].as_bool() != Some(true));
    Ok((security, critpath))
}

/// Bodhi's `send_testing_digest`: the builds this testing push moved, with their notices,
/// after the security and critical path updates still waiting.
pub fn queue_testing_digest(
    conn: &mut DbConnection,
    settings: &Settings,
    work: &Work,
    facts: &BTreeMap<String, BuildFacts>,
) -> QueryResult<bool> {
    let release = &work.release;
    let Some(list) = mailing_list(settings, release, UpdateRequest::Testing) else {
        return Ok(false);
    };
    let updates = work.updates(conn)?;
    if updates.is_empty() {
        return Ok(false);
    }
    let ids: Vec<i32> = updates.iter().map(|u| u.id).collect();
    let builds = builds_by_update(conn, &ids)?;
    let bugs = bugs_by_update(conn, &ids)?;
    let mut details: BTreeMap<String, String> = BTreeMap::new();
    for update in &updates {
        let update_builds: Vec<&Build> = builds.get(&update.id).into_iter().flatten().collect();
        let update_bugs = bugs.get(&update.id).map_or(&[][..], Vec::as_slice);
        for (nvr, _, body) in notices(
            settings,
            release,
            update,
            &update_builds,
            update_bugs,
            facts,
            MAILLIST_TEMPLATE,
        ) {
            details.insert(nvr, body);
        }
    }
    let prefix = &release.long_name;
    let base = settings.base_address();
    let line = |w: &Waiting| format!(" {:>3}  {base}updates/{}   {}\n", w.days, w.alias, w.title);
    let (security, critpath) = waiting_updates(conn, settings, release)?;
    let mut body = String::new();
    if !security.is_empty() {
        body.push_str(&format!(
            "The following {prefix} Security updates need testing:\n Age  URL\n"
        ));
        security.iter().for_each(|u| body.push_str(&line(u)));
        body.push_str("\n\n");
    }
    if !critpath.is_empty() {
        body.push_str(&format!(
            "The following {prefix} Critical Path updates have yet to be approved:\n Age URL\n"
        ));
        critpath.iter().for_each(|u| body.push_str(&line(u)));
        body.push_str("\n\n");
    }
    body.push_str(&format!(
        "The following builds have been pushed to {prefix} updates-testing\n\n"
    ));
    for nvr in details.keys() {
        body.push_str(&format!("    {nvr}\n"));
    }
    body.push_str("\nDetails about builds:\n\n");
    for text in details.values() {
        body.push('\n');
        body.push_str(text);
    }
    queue_mail(
        conn,
        settings,
        &format!("compose:{}:digest", events::compose_key(work)),
        &list,
        &format!("{prefix} updates-testing report"),
        &body,
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildsys::ChangelogEntry;

    #[test]
    fn python_placeholders_are_filled_and_unknown_ones_kept() {
        let fields: BTreeMap<&str, String> =
            [("name", "bash".to_owned()), ("updateid", "F-1".to_owned())]
                .into_iter()
                .collect();
        assert_eq!(
            substitute("%(name)s (%(updateid)s) %(other)s 100%", &fields),
            "bash (F-1) %(other)s 100%"
        );
    }

    #[test]
    fn the_changelog_stops_at_the_previous_stable_build() {
        let entry = |time: i64, text: &str| ChangelogEntry {
            time,
            author: "Alice <alice@example.org> - 1.0-2".into(),
            text: text.into(),
        };
        let facts = BuildFacts {
            header: SourceHeader {
                changelog: vec![
                    entry(1_764_892_800, "- Fix the crash"),
                    entry(1_700_000_000, "- Old news"),
                ],
                ..SourceHeader::default()
            },
            changelog_after: 1_700_000_000,
        };
        assert_eq!(
            changelog_text(&facts),
            "* Fri Dec  5 2025 Alice <alice@example.org> - 1.0-2\n- Fix the crash\n"
        );
    }
}
