//! The repository steps of an RPM compose (spec §6.4, written natively instead of by Pungi):
//! updateinfo, one repository per arch and one of the sources from every build latest-tagged
//! in the requested tag, the sanity check, the atomic publish and, at the end, the removal of
//! old composes.
//!
//! A compose writes into its own directory `<compose_dir>/<tag>-<YYYYMMDD.HHMMSS>/` (recorded
//! in the checkpoints before anything is written), with Pungi's layout
//! `Everything/<arch>/os/` and `Everything/source/tree/`. Publishing swaps the symlink
//! `<stage_dir>/<tag>` to it, so readers see the old repositories or the new ones, never a
//! mix. A compose resumed before its repositories were complete removes the partial directory
//! and writes it again; one resumed after publishing does nothing here.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDateTime;

use crate::buildsys::{BuildInfo, ListTaggedOptions, RpmInfo};
use crate::config::{BuildsysKind, Settings};
use crate::db::types::ComposeState;
use crate::db::{DbConnection, write_transaction};
use crate::models::now;
use crate::state::AppState;

use super::repo::{self, ExtraMetadata, HeaderCache, RepoFile};
use super::updateinfo::{self, UpdateinfoSettings};
use super::work::Work;

/// Koji's top directory, where the build system keeps RPM files.
pub fn topdir(settings: &Settings) -> &Path {
    match settings.buildsys.kind {
        BuildsysKind::Local => &settings.buildsys.local.root,
        BuildsysKind::Koji => &settings.buildsys.koji.topdir,
    }
}

/// Where the build system keeps one RPM of a build: the copy signed with the first of
/// `sigkeys` that exists, or the unsigned file when no keys are asked for.
pub fn rpm_path(
    topdir: &Path,
    build: &BuildInfo,
    rpm: &RpmInfo,
    sigkeys: &[String],
) -> anyhow::Result<PathBuf> {
    let dir = topdir
        .join("packages")
        .join(&build.package_name)
        .join(&build.version)
        .join(&build.release);
    let file = format!(
        "{}-{}-{}.{}.rpm",
        rpm.name, rpm.version, rpm.release, rpm.arch
    );
    if sigkeys.is_empty() {
        return Ok(dir.join(&rpm.arch).join(file));
    }
    for key in sigkeys {
        let signed = dir
            .join("data/signed")
            .join(key.to_lowercase())
            .join(&rpm.arch)
            .join(&file);
        if signed.is_file() {
            return Ok(signed);
        }
    }
    bail!(
        "{file} of {} has no copy signed with {} under {}",
        build.nvr,
        sigkeys.join(", "),
        dir.join("data/signed").display()
    )
}

fn sigkeys<'a>(settings: &'a Settings, release: &str) -> &'a [String] {
    settings
        .masher
        .release_sigkeys
        .get(release)
        .unwrap_or(&settings.masher.sigkeys)
}

/// A new directory for a compose of `tag` started at `started`:
/// `<tag>-<YYYYMMDD.HHMMSS>`, with `.<n>` added when a compose of the same second has it.
/// The path is absolute: it is checkpointed, and the worker resuming the compose may run in
/// another directory.
fn compose_dir_for(
    settings: &Settings,
    tag: &str,
    started: NaiveDateTime,
) -> anyhow::Result<PathBuf> {
    let compose_dir = std::path::absolute(&settings.masher.compose_dir)
        .with_context(|| format!("resolving {}", settings.masher.compose_dir.display()))?;
    let stamp = started.format("%Y%m%d.%H%M%S").to_string();
    let mut candidate = compose_dir.join(format!("{tag}-{stamp}"));
    let mut n = 0;
    while candidate.exists() {
        n += 1;
        candidate = compose_dir.join(format!("{tag}-{stamp}.{n}"));
    }
    Ok(candidate)
}

/// The repository of one arch (or `source`) inside a compose directory.
pub fn arch_repo(compose: &Path, arch: &str) -> PathBuf {
    if arch == "source" {
        compose.join("Everything/source/tree")
    } else {
        compose.join("Everything").join(arch).join("os")
    }
}

