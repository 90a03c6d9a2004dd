//! The jobs of on-demand composes: `odcs_generate` turns a waiting compose into a
//! repository (or reuses an identical one), and the periodic `odcs_cleanup` removes expired
//! composes and their directories.
//!
//! A generation writes into a private directory and renames it to `odcs-<id>` at the end, so
//! a worker that lost its lease (and whose job another worker runs again) never mixes its
//! files with the new attempt's; the compose turns done only if it is still generating then.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

use super::error::OdcsError;
use super::json::{directory_id, repofile, result_dir, toplevel_dir};
use super::lifecycle::{self, GENERATE_JOB};
use super::{NO_INHERITANCE, NO_REUSE, SourceType};
use crate::buildsys::{BuildInfo, ListTaggedOptions};
use crate::db::types::JobState;
use crate::db::{DbConnection, write_transaction};
use crate::masher::repo::{self, ExtraMetadata, HeaderCache, RepoFile};
use crate::masher::repos::{content_of, fits};
use crate::models::build::Build;
use crate::models::job::Job;
use crate::models::now;
use crate::models::odcs::{DONE, FAILED, GENERATING, OdcsCompose, WAIT};
use crate::models::update::Update;
use crate::state::AppState;
use crate::worker::JobHandler;

/// The jobs of on-demand composes, unless this node does not generate them.
pub fn handlers(settings: &crate::config::Settings) -> Vec<Arc<dyn JobHandler>> {
    if !settings.odcs.enabled {
        return Vec::new();
    }
    let every = Duration::from_secs(settings.odcs.cleanup_interval_secs.max(1));
    vec![Arc::new(Generate), Arc::new(Cleanup { every })]
}

pub struct Generate;

#[derive(Deserialize)]
struct GeneratePayload {
    id: i32,
}

impl JobHandler for Generate {
    fn kind(&self) -> &'static str {
        GENERATE_JOB
    }

    fn run(&self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        let payload: GeneratePayload =
            serde_json::from_str(&job.payload).context("the job names no compose")?;
        generate(state, payload.id)
    }
}

fn odcs_error(error: OdcsError) -> anyhow::Error {
    anyhow!("{error}")
}

/// Generates compose `id` if it waits (or was generating when its worker died). A compose
/// that cannot be made fails with the reason; only database trouble makes the job retry.
pub fn generate(state: &AppState, id: i32) -> anyhow::Result<()> {
    let settings = &state.settings;
    let mut conn = state.db.conn()?;
    let started = write_transaction(&mut conn, |conn| -> Result<_, OdcsError> {
        let Some(mut compose) = OdcsCompose::by_id(conn, id)? else {
            return Ok(None);
        };
        match compose.state {
            WAIT => {
                let reason = "Compose is generating";
                lifecycle::transition(conn, settings, &mut compose, GENERATING, reason, now())?;
                Ok(Some(compose))
            }
            GENERATING if compose.reused_id.is_none() => Ok(Some(compose)),
            _ => Ok(None),
        }
    })
    .map_err(odcs_error)?;
    let Some(mut compose) = started else {
        return Ok(());
    };
    let outcome = produce(state, &mut conn, &mut compose);
    write_transaction(&mut conn, |conn| -> Result<(), OdcsError> {
        let Some(mut current) = OdcsCompose::by_id(conn, id)? else {
            return Ok(());
        };
        if current.state != GENERATING || current.reused_id.is_some() {
            return Ok(());
        }
        current.koji_event = compose.koji_event;
        current.builds = compose.builds.clone();
        let (state, reason) = match &outcome {
            Ok(()) => (DONE, "Compose is generated successfully".to_owned()),
            Err(error) => (FAILED, format!("{error:#}")),
        };
        lifecycle::transition(conn, settings, &mut current, state, &reason, now())
    })
    .map_err(odcs_error)?;
    match outcome {
        Ok(()) => tracing::info!(compose = id, "on-demand compose done"),
        Err(error) => {
            tracing::warn!(compose = id, error = %format!("{error:#}"), "on-demand compose failed")
        }
    }
    Ok(())
}

