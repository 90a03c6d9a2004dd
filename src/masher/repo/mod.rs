//! The native repository writer: a yum/dnf repository (Packages/ and repodata/ with primary,
//! filelists, other, and optionally updateinfo and modules) from a set of RPM files, with no
//! createrepo_c. RPM headers are read in parallel and cached by path, size, mtime and inode, so a
//! repository written again after a push reads only the new files.

pub mod cache;
pub mod package;
pub mod repomd;
pub mod xml;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, anyhow, bail};
use sha2::{Digest, Sha256};

pub use cache::HeaderCache;
pub use package::Package;
pub use repomd::{Compression, MetadataFile};

/// An RPM file and what its headers say.
#[derive(Debug, Clone)]
pub struct RepoFile {
    pub source: PathBuf,
    pub package: Package,
}

/// How many headers a read took from the cache and how many it parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub parsed: usize,
    pub cached: usize,
}

/// Reads the packages of `paths` with `workers` threads, in the order of `paths`.
pub fn read_packages(
    paths: &[PathBuf],
    cache: &HeaderCache,
    workers: usize,
) -> anyhow::Result<(Vec<RepoFile>, ReadStats)> {
    let next = AtomicUsize::new(0);
    let parsed = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<anyhow::Result<Package>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let readers: Vec<_> = (0..workers.clamp(1, 64).min(paths.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        let result = cache.package(path).map(|(package, was_parsed)| {
                            if was_parsed {
                                parsed.fetch_add(1, Ordering::Relaxed);
                            }
                            package
                        });
                        if let Ok(mut slot) = slots[i].lock() {
                            *slot = Some(result);
                        }
                    }
                })
            })
            .collect();
        for reader in readers {
            reader
                .join()
                .map_err(|_| anyhow!("a header reader panicked"))?;
        }
        Ok(())
    })?;
    let mut files = Vec::with_capacity(paths.len());
    for (path, slot) in paths.iter().zip(slots) {
        let package = slot
            .into_inner()
            .map_err(|_| anyhow!("a header reader panicked"))?
            .ok_or_else(|| anyhow!("{} was not read", path.display()))??;
        files.push(RepoFile {
            source: path.clone(),
            package,
        });
    }
    let parsed = parsed.into_inner();
    let stats = ReadStats {
        parsed,
        cached: paths.len() - parsed,
    };
    Ok((files, stats))
}

/// Extra metadata added to a repository beside primary, filelists and other.
#[derive(Debug, Clone)]
pub struct ExtraMetadata {
    /// `updateinfo` or `modules`.
    pub kind: &'static str,
    /// `xml` or `yaml`.
    pub extension: &'static str,
    pub content: String,
}

/// What a written repository holds.
#[derive(Debug, Clone)]
pub struct Written {
    pub packages: usize,
    pub metadata: Vec<MetadataFile>,
}

