//! `pipal buildsys import DIR`: registers RPM files laid out like Koji's
//! `packages/<name>/<version>/<release>/<arch>/*.rpm` as builds of the local build system.
//! Files outside the build system's top directory are linked (or copied) into it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use crate::db::write_transaction;
use crate::models::buildsys::{
    BUILD_STATE_COMPLETE, BuildsysBuild, Event, NewBuildsysBuild, NewRpm, Rpm,
};
use crate::models::now;

use super::LocalBuildSystem;
use super::rpmfile::RpmHeader;

/// Directories of a Koji build directory that hold no unsigned RPMs of their own.
const NON_ARCH_DIRS: &[&str] = &["data", "logs"];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// NVRs registered by this run.
    pub imported: Vec<String>,
    /// NVRs that were registered already, with the same files.
    pub unchanged: Vec<String>,
    /// RPM files registered by this run.
    pub files: usize,
}

/// One RPM file found in a build directory.
#[derive(Debug, Clone)]
struct FoundRpm {
    path: PathBuf,
    header: RpmHeader,
}

/// A build directory read from disk and checked.
#[derive(Debug, Clone)]
struct FoundBuild {
    name: String,
    version: String,
    release: String,
    rpms: Vec<FoundRpm>,
}

impl FoundBuild {
    fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }
}

/// Imports every build under `dir` (which holds `packages/`, or is the `packages` directory).
pub fn import_directory(
    buildsys: &LocalBuildSystem,
    dir: &Path,
    owner: &str,
) -> anyhow::Result<ImportSummary> {
    let packages = if dir.join("packages").is_dir() {
        dir.join("packages")
    } else {
        dir.to_path_buf()
    };
    if !packages.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut summary = ImportSummary::default();
    for name_dir in sorted_subdirs(&packages)? {
        for version_dir in sorted_subdirs(&name_dir)? {
            for release_dir in sorted_subdirs(&version_dir)? {
                let (nvr, files) = import_build(buildsys, &release_dir, owner)?;
                match files {
                    Some(files) => {
                        summary.files += files;
                        summary.imported.push(nvr);
                    }
                    None => summary.unchanged.push(nvr),
                }
            }
        }
    }
    if summary.imported.is_empty() && summary.unchanged.is_empty() {
        bail!(
            "no builds found under {}: expected packages/<name>/<version>/<release>/<arch>/*.rpm",
            dir.display()
        );
    }
    Ok(summary)
}

/// Imports one `<name>/<version>/<release>` directory. Returns the NVR and the number of RPM
/// files registered, or `None` when the build was registered already with the same files.
pub fn import_build(
    buildsys: &LocalBuildSystem,
    release_dir: &Path,
    owner: &str,
) -> anyhow::Result<(String, Option<usize>)> {
    let found = scan_build(release_dir)?;
    let nvr = found.nvr();
    let placed = place_files(buildsys.root(), &found)?;
    let registered = register(buildsys, &found, &placed, owner)?;
    Ok((nvr, registered.then_some(found.rpms.len())))
}