/// Reads the content, reuses an identical compose or writes the repositories. Ok when the
/// compose is done (or now follows another).
fn produce(
    state: &AppState,
    conn: &mut DbConnection,
    compose: &mut OdcsCompose,
) -> anyhow::Result<()> {
    let buildsys = state.buildsys.as_ref();
    let source_type = SourceType::from_number(compose.source_type)
        .ok_or_else(|| anyhow!("unknown source type {}", compose.source_type))?;
    compose.koji_event = Some(buildsys.last_event()?);
    let tags = match source_type {
        SourceType::Tag => {
            let tag = compose.source.clone();
            if buildsys.get_tag(&tag)?.is_none() {
                bail!("Koji tag {tag} does not exist.");
            }
            let mut tags = vec![tag.clone()];
            if compose.flags & NO_INHERITANCE == 0 {
                tags.extend(buildsys.full_inheritance(&tag)?);
            }
            tags
        }
        SourceType::Update => {
            compose.builds = Some(update_builds(conn, &compose.source)?.join(" "));
            Vec::new()
        }
        _ => Vec::new(),
    };
    if compose.flags & NO_REUSE == 0 && try_reuse(state, conn, compose, &tags)? {
        return Ok(());
    }
    // Recorded now, so that an identical request made while this one is generated can follow
    // it instead of generating the same repository again.
    write_transaction(conn, |conn| -> Result<(), OdcsError> {
        if let Some(mut current) = OdcsCompose::by_id(conn, compose.id)?
            && current.state == GENERATING
        {
            current.koji_event = compose.koji_event;
            current.builds = compose.builds.clone();
            current.save(conn)?;
        }
        Ok(())
    })
    .map_err(odcs_error)?;
    let builds = builds_of(state, compose, source_type)?;
    write_compose(state, compose, builds)
}

/// The NVRs of the builds of updates, by alias.
fn update_builds(conn: &mut DbConnection, aliases: &str) -> anyhow::Result<Vec<String>> {
    let mut nvrs = BTreeSet::new();
    for alias in aliases.split_whitespace() {
        let update = Update::by_alias(conn, alias)?
            .ok_or_else(|| anyhow!("Update {alias} does not exist."))?;
        nvrs.extend(
            Build::for_updates(conn, &[update.id])?
                .into_iter()
                .map(|b| b.nvr),
        );
    }
    Ok(nvrs.into_iter().collect())
}

fn word_set(words: Option<&str>) -> BTreeSet<&str> {
    words.unwrap_or("").split_whitespace().collect()
}

/// ODCS's `get_reusable_compose` test of everything but the build system event.
fn same_request(old: &OdcsCompose, new: &OdcsCompose) -> bool {
    word_set(old.packages.as_deref()) == word_set(new.packages.as_deref())
        && word_set(old.builds.as_deref()) == word_set(new.builds.as_deref())
        && word_set(Some(&old.sigkeys)) == word_set(Some(&new.sigkeys))
        && word_set(Some(&old.arches)) == word_set(Some(&new.arches))
        && old.source == new.source
        && old.flags == new.flags
        && old.results == new.results
        && old.respin_of == new.respin_of
}

/// Reuses the first identical compose whose content has not changed: for a tag, nothing
/// tagged into or out of it (or the tags it inherits) since the old compose's event; for
/// builds and updates, the same NVRs, whose content never changes. True if it reused one.
fn try_reuse(
    state: &AppState,
    conn: &mut DbConnection,
    compose: &mut OdcsCompose,
    tags: &[String],
) -> anyhow::Result<bool> {
    let event = compose.koji_event.unwrap_or(i32::MAX);
    for mut candidate in OdcsCompose::reuse_candidates(conn, compose)? {
        if !same_request(&candidate, compose) {
            continue;
        }
        let Some(old_event) = candidate.koji_event else {
            continue;
        };
        if old_event > event {
            continue;
        }
        if !tags.is_empty() && state.buildsys.tag_changed_since_event(old_event, tags)? {
            continue;
        }
        if candidate.state == DONE
            && !toplevel_dir(&state.settings.odcs.target_dir, candidate.id).is_dir()
        {
            continue;
        }
        let settings = &state.settings;
        let reused = write_transaction(conn, |conn| -> Result<bool, OdcsError> {
            let Some(mut current) = OdcsCompose::by_id(conn, compose.id)? else {
                return Ok(false);
            };
            if current.state != GENERATING {
                return Ok(false);
            }
            current.koji_event = compose.koji_event;
            current.builds = compose.builds.clone();
            lifecycle::reuse(conn, settings, &mut current, &mut candidate, now())?;
            *compose = current;
            Ok(true)
        })
        .map_err(odcs_error)?;
        if reused {
            tracing::info!(
                compose = compose.id,
                reused = candidate.id,
                "on-demand compose reused"
            );
        }
        return Ok(true);
    }
    Ok(false)
}