/// Updateinfo, repositories, sanity check and publish, each checkpointed.
pub fn compose_repositories(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
    target_tag: &str,
    heartbeat: super::steps::Heartbeat<'_>,
) -> anyhow::Result<()> {
    let settings = &state.settings;
    if !work.done("completed_repo") {
        heartbeat("completed_repo")?;
        write_transaction(conn, |conn| {
            work.set_state(conn, ComposeState::Updateinfo, now())
        })?;
        // Each attempt writes a directory of its own, recorded before anything is written: one
        // left by an attempt that crashed (or by a worker that lost its lease and may still be
        // writing) is never reused; the cleanup of old composes removes it.
        let dir = compose_dir_for(settings, target_tag, now())?;
        work.set_text("repo_dir", &dir.to_string_lossy());
        write_transaction(conn, |conn| work.save(conn))?;
        let content = tagged_content(state, target_tag, &work.release.name)?;
        let cache = HeaderCache::new(&settings.masher.cache_dir);
        let (packages, stats) =
            repo::read_packages(&content.files, &cache, settings.masher.header_workers)?;
        tracing::info!(
            compose = work.compose.id,
            tag = target_tag,
            rpms = packages.len(),
            parsed = stats.parsed,
            cached = stats.cached,
            "read the repository's RPM headers"
        );
        let owned: Vec<(&RepoFile, &str)> = packages
            .iter()
            .zip(content.owners.iter().map(String::as_str))
            .collect();
        let updateinfo = updateinfo::generate(
            conn,
            &work.release,
            &owned,
            &UpdateinfoSettings {
                from: &settings.mail.from,
                rights: &settings.masher.updateinfo_rights,
                file_url: &settings.masher.file_url,
                buglink: &settings.masher.buglink,
                now: now(),
            },
        )?;
        write_transaction(conn, |conn| {
            work.set_state(conn, ComposeState::Punging, now())
        })?;
        let mut extras = vec![ExtraMetadata {
            kind: "updateinfo",
            extension: "xml",
            content: updateinfo,
        }];
        if !content.modules.is_empty() {
            extras.push(ExtraMetadata {
                kind: "modules",
                extension: "yaml",
                content: content.modules.concat(),
            });
        }
        write_all(state, target_tag, &dir, &packages, &extras)?;
        work.mark_done("completed_repo");
        write_transaction(conn, |conn| {
            work.save(conn)?;
            super::events::queue(
                conn,
                work,
                "repo.done",
                "bodhi.repo.done",
                serde_json::json!({
                    "repo": target_tag,
                    "agent": super::events::AGENT,
                    "path": dir.to_string_lossy(),
                }),
            )
        })?;
    }
    let dir = work
        .text("repo_dir")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("the compose has no repository directory checkpoint"))?;
    if !work.done("compose_done") {
        if settings.masher.wait_for_repo_signature {
            write_transaction(conn, |conn| {
                work.set_state(conn, ComposeState::SigningRepo, now())
            })?;
            wait_for_signatures(settings, &dir, heartbeat)?;
        }
        heartbeat("compose_done")?;
        publish(&settings.masher.stage_dir, target_tag, &dir)?;
        work.mark_done("compose_done");
        write_transaction(conn, |conn| work.save(conn))?;
    }
    let urls = match work.request() {
        crate::db::types::UpdateRequest::Stable => &settings.masher.stable_repomd_urls,
        _ => &settings.masher.testing_repomd_urls,
    };
    if let Some(url) = urls.get(&work.release.name) {
        let body = serde_json::json!({"repo": target_tag, "agent": super::events::AGENT});
        write_transaction(conn, |conn| -> anyhow::Result<()> {
            work.set_state(conn, ComposeState::SyncingRepo, now())?;
            super::events::queue(
                conn,
                work,
                "sync.wait",
                "bodhi.compose.sync.wait",
                body.clone(),
            )?;
            Ok(())
        })?;
        wait_for_mirror(settings, &work.release.version, url, &dir, heartbeat)?;
        write_transaction(conn, |conn| {
            super::events::queue(conn, work, "sync.done", "bodhi.compose.sync.done", body)
        })?;
    }
    Ok(())
}

