//! `pipal buildsys …`: the local build system from the command line.

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;

use super::{Context, split_list};
use crate::buildsys::import::import_directory;
use crate::buildsys::{BuildSystem, BuildsysError, ListTaggedOptions, LocalBuildSystem};
use crate::config::BuildsysKind;
use crate::worker::signing::{TagEventPayload, enqueue_tag_event};

#[derive(Debug, Subcommand)]
pub enum BuildsysCommand {
    /// Register RPM files laid out like Koji's packages/<name>/<version>/<release>/<arch>/.
    Import {
        /// A directory holding `packages/` (or the `packages` directory itself).
        dir: PathBuf,
        /// Owner recorded for the imported builds.
        #[arg(long, default_value = "pipal")]
        owner: String,
    },
    /// Tag a build.
    Tag { tag: String, nvr: String },
    /// Untag a build.
    Untag { tag: String, nvr: String },
    /// List the builds in a tag, most recently tagged first.
    ListTagged {
        tag: String,
        /// Only the latest build of each package.
        #[arg(long)]
        latest: bool,
        /// Include builds inherited from parent tags.
        #[arg(long)]
        inherit: bool,
        #[arg(long)]
        package: Option<String>,
    },
    /// Create a tag.
    AddTag {
        name: String,
        /// Comma-separated parent tags, highest priority first.
        #[arg(long, value_name = "A,B")]
        parents: Option<String>,
        /// Comma-separated arches.
        #[arg(long)]
        arches: Option<String>,
    },
    /// List every tag.
    ListTags,
    /// Show a build: its RPM files and tag history.
    Show { nvr: String },
}

pub fn run(ctx: &Context, command: BuildsysCommand) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let buildsys = match ctx.settings.buildsys.kind {
        BuildsysKind::Local => LocalBuildSystem::new(db, ctx.settings.buildsys.local.root.clone()),
        BuildsysKind::Koji => anyhow::bail!(
            "`pipal buildsys` manages the local build system, but buildsys.kind is \"koji\": \
             use the koji CLI on {}, or `pipal koji check`",
            ctx.settings.buildsys.koji.url
        ),
    };
    let who = "pipal-cli";
    match command {
        BuildsysCommand::Import { dir, owner } => {
            let summary = import_directory(&buildsys, &dir, &owner)?;
            for nvr in &summary.imported {
                println!("imported {nvr}");
            }
            println!(
                "{} build(s) imported ({} RPM files), {} already registered",
                summary.imported.len(),
                summary.files,
                summary.unchanged.len()
            );
        }
        BuildsysCommand::Tag { tag, nvr } => match buildsys.tag_build(&tag, &nvr, who) {
            Ok(()) => {
                announce_tagging(&buildsys, &tag, &nvr)?;
                println!("tagged {nvr} into {tag}");
            }
            Err(BuildsysError::AlreadyTagged { .. }) => println!("{nvr} is already in {tag}"),
            Err(e) => return Err(e.into()),
        },
        BuildsysCommand::Untag { tag, nvr } => {
            buildsys.untag_build(&tag, &nvr, who)?;
            println!("untagged {nvr} from {tag}");
        }
        BuildsysCommand::ListTagged {
            tag,
            latest,
            inherit,
            package,
        } => {
            let builds = buildsys.list_tagged(
                &tag,
                &ListTaggedOptions {
                    latest,
                    inherit,
                    package: package.as_deref(),
                    prefix: None,
                },
            )?;
            println!("{:<50} {:<30} OWNER", "BUILD", "TAG");
            for tagged in builds {
                println!(
                    "{:<50} {:<30} {}",
                    tagged.build.nvr, tagged.tag_name, tagged.build.owner_name
                );
            }
        }
        BuildsysCommand::AddTag {
            name,
            parents,
            arches,
        } => {
            let parents = parents.as_deref().map(split_list).unwrap_or_default();
            buildsys.create_tag(&name, &parents, arches.as_deref(), &serde_json::json!({}))?;
            println!("created tag {name}");
        }
        BuildsysCommand::ListTags => {
            for tag in buildsys.all_tags()? {
                println!("{}", tag.name);
            }
        }
        BuildsysCommand::Show { nvr } => {
            let Some(build) = buildsys.get_build(&nvr)? else {
                bail!("No such build: {nvr}");
            };
            println!(
                "{} (id {}, owner {})",
                build.nvr, build.id, build.owner_name
            );
            for rpm in buildsys.list_build_rpms(&nvr)? {
                println!(
                    "  {}-{}-{}.{}.rpm  {} bytes",
                    rpm.name, rpm.version, rpm.release, rpm.arch, rpm.size
                );
            }
            for (tag, tagged, untagged) in buildsys.tag_history(&nvr)? {
                match untagged {
                    Some(event) => {
                        println!("  {tag}: tagged at event {tagged}, untagged at event {event}")
                    }
                    None => println!("  {tag}: tagged at event {tagged}"),
                }
            }
        }
    }
    Ok(())
}

/// What Koji's message bus does for a tagging: a tag event for the worker, keyed by the
/// tagging's event so that it is handled once (a new candidate build of a release with
/// automatic updates becomes an update).
fn announce_tagging(buildsys: &LocalBuildSystem, tag: &str, nvr: &str) -> anyhow::Result<()> {
    let event = buildsys
        .tag_history(nvr)?
        .into_iter()
        .filter(|(name, _, revoked)| name == tag && revoked.is_none())
        .map(|(_, created, _)| created)
        .max()
        .unwrap_or_default();
    let mut conn = buildsys.db().conn()?;
    enqueue_tag_event(
        &mut conn,
        &TagEventPayload {
            tag: tag.to_owned(),
            nvr: nvr.to_owned(),
        },
        &format!("local:{event}:{tag}:{nvr}"),
    )?;
    Ok(())
}
