//! `pipal release add|edit|list|show`.

use std::str::FromStr;

use anyhow::bail;
use chrono::NaiveDate;
use clap::{ArgAction, Args, Subcommand, ValueEnum};

use super::Context;
use crate::buildsys::koji::KojiBuildSystem;
use crate::buildsys::{BuildSystem, LocalBuildSystem};
use crate::config::BuildsysKind;
use crate::db::types::{PackageManager, ReleaseState, UnknownValue};
use crate::json::ReleaseJson;
use crate::models::release::{NewRelease, Release, ReleaseChanges};
use crate::services::releases;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Create a release. Tags default to Fedora's names derived from --dist-tag; with the
    /// local build system, missing tags are created.
    Add {
        /// Short name, e.g. F43 (at most 10 characters).
        name: String,
        #[command(flatten)]
        fields: ReleaseFields,
        /// Fail instead of creating missing tags in the local build system.
        #[arg(long)]
        no_create_tags: bool,
    },
    /// Change fields of a release.
    Edit {
        name: String,
        /// Rename the release.
        #[arg(long)]
        new_name: Option<String>,
        #[command(flatten)]
        fields: ReleaseFields,
        /// Clear an optional field (back to the global default for the settings).
        #[arg(long, value_enum, value_name = "FIELD")]
        unset: Vec<UnsetField>,
    },
    /// List releases.
    List {
        /// Print Bodhi's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print one release as Bodhi's JSON.
    Show { name: String },
}

#[derive(Debug, Clone, Default, Args)]
pub struct ReleaseFields {
    /// e.g. "Fedora 43" (at most 25 characters).
    #[arg(long)]
    long_name: Option<String>,
    /// Defaults to the digits of the name.
    #[arg(long)]
    version: Option<String>,
    /// Prefix of update aliases, e.g. FEDORA or FEDORA-EPEL.
    #[arg(long)]
    id_prefix: Option<String>,
    /// Dist-git branch; defaults to the dist tag.
    #[arg(long)]
    branch: Option<String>,
    /// e.g. f43; defaults to the name in lower case.
    #[arg(long)]
    dist_tag: Option<String>,
    #[arg(long)]
    stable_tag: Option<String>,
    #[arg(long)]
    testing_tag: Option<String>,
    #[arg(long)]
    candidate_tag: Option<String>,
    #[arg(long)]
    pending_signing_tag: Option<String>,
    #[arg(long)]
    pending_testing_tag: Option<String>,
    #[arg(long)]
    pending_stable_tag: Option<String>,
    #[arg(long)]
    override_tag: Option<String>,
    #[arg(long)]
    mail_template: Option<String>,
    /// disabled, pending, frozen, current or archived.
    #[arg(long, value_parser = parse_value::<ReleaseState>)]
    state: Option<ReleaseState>,
    #[arg(long, action = ArgAction::Set, value_name = "BOOL")]
    composed_by_bodhi: Option<bool>,
    #[arg(long, action = ArgAction::Set, value_name = "BOOL")]
    create_automatic_updates: Option<bool>,
    /// unspecified, dnf or yum.
    #[arg(long, value_parser = parse_value::<PackageManager>)]
    package_manager: Option<PackageManager>,
    /// e.g. updates-testing.
    #[arg(long)]
    testing_repository: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    released_on: Option<NaiveDate>,
    /// End of life, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    eol: Option<NaiveDate>,
    /// The release's phase for settings (Bodhi's `<prefix>.status`), e.g. pre_beta.
    #[arg(long)]
    setting_status: Option<String>,
    /// Karma needed before a push to stable.
    #[arg(long)]
    min_karma: Option<i32>,
    /// Karma needed for critical path updates.
    #[arg(long)]
    critpath_min_karma: Option<i32>,
    /// Days in testing before a push to stable without enough karma.
    #[arg(long)]
    mandatory_days_in_testing: Option<i32>,
    /// Days in testing for critical path updates.
    #[arg(long)]
    critpath_mandatory_days_in_testing: Option<i32>,
    /// Where stable update announcements go.
    #[arg(long)]
    announce_list: Option<String>,
    /// Where the updates-testing digest goes.
    #[arg(long)]
    test_announce_list: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnsetField {
    TestingRepository,
    ReleasedOn,
    Eol,
    SettingStatus,
    MinKarma,
    CritpathMinKarma,
    MandatoryDaysInTesting,
    CritpathMandatoryDaysInTesting,
    AnnounceList,
    TestAnnounceList,
}

fn parse_value<T: FromStr<Err = UnknownValue>>(text: &str) -> Result<T, String> {
    text.parse().map_err(|e: UnknownValue| e.to_string())
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a YYYY-MM-DD date"))
}

fn new_release(name: &str, f: ReleaseFields) -> anyhow::Result<NewRelease> {
    let Some(long_name) = f.long_name else {
        bail!("--long-name is required, e.g. --long-name \"Fedora 43\"");
    };
    let dist_tag = f.dist_tag.unwrap_or_else(|| name.to_lowercase());
    let mut r = releases::fedora_release(name, &long_name, &dist_tag);
    let set = |field: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *field = value;
        }
    };
    set(&mut r.version, f.version);
    set(&mut r.id_prefix, f.id_prefix);
    set(&mut r.branch, f.branch);
    set(&mut r.stable_tag, f.stable_tag);
    set(&mut r.testing_tag, f.testing_tag);
    set(&mut r.candidate_tag, f.candidate_tag);
    set(&mut r.pending_signing_tag, f.pending_signing_tag);
    set(&mut r.pending_testing_tag, f.pending_testing_tag);
    set(&mut r.pending_stable_tag, f.pending_stable_tag);
    set(&mut r.override_tag, f.override_tag);
    set(&mut r.mail_template, f.mail_template);
    r.state = f.state.unwrap_or(r.state);
    r.composed_by_bodhi = f.composed_by_bodhi.unwrap_or(r.composed_by_bodhi);
    r.create_automatic_updates = f
        .create_automatic_updates
        .unwrap_or(r.create_automatic_updates);
    r.package_manager = f.package_manager.unwrap_or(r.package_manager);
    r.testing_repository = f.testing_repository;
    r.released_on = f.released_on;
    r.eol = f.eol;
    r.setting_status = f.setting_status;
    r.min_karma = f.min_karma;
    r.critpath_min_karma = f.critpath_min_karma;
    r.mandatory_days_in_testing = f.mandatory_days_in_testing;
    r.critpath_mandatory_days_in_testing = f.critpath_mandatory_days_in_testing;
    r.announce_list = f.announce_list;
    r.test_announce_list = f.test_announce_list;
    Ok(r)
}