/// The repositories of a compose directory: (arch or `source`, path).
fn repositories_in(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let everything = dir.join("Everything");
    let mut found = Vec::new();
    for entry in
        fs::read_dir(&everything).with_context(|| format!("reading {}", everything.display()))?
    {
        let arch = entry?.file_name().to_string_lossy().into_owned();
        found.push((arch.clone(), arch_repo(dir, &arch)));
    }
    found.sort();
    Ok(found)
}

/// Polls until `done` says yes, calling `heartbeat(step)` each round (a lost lease or an
/// injected fault ends the wait); fails after `wait_timeout_secs` when that is set.
fn wait_until(
    settings: &Settings,
    step: &str,
    heartbeat: super::steps::Heartbeat<'_>,
    what: &dyn Fn() -> String,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let timeout = settings.masher.wait_timeout_secs;
    loop {
        heartbeat(step)?;
        if done()? {
            return Ok(());
        }
        if timeout > 0 && started.elapsed().as_secs() >= timeout {
            bail!("gave up after {timeout} s waiting for {}", what());
        }
        std::thread::sleep(std::time::Duration::from_millis(
            settings.masher.wait_poll_ms.max(1),
        ));
    }
}

/// Bodhi's `_wait_for_repo_signature`: every repomd.xml has its detached signature.
fn wait_for_signatures(
    settings: &Settings,
    dir: &Path,
    heartbeat: super::steps::Heartbeat<'_>,
) -> anyhow::Result<()> {
    let repos = repositories_in(dir)?;
    let unsigned = || -> Vec<PathBuf> {
        repos
            .iter()
            .map(|(_, repo)| repo.join("repodata/repomd.xml.asc"))
            .filter(|asc| !asc.is_file())
            .collect()
    };
    let what = || {
        let missing: Vec<String> = unsigned().iter().map(|p| p.display().to_string()).collect();
        format!("the signatures {}", missing.join(", "))
    };
    wait_until(settings, "signing_repo", heartbeat, &what, || {
        Ok(unsigned().is_empty())
    })
}

/// Bodhi's `_wait_for_sync`: the master mirror serves the repomd.xml of the compose's first
/// arch (same SHA-1 as ours). A mirror that cannot be reached is asked again next round.
fn wait_for_mirror(
    settings: &Settings,
    version: &str,
    template: &str,
    dir: &Path,
    heartbeat: super::steps::Heartbeat<'_>,
) -> anyhow::Result<()> {
    use sha1::{Digest, Sha1};
    let Some((arch, repo)) = repositories_in(dir)?
        .into_iter()
        .find(|(arch, _)| arch != "source")
    else {
        return Ok(());
    };
    let local = repo.join("repodata/repomd.xml");
    let ours =
        Sha1::digest(fs::read(&local).with_context(|| format!("reading {}", local.display()))?);
    let url = template
        .replace("{version}", version)
        .replace("{arch}", &arch);
    let what = || format!("{url} to match {}", local.display());
    // A mirror that hangs must not hold the wait past its timeout.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    wait_until(settings, "syncing_repo", heartbeat, &what, || {
        let theirs = agent
            .get(&url)
            .call()
            .and_then(|mut reply| reply.body_mut().read_to_vec());
        match theirs {
            Ok(bytes) => Ok(Sha1::digest(&bytes) == ours),
            Err(error) => {
                tracing::warn!(%url, "mirror not reachable yet: {error}");
                Ok(false)
            }
        }
    })
}

/// What a repository is made of: RPM files, each with the NVR of the build it belongs to,
/// and the modulemd documents of module builds.
#[derive(Debug, Default)]
pub struct Content {
    pub files: Vec<PathBuf>,
    pub owners: Vec<String>,
    pub modules: Vec<String>,
}