/// The builds a compose is made of.
fn builds_of(
    state: &AppState,
    compose: &OdcsCompose,
    source_type: SourceType,
) -> anyhow::Result<Vec<BuildInfo>> {
    let buildsys = state.buildsys.as_ref();
    if source_type == SourceType::Tag {
        let options = ListTaggedOptions {
            latest: true,
            inherit: compose.flags & NO_INHERITANCE == 0,
            ..Default::default()
        };
        let packages = word_set(compose.packages.as_deref());
        let tagged = buildsys
            .list_tagged(&compose.source, &options)
            .with_context(|| format!("listing the builds of {}", compose.source))?;
        let builds: Vec<BuildInfo> = tagged
            .into_iter()
            .map(|t| t.build)
            .filter(|b| packages.is_empty() || packages.contains(b.package_name.as_str()))
            .collect();
        if let Some(missing) = packages
            .iter()
            .find(|p| !builds.iter().any(|b| b.package_name == **p))
        {
            bail!("Package {missing} is not tagged in {}.", compose.source);
        }
        return Ok(builds);
    }
    word_set(compose.builds.as_deref())
        .into_iter()
        .map(|nvr| {
            buildsys
                .get_build(nvr)?
                .ok_or_else(|| anyhow!("Build {nvr} does not exist."))
        })
        .collect()
}

/// Whether a package goes to the debuginfo repository.
fn is_debug(name: &str) -> bool {
    name.ends_with("-debuginfo") || name.ends_with("-debugsource")
}