fn changes(new_name: Option<String>, f: ReleaseFields, unset: &[UnsetField]) -> ReleaseChanges {
    let cleared = |field: UnsetField| unset.contains(&field);
    let optional = |value: Option<String>, field| {
        if cleared(field) {
            Some(None)
        } else {
            value.map(Some)
        }
    };
    let optional_int = |value: Option<i32>, field| {
        if cleared(field) {
            Some(None)
        } else {
            value.map(Some)
        }
    };
    let optional_date = |value: Option<NaiveDate>, field| {
        if cleared(field) {
            Some(None)
        } else {
            value.map(Some)
        }
    };
    ReleaseChanges {
        name: new_name,
        long_name: f.long_name,
        version: f.version,
        id_prefix: f.id_prefix,
        branch: f.branch,
        dist_tag: f.dist_tag,
        stable_tag: f.stable_tag,
        testing_tag: f.testing_tag,
        candidate_tag: f.candidate_tag,
        pending_signing_tag: f.pending_signing_tag,
        pending_testing_tag: f.pending_testing_tag,
        pending_stable_tag: f.pending_stable_tag,
        override_tag: f.override_tag,
        mail_template: f.mail_template,
        state: f.state,
        composed_by_bodhi: f.composed_by_bodhi,
        create_automatic_updates: f.create_automatic_updates,
        package_manager: f.package_manager,
        testing_repository: optional(f.testing_repository, UnsetField::TestingRepository),
        released_on: optional_date(f.released_on, UnsetField::ReleasedOn),
        eol: optional_date(f.eol, UnsetField::Eol),
        setting_status: optional(f.setting_status, UnsetField::SettingStatus),
        min_karma: optional_int(f.min_karma, UnsetField::MinKarma),
        critpath_min_karma: optional_int(f.critpath_min_karma, UnsetField::CritpathMinKarma),
        mandatory_days_in_testing: optional_int(
            f.mandatory_days_in_testing,
            UnsetField::MandatoryDaysInTesting,
        ),
        critpath_mandatory_days_in_testing: optional_int(
            f.critpath_mandatory_days_in_testing,
            UnsetField::CritpathMandatoryDaysInTesting,
        ),
        announce_list: optional(f.announce_list, UnsetField::AnnounceList),
        test_announce_list: optional(f.test_announce_list, UnsetField::TestAnnounceList),
    }
}