/// Writes a complete repository into the empty or missing directory `dir`: the packages
/// hard-linked (copied across filesystems) under `Packages/<letter>/`, then repodata/.
pub fn write_repository(
    dir: &Path,
    packages: &[&RepoFile],
    extras: &[ExtraMetadata],
    compression: Compression,
    revision: i64,
) -> anyhow::Result<Written> {
    let mut packages: Vec<&RepoFile> = packages.to_vec();
    packages.sort_by_cached_key(|file| file.package.location());
    packages.dedup_by(|a, b| a.package.location() == b.package.location());
    fs::create_dir_all(dir.join("repodata"))
        .with_context(|| format!("creating {}", dir.display()))?;

    let count = packages.len();
    let render = |open: String, close: &str, each: fn(&mut String, &Package)| {
        let mut out = open;
        for file in &packages {
            each(&mut out, &file.package);
        }
        out.push_str(close);
        out
    };
    // Linking the packages runs beside the rendering and compression of the metadata.
    let mut metadata = std::thread::scope(|scope| {
        let links = scope.spawn(|| {
            packages
                .iter()
                .try_for_each(|file| link_or_copy(&file.source, &dir.join(file.package.location())))
        });
        let primary = scope.spawn(|| {
            let xml = render(
                xml::primary_open(count),
                xml::PRIMARY_CLOSE,
                xml::primary_package,
            );
            repomd::write_metadata(dir, "primary", "xml", xml.as_bytes(), compression)
        });
        let filelists = scope.spawn(|| {
            let xml = render(
                xml::filelists_open(count),
                xml::FILELISTS_CLOSE,
                xml::filelists_package,
            );
            repomd::write_metadata(dir, "filelists", "xml", xml.as_bytes(), compression)
        });
        let other = render(xml::other_open(count), xml::OTHER_CLOSE, xml::other_package);
        let other = repomd::write_metadata(dir, "other", "xml", other.as_bytes(), compression);
        let join = |handle: std::thread::ScopedJoinHandle<'_, anyhow::Result<MetadataFile>>| {
            handle
                .join()
                .map_err(|_| anyhow!("a metadata writer panicked"))?
        };
        links
            .join()
            .map_err(|_| anyhow!("the package linker panicked"))??;
        Ok::<_, anyhow::Error>(vec![join(primary)?, join(filelists)?, other?])
    })?;
    for extra in extras {
        metadata.push(repomd::write_metadata(
            dir,
            extra.kind,
            extra.extension,
            extra.content.as_bytes(),
            compression,
        )?);
    }
    repomd::write_repomd(dir, revision, &metadata)?;
    // The names of the files and links, on the disk before anyone is pointed at them.
    let mut directories: Vec<PathBuf> = packages
        .iter()
        .filter_map(|file| {
            dir.join(file.package.location())
                .parent()
                .map(Path::to_path_buf)
        })
        .collect();
    directories.dedup();
    directories.extend([
        dir.join("Packages"),
        dir.join("repodata"),
        dir.to_path_buf(),
    ]);
    directories.retain(|d| d.exists());
    for directory in &directories {
        sync_dir(directory)?;
    }
    Ok(Written {
        packages: count,
        metadata,
    })
}

/// Flushes a directory's entries to the disk.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    match fs::File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(error) if !dir.exists() => {
            Err(error).with_context(|| format!("syncing {}", dir.display()))
        }
        // Some filesystems refuse fsync on directories; the files themselves are synced.
        Err(error) => {
            tracing::debug!(dir = %dir.display(), "directory not synced: {error}");
            Ok(())
        }
    }
}

fn link_or_copy(source: &Path, target: &Path) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    match fs::hard_link(source, target) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(()),
        // Across filesystems (EXDEV) or where links are not allowed: copy.
        Err(_) => fs::copy(source, target)
            .map(|_| ())
            .with_context(|| format!("copying {} to {}", source.display(), target.display())),
    }
}

/// Bodhi's sanity check, against what is on disk: every metadata file has the size and
/// checksum repomd.xml gives, the required kinds are there, and every package is a regular
/// file (no symlinks) of the size primary says.
pub fn sanity_check(
    dir: &Path,
    written: &Written,
    packages: &[&RepoFile],
    required: &[&str],
) -> anyhow::Result<()> {
    if !dir.join("repodata/repomd.xml").is_file() {
        bail!("{}: no repodata/repomd.xml", dir.display());
    }
    for kind in required {
        if !written.metadata.iter().any(|m| m.kind == *kind) {
            bail!("{}: repomd.xml lacks {kind}", dir.display());
        }
    }
    for file in &written.metadata {
        let path = dir.join(&file.href);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if bytes.len() as u64 != file.size || hex::encode(Sha256::digest(&bytes)) != file.checksum {
            bail!("{}: does not match repomd.xml", path.display());
        }
    }
    for file in packages {
        let path = dir.join(file.package.location());
        let meta =
            fs::symlink_metadata(&path).with_context(|| format!("checking {}", path.display()))?;
        if !meta.file_type().is_file() || meta.len() != file.package.package_size {
            bail!(
                "{}: not a regular file of {} bytes",
                path.display(),
                file.package.package_size
            );
        }
    }
    Ok(())
}