/// Writes the repositories of `builds` into a private directory, then renames it to
/// `odcs-<id>`.
fn write_compose(
    state: &AppState,
    compose: &OdcsCompose,
    builds: Vec<BuildInfo>,
) -> anyhow::Result<()> {
    let settings = &state.settings;
    let keys: Vec<String> = compose
        .sigkeys
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    // No keys asked: the unsigned files will do.
    let keys = if keys.is_empty() {
        vec![String::new()]
    } else {
        keys
    };
    let content = content_of(state, builds, &keys)?;
    let cache = HeaderCache::new(&settings.masher.cache_dir);
    let (packages, _) =
        repo::read_packages(&content.files, &cache, settings.masher.header_workers)?;
    let target = std::path::absolute(&settings.odcs.target_dir)
        .with_context(|| format!("resolving {}", settings.odcs.target_dir.display()))?;
    fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let private = target.join(format!(
        ".odcs-{}.{}-{}",
        compose.id,
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let written = write_repositories(state, compose, &packages, &content.modules, &private)
        .and_then(|()| {
            let final_dir = toplevel_dir(&target, compose.id);
            if final_dir.exists() {
                fs::remove_dir_all(&final_dir)
                    .with_context(|| format!("removing {}", final_dir.display()))?;
            }
            fs::rename(&private, &final_dir)
                .with_context(|| format!("publishing {}", final_dir.display()))?;
            repo::sync_dir(&target)
        });
    if written.is_err() {
        let _ = fs::remove_dir_all(&private);
    }
    written
}

fn write_repositories(
    state: &AppState,
    compose: &OdcsCompose,
    packages: &[RepoFile],
    modules: &[String],
    toplevel: &Path,
) -> anyhow::Result<()> {
    let compression = state.settings.masher.compression;
    let revision = chrono::Utc::now().timestamp();
    let extras: Vec<ExtraMetadata> = if modules.is_empty() {
        Vec::new()
    } else {
        vec![ExtraMetadata {
            kind: "modules",
            extension: "yaml",
            content: modules.concat(),
        }]
    };
    let results = result_dir(toplevel);
    let binary = |arch: &str, debug: bool| -> Vec<&RepoFile> {
        packages
            .iter()
            .filter(|p| p.package.arch != "src" && fits(&p.package.arch, arch))
            .filter(|p| is_debug(&p.package.name) == debug)
            .collect()
    };
    let mut repos: Vec<(PathBuf, Vec<&RepoFile>)> = Vec::new();
    for arch in compose.arches.split_whitespace() {
        repos.push((results.join(arch).join("os"), binary(arch, false)));
        repos.push((results.join(arch).join("debug/tree"), binary(arch, true)));
    }
    repos.push((
        results.join("source/tree"),
        packages
            .iter()
            .filter(|p| p.package.arch == "src")
            .collect(),
    ));
    for (dir, chosen) in &repos {
        let written = repo::write_repository(dir, chosen, &extras, compression, revision)
            .with_context(|| format!("writing {}", dir.display()))?;
        let mut required = vec!["primary", "filelists", "other"];
        required.extend(extras.iter().map(|e| e.kind));
        repo::sanity_check(dir, &written, chosen, &required)
            .with_context(|| format!("sanity check of {}", dir.display()))?;
    }
    let repofile_path = results.join(format!("odcs-{}.repo", compose.id));
    fs::write(&repofile_path, repofile(&state.settings, compose))
        .with_context(|| format!("writing {}", repofile_path.display()))?;
    Ok(())
}

/// ODCS's `RemoveExpiredComposes`: every done or failed compose past its expiry is removed,
/// with its directory once no compose uses it; directories no compose owns go too.
pub struct Cleanup {
    every: Duration,
}

impl JobHandler for Cleanup {
    fn kind(&self) -> &'static str {
        "odcs_cleanup"
    }

    fn every(&self) -> Option<Duration> {
        Some(self.every)
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let removed = cleanup(state)?;
        tracing::info!(removed, "odcs_cleanup done");
        Ok(())
    }
}

/// Removes expired composes; returns how many. First fails the composes whose generation
/// job gave up.
pub fn cleanup(state: &AppState) -> anyhow::Result<usize> {
    let settings = &state.settings;
    let mut conn = state.db.conn()?;
    fail_abandoned(state, &mut conn)?;
    let expired = OdcsCompose::expired(&mut conn, now())?;
    let mut removed = 0;
    for compose in expired {
        let id = compose.id;
        let unused = write_transaction(&mut conn, |conn| -> Result<Option<i32>, OdcsError> {
            let Some(mut current) = OdcsCompose::by_id(conn, id)? else {
                return Ok(None);
            };
            if !matches!(current.state, DONE | FAILED) || current.time_to_expire >= now() {
                return Ok(None);
            }
            let unused = lifecycle::expire(conn, settings, &mut current, now())?;
            Ok(unused.then(|| directory_id(&current)))
        })
        .map_err(odcs_error)?;
        removed += 1;
        if let Some(directory) = unused {
            remove_dir(&toplevel_dir(&settings.odcs.target_dir, directory));
        }
    }
    sweep_orphans(state, &mut conn)?;
    Ok(removed)
}

/// A generation job retries only on database trouble; once it has used up its attempts, its
/// compose would otherwise wait or generate for ever. Such a compose fails with the job's
/// last error, and then expires like any failed compose. Returns how many failed.
pub fn fail_abandoned(state: &AppState, conn: &mut DbConnection) -> anyhow::Result<usize> {
    let mut failed = 0;
    for compose in OdcsCompose::generating_themselves(conn)? {
        let id = compose.id;
        let Some(job) = Job::latest_by_dedup_key(conn, &lifecycle::generate_job_key(id))? else {
            continue;
        };
        if job.state != JobState::Failed {
            continue;
        }
        let reason = format!(
            "Compose generation gave up after {} attempts: {}",
            job.attempts,
            job.last_error.as_deref().unwrap_or("no error recorded")
        );
        let changed = write_transaction(conn, |conn| -> Result<bool, OdcsError> {
            let Some(mut current) = OdcsCompose::by_id(conn, id)? else {
                return Ok(false);
            };
            if !matches!(current.state, WAIT | GENERATING) || current.reused_id.is_some() {
                return Ok(false);
            }
            lifecycle::transition(conn, &state.settings, &mut current, FAILED, &reason, now())?;
            Ok(true)
        })
        .map_err(odcs_error)?;
        if changed {
            tracing::warn!(compose = id, %reason, "on-demand compose abandoned");
            failed += 1;
        }
    }
    Ok(failed)
}

/// A directory that cannot go (permissions, a busy NFS file) is left for the next cleanup.
fn remove_dir(dir: &Path) {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(dir = %dir.display(), "compose directory not removed: {error}")
        }
    }
}

/// Removes `odcs-<id>` directories whose compose is removed or unknown, and private
/// directories of generations that are over.
fn sweep_orphans(state: &AppState, conn: &mut DbConnection) -> anyhow::Result<()> {
    let target = &state.settings.odcs.target_dir;
    let Ok(entries) = fs::read_dir(target) else {
        return Ok(());
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (id, private) = match (name.strip_prefix("odcs-"), name.strip_prefix(".odcs-")) {
            (Some(id), _) => (id.parse::<i32>().ok(), false),
            (_, Some(rest)) => (rest.split('.').next().and_then(|id| id.parse().ok()), true),
            _ => continue,
        };
        let Some(id) = id else { continue };
        let keep = if private {
            OdcsCompose::by_id(conn, id)?.is_some_and(|c| c.state == GENERATING)
        } else {
            OdcsCompose::directory_in_use(conn, id)?
        };
        if !keep {
            remove_dir(&entry.path());
        }
    }
    Ok(())
}