pub fn run(ctx: &Context, command: ReleaseCommand) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    // Pipal creates missing tags only in its own build system; Koji's are made by its admins.
    let (buildsys, local): (Box<dyn BuildSystem>, Option<LocalBuildSystem>) =
        match ctx.settings.buildsys.kind {
            BuildsysKind::Local => {
                let local =
                    LocalBuildSystem::new(db.clone(), ctx.settings.buildsys.local.root.clone());
                (Box::new(local.clone()), Some(local))
            }
            BuildsysKind::Koji => (
                Box::new(KojiBuildSystem::from_settings(&ctx.settings.buildsys.koji)?),
                None,
            ),
        };
    let mut conn = db.conn()?;
    let rules = &ctx.settings.rules;
    match command {
        ReleaseCommand::Add {
            name,
            fields,
            no_create_tags,
        } => {
            let release = new_release(&name, fields)?;
            releases::validate(&release)?;
            let missing = releases::missing_tags(buildsys.as_ref(), &release)?;
            if !missing.is_empty() && (no_create_tags || local.is_none()) {
                bail!(
                    "Invalid tag: {} (not in the build system)",
                    missing.join(", ")
                );
            }
            releases::ensure_names_free(&mut conn, None, &release.name, &release.long_name)?;
            if let Some(local) = &local {
                for tag in &missing {
                    create_release_tag(local, &release, tag)?;
                    println!("created tag {tag}");
                }
            }
            let created = releases::create(&mut conn, &release)?;
            println!("created release {}", created.name);
        }
        ReleaseCommand::Edit {
            name,
            new_name,
            fields,
            unset,
        } => {
            let changes = changes(new_name, fields, &unset);
            if changes.is_empty() {
                bail!("nothing to change: give the fields to set (see --help)");
            }
            let settings = &ctx.settings;
            let release = crate::db::write_transaction(&mut conn, |conn| {
                let mut change_ctx =
                    crate::services::updates::Ctx::new(settings, crate::models::now());
                releases::edit(conn, &mut change_ctx, &name, &changes)
            })?;
            println!("updated release {}", release.name);
        }
        ReleaseCommand::List { json } => {
            let releases = Release::list(&mut conn)?;
            if json {
                let items: Vec<ReleaseJson<'_>> = releases
                    .iter()
                    .map(|r| ReleaseJson::new(r, rules))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                println!(
                    "{:<10} {:<25} {:<8} {:<9} {:<12} {:<6} DAYS",
                    "NAME", "LONG NAME", "VERSION", "STATE", "PREFIX", "KARMA"
                );
                for r in &releases {
                    println!(
                        "{:<10} {:<25} {:<8} {:<9} {:<12} {:<6} {}",
                        r.name,
                        r.long_name,
                        r.version,
                        r.state,
                        r.id_prefix,
                        r.effective_min_karma(rules),
                        r.effective_mandatory_days_in_testing(rules)
                    );
                }
            }
        }
        ReleaseCommand::Show { name } => {
            let Some(release) = Release::get(&mut conn, &name)? else {
                bail!("No such release: {name}");
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&ReleaseJson::new(&release, rules))?
            );
        }
    }
    Ok(())
}

/// Creates one of a release's tags in the local build system, with Fedora's inheritance.
fn create_release_tag(
    buildsys: &LocalBuildSystem,
    release: &NewRelease,
    tag: &str,
) -> anyhow::Result<()> {
    let parents: Vec<String> = releases::fedora_tag_parent(release, tag)
        .filter(|parent| buildsys.get_tag(parent).ok().flatten().is_some())
        .map(str::to_owned)
        .into_iter()
        .collect();
    buildsys.create_tag(tag, &parents, None, &serde_json::json!({}))?;
    Ok(())
}