/// The RPM files of every build latest-tagged in `tag` (not inherited: an updates tag's
/// repository holds the updates only, as Fedora's Pungi configuration has it).
fn tagged_content(state: &AppState, tag: &str, release: &str) -> anyhow::Result<Content> {
    let latest = ListTaggedOptions {
        latest: true,
        ..Default::default()
    };
    let tagged = state
        .buildsys
        .list_tagged(tag, &latest)
        .with_context(|| format!("listing the builds of {tag}"))?;
    let builds = tagged.into_iter().map(|t| t.build).collect();
    content_of(state, builds, sigkeys(&state.settings, release))
        .with_context(|| format!("reading the builds of {tag}"))
}

/// The RPM files of `builds`, signed with the first of `keys` that has a copy (`""` in
/// `keys`: the unsigned file will do). A module build brings the RPMs of its content tag and
/// its modulemd document (Koji's `extra.typeinfo.module`).
pub fn content_of(
    state: &AppState,
    builds: Vec<BuildInfo>,
    keys: &[String],
) -> anyhow::Result<Content> {
    let buildsys = state.buildsys.as_ref();
    let latest = ListTaggedOptions {
        latest: true,
        ..Default::default()
    };
    let topdir = topdir(&state.settings);
    let mut content = Content::default();
    // (build, the build whose update brings it): plain builds bring themselves, a module
    // build the builds of its content tag.
    let mut wanted: Vec<(BuildInfo, String)> = Vec::new();
    for build in builds {
        let Some(module) = build.extra.pointer("/typeinfo/module") else {
            let nvr = build.nvr.clone();
            wanted.push((build, nvr));
            continue;
        };
        let modulemd = module
            .get("modulemd_str")
            .and_then(|m| m.as_str())
            .ok_or_else(|| anyhow!("module build {} has no modulemd_str", build.nvr))?;
        let content_tag = module
            .get("content_koji_tag")
            .and_then(|m| m.as_str())
            .ok_or_else(|| anyhow!("module build {} has no content_koji_tag", build.nvr))?;
        let components = buildsys
            .list_tagged(content_tag, &latest)
            .with_context(|| format!("listing the builds of {content_tag}"))?;
        for component in components {
            wanted.push((component.build, build.nvr.clone()));
        }
        content.modules.push(modulemd_document(modulemd));
    }
    let nvrs: Vec<&str> = wanted.iter().map(|(b, _)| b.nvr.as_str()).collect();
    let rpms = buildsys
        .list_build_rpms_many(&nvrs)
        .context("listing the RPMs of the builds")?;
    let signed_keys: Vec<String> = keys.iter().filter(|k| !k.is_empty()).cloned().collect();
    let unsigned_will_do = keys.iter().any(String::is_empty);
    for ((build, owner), rpms) in wanted.iter().zip(rpms) {
        for rpm in &rpms {
            let path = match rpm_path(topdir, build, rpm, &signed_keys) {
                Err(_) if unsigned_will_do => rpm_path(topdir, build, rpm, &[])?,
                path => path?,
            };
            content.files.push(path);
            content.owners.push(owner.clone());
        }
    }
    Ok(content)
}

/// One modulemd document of modules.yaml: `---` first and `...` last, as libmodulemd emits.
fn modulemd_document(modulemd: &str) -> String {
    let body = modulemd.trim();
    let body = body
        .strip_prefix("---")
        .unwrap_or(body)
        .trim_start_matches('\n');
    let body = body.strip_suffix("...").unwrap_or(body).trim_end();
    format!("---\n{body}\n...\n")
}

/// The arches of the binary repositories: the tag's, else those of the packages.
fn arches(state: &AppState, tag: &str, packages: &[RepoFile]) -> anyhow::Result<Vec<String>> {
    let from_tag = state
        .buildsys
        .get_tag(tag)?
        .and_then(|t| t.arches)
        .unwrap_or_default();
    let mut arches: BTreeSet<String> = from_tag.split_whitespace().map(str::to_owned).collect();
    if arches.is_empty() {
        arches = packages
            .iter()
            .map(|p| p.package.arch.clone())
            .filter(|a| a != "noarch" && a != "src")
            .collect();
    }
    if arches.is_empty() {
        arches.insert(std::env::consts::ARCH.to_owned());
    }
    Ok(arches.into_iter().collect())
}