fn sorted_subdirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads and checks the RPMs of one `<name>/<version>/<release>` directory.
fn scan_build(release_dir: &Path) -> anyhow::Result<FoundBuild> {
    let release = file_name(release_dir);
    let version_dir = release_dir.parent().ok_or_else(|| anyhow!("bad path"))?;
    let version = file_name(version_dir);
    let name = file_name(version_dir.parent().ok_or_else(|| anyhow!("bad path"))?);
    let nvr = format!("{name}-{version}-{release}");
    let expected_srpm = format!("{nvr}.src.rpm");

    let mut rpms = Vec::new();
    for arch_dir in sorted_subdirs(release_dir)? {
        let arch = file_name(&arch_dir);
        if NON_ARCH_DIRS.contains(&arch.as_str()) {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&arch_dir)
            .with_context(|| format!("cannot read {}", arch_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
            .collect();
        files.sort();
        for path in files {
            let header = RpmHeader::read(&path).map_err(|e| anyhow!(e))?;
            if header.arch != arch {
                bail!(
                    "{}: a {} package in the {arch} directory",
                    path.display(),
                    header.arch
                );
            }
            match &header.source_rpm {
                None if header.nvr() != nvr => bail!(
                    "{}: source package {} in the directory of {nvr}",
                    path.display(),
                    header.nvr()
                ),
                Some(srpm) if *srpm != expected_srpm => bail!(
                    "{}: built from {srpm}, not from {expected_srpm}",
                    path.display()
                ),
                _ => {}
            }
            rpms.push(FoundRpm { path, header });
        }
    }
    if rpms.is_empty() {
        bail!(
            "{}: no RPM files in its arch directories",
            release_dir.display()
        );
    }
    Ok(FoundBuild {
        name,
        version,
        release,
        rpms,
    })
}

/// Puts the files of a build under the top directory, linking when possible; returns their
/// paths relative to it.
fn place_files(root: &Path, build: &FoundBuild) -> anyhow::Result<Vec<String>> {
    let mut relative_paths = Vec::new();
    for rpm in &build.rpms {
        let relative = format!(
            "packages/{}/{}/{}/{}/{}",
            build.name,
            build.version,
            build.release,
            rpm.header.arch,
            file_name(&rpm.path)
        );
        let dest = root.join(&relative);
        let same_file = match (rpm.path.canonicalize(), dest.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same_file {
            if dest.exists() {
                let existing = RpmHeader::read(&dest).map_err(|e| anyhow!(e))?;
                if existing.payloadhash != rpm.header.payloadhash
                    || existing.size != rpm.header.size
                {
                    bail!(
                        "{} already exists with other content than {}",
                        dest.display(),
                        rpm.path.display()
                    );
                }
            } else {
                let parent = dest.parent().ok_or_else(|| anyhow!("bad path"))?;
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
                if std::fs::hard_link(&rpm.path, &dest).is_err() {
                    std::fs::copy(&rpm.path, &dest).with_context(|| {
                        format!("cannot copy {} to {}", rpm.path.display(), dest.display())
                    })?;
                }
            }
        }
        relative_paths.push(relative);
    }
    Ok(relative_paths)
}

/// Registers the build; false if it was registered already with the same files.
fn register(
    buildsys: &LocalBuildSystem,
    build: &FoundBuild,
    paths: &[String],
    owner: &str,
) -> anyhow::Result<bool> {
    let nvr = build.nvr();
    let mut conn = buildsys.db().conn()?;
    write_transaction(&mut conn, |conn| {
        let wanted: BTreeSet<(String, String, String)> = build
            .rpms
            .iter()
            .map(|r| {
                (
                    r.header.name.clone(),
                    r.header.arch.clone(),
                    r.header.payloadhash.clone(),
                )
            })
            .collect();
        if let Some(existing) = BuildsysBuild::by_nvr(conn, &nvr)? {
            let have: BTreeSet<(String, String, String)> = Rpm::for_build(conn, existing.id)?
                .into_iter()
                .map(|r| (r.name, r.arch, r.payloadhash))
                .collect();
            if have == wanted {
                return Ok(false);
            }
            bail!("build {nvr} is already registered with other RPM files");
        }
        let time = now();
        let event = Event::create(conn, time)?;
        let epoch = build
            .rpms
            .iter()
            .find(|r| r.header.source_rpm.is_none())
            .or(build.rpms.first())
            .and_then(|r| r.header.epoch);
        let registered = BuildsysBuild::create(
            conn,
            &NewBuildsysBuild {
                package_name: &build.name,
                version: &build.version,
                release: &build.release,
                epoch,
                nvr: &nvr,
                owner_name: owner,
                state: BUILD_STATE_COMPLETE,
                task_id: None,
                creation_event: event.id,
                creation_time: time,
                completion_time: Some(time),
                source: None,
                extra: "{}",
            },
        )?;
        for (rpm, path) in build.rpms.iter().zip(paths) {
            let h = &rpm.header;
            Rpm::create(
                conn,
                &NewRpm {
                    build_id: registered.id,
                    name: &h.name,
                    version: &h.version,
                    release: &h.release,
                    epoch: h.epoch,
                    arch: &h.arch,
                    size: h.size,
                    payloadhash: &h.payloadhash,
                    buildtime: h.buildtime,
                    path,
                },
            )?;
        }
        Ok(true)
    })
}