/// Whether a binary package belongs in the repository of `arch`.
pub fn fits(package_arch: &str, arch: &str) -> bool {
    package_arch == "noarch" || package_arch == arch || (arch == "x86_64" && package_arch == "i686")
}

fn write_all(
    state: &AppState,
    tag: &str,
    dir: &Path,
    packages: &[RepoFile],
    extras: &[ExtraMetadata],
) -> anyhow::Result<()> {
    let settings = &state.settings.masher;
    let revision = chrono::Utc::now().timestamp();
    let mut repos: Vec<(String, Vec<&RepoFile>)> = arches(state, tag, packages)?
        .into_iter()
        .map(|arch| {
            let chosen = packages
                .iter()
                .filter(|p| p.package.arch != "src" && fits(&p.package.arch, &arch))
                .collect();
            (arch, chosen)
        })
        .collect();
    repos.push((
        "source".to_owned(),
        packages
            .iter()
            .filter(|p| p.package.arch == "src")
            .collect(),
    ));
    for (arch, chosen) in &repos {
        let repo_dir = arch_repo(dir, arch);
        let written =
            repo::write_repository(&repo_dir, chosen, extras, settings.compression, revision)
                .with_context(|| format!("writing {}", repo_dir.display()))?;
        let mut required = vec!["primary", "filelists", "other"];
        required.extend(extras.iter().map(|e| e.kind));
        repo::sanity_check(&repo_dir, &written, chosen, &required)
            .with_context(|| format!("sanity check of {}", repo_dir.display()))?;
    }
    Ok(())
}

/// Points `<stage_dir>/<tag>` at `dir`: a new symlink renamed over the old one, which POSIX
/// makes atomic.
pub fn publish(stage_dir: &Path, tag: &str, dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(stage_dir).with_context(|| format!("creating {}", stage_dir.display()))?;
    let target = fs::canonicalize(dir).with_context(|| format!("resolving {}", dir.display()))?;
    let link = stage_dir.join(tag);
    let temporary = stage_dir.join(format!(".{tag}.{}", std::process::id()));
    let _ = fs::remove_file(&temporary);
    std::os::unix::fs::symlink(&target, &temporary)
        .with_context(|| format!("linking {}", temporary.display()))?;
    fs::rename(&temporary, &link).with_context(|| format!("publishing {}", link.display()))?;
    repo::sync_dir(stage_dir)?;
    Ok(())
}

/// Bodhi's clean_old_composes: the composes of `tag` beyond the newest `keep` are removed,
/// never the published one.
pub fn remove_old_composes(settings: &Settings, tag: &str) -> anyhow::Result<usize> {
    let compose_dir = &settings.masher.compose_dir;
    let Ok(entries) = fs::read_dir(compose_dir) else {
        return Ok(0);
    };
    let published = fs::canonicalize(settings.masher.stage_dir.join(tag)).ok();
    let prefix = format!("{tag}-");
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_str().is_some_and(|name| {
                name.strip_prefix(&prefix)
                    .is_some_and(|stamp| stamp.chars().all(|c| c.is_ascii_digit() || c == '.'))
            })
        })
        .map(|e| e.path())
        .collect();
    // `<stamp>` then `<stamp>.1`, `<stamp>.2` ... `<stamp>.10`, oldest first.
    dirs.sort_by_key(|dir| {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let stamp = name
            .as_deref()
            .and_then(|n| n.strip_prefix(&prefix))
            .unwrap_or("");
        let mut parts = stamp.splitn(3, '.');
        let day = parts.next().unwrap_or("").to_owned();
        let time = parts.next().unwrap_or("").to_owned();
        let n: u64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        (day, time, n)
    });
    let excess = dirs.len().saturating_sub(settings.masher.keep_composes);
    let mut removed = 0;
    for dir in dirs.into_iter().take(excess) {
        if fs::canonicalize(&dir).ok() == published {
            continue;
        }
        // A directory that cannot go (permissions, a busy NFS file) is left for the next
        // cleanup: the compose's work is done and must not fail for it.
        match fs::remove_dir_all(&dir) {
            Ok(()) => removed += 1,
            Err(error) => tracing::warn!(dir = %dir.display(), "old compose not removed: {error}"),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build() -> BuildInfo {
        BuildInfo {
            id: 1,
            package_name: "nano".into(),
            name: "nano".into(),
            version: "8.2".into(),
            release: "1.fc44".into(),
            epoch: None,
            nvr: "nano-8.2-1.fc44".into(),
            owner_name: "alice".into(),
            state: 1,
            task_id: None,
            creation_event_id: 1,
            creation_time: now(),
            completion_time: None,
            source: None,
            extra: serde_json::Value::Null,
        }
    }

    fn rpm(name: &str, arch: &str) -> RpmInfo {
        RpmInfo {
            id: 1,
            build_id: 1,
            name: name.into(),
            version: "8.2".into(),
            release: "1.fc44".into(),
            epoch: None,
            arch: arch.into(),
            size: 1,
            payloadhash: String::new(),
            buildtime: 0,
        }
    }

    #[test]
    fn signed_copies_are_taken_by_key_preference() {
        let top = tempfile::tempdir().unwrap();
        let unsigned = rpm_path(top.path(), &build(), &rpm("nano", "x86_64"), &[]).unwrap();
        assert_eq!(
            unsigned,
            top.path()
                .join("packages/nano/8.2/1.fc44/x86_64/nano-8.2-1.fc44.x86_64.rpm")
        );
        let signed_dir = top
            .path()
            .join("packages/nano/8.2/1.fc44/data/signed/b2f5d8a1/x86_64");
        fs::create_dir_all(&signed_dir).unwrap();
        fs::write(signed_dir.join("nano-8.2-1.fc44.x86_64.rpm"), b"rpm").unwrap();
        let keys = vec!["0000aaaa".to_owned(), "B2F5D8A1".to_owned()];
        assert_eq!(
            rpm_path(top.path(), &build(), &rpm("nano", "x86_64"), &keys).unwrap(),
            signed_dir.join("nano-8.2-1.fc44.x86_64.rpm")
        );
        let missing = rpm_path(top.path(), &build(), &rpm("nano-doc", "noarch"), &keys)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("nano-doc-8.2-1.fc44.noarch.rpm of nano-8.2-1.fc44 has no copy signed with 0000aaaa, B2F5D8A1"),
            "{missing}"
        );
    }

    #[test]
    fn old_composes_go_but_the_newest_and_the_published_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.masher.compose_dir = dir.path().join("composes");
        settings.masher.stage_dir = dir.path().join("repos");
        settings.masher.keep_composes = 2;
        let names = [
            "f44-updates-testing-20261201.100000",
            "f44-updates-testing-20261201.110000",
            "f44-updates-testing-20261201.120000",
            "f44-updates-testing-20261201.120000.10",
            "f44-updates-testing-20261201.120000.2",
            "f44-updates-20261201.090000",
        ];
        for name in names {
            fs::create_dir_all(settings.masher.compose_dir.join(name)).unwrap();
        }
        // The oldest is still published (a newer compose failed before publishing).
        publish(
            &settings.masher.stage_dir,
            "f44-updates-testing",
            &settings.masher.compose_dir.join(names[0]),
        )
        .unwrap();
        // Oldest first: 10:00 (published, kept), 11:00, 12:00, 12:00.2, then 12:00.10.
        let removed = remove_old_composes(&settings, "f44-updates-testing").unwrap();
        assert_eq!(removed, 2);
        let left: BTreeSet<String> = fs::read_dir(&settings.masher.compose_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left,
            BTreeSet::from([names[0], names[3], names[4], names[5]].map(str::to_owned))
        );
    }
}
