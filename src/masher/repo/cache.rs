//! The cache of parsed RPM headers, so that a push reads only the files it has not seen:
//! one JSON file per RPM under the cache directory, keyed by the RPM's path, size,
//! modification time and inode. Entries are written to a temporary name and renamed, so that workers
//! sharing the directory never read half an entry; a cache that cannot be written only
//! costs speed.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::package::Package;

/// The version of what an entry holds; entries of another version are never read, so a
/// change to what is parsed from RPMs reaches every cached package.
const FORMAT: u32 = 1;

#[derive(Debug, Clone)]
pub struct HeaderCache {
    dir: Option<PathBuf>,
}

impl HeaderCache {
    /// A cache kept in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> HeaderCache {
        HeaderCache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every file is read.
    pub fn disabled() -> HeaderCache {
        HeaderCache { dir: None }
    }

    /// The package in `path`, from the cache when the file has not changed since it was read.
    /// The second value says whether the file had to be read.
    pub fn package(&self, path: &Path) -> anyhow::Result<(Package, bool)> {
        let meta = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        let file_time = modified.as_secs() as i64;
        let Some(dir) = &self.dir else {
            return Ok((Package::read(path, file_time)?, true));
        };
        let key = {
            use std::os::unix::fs::MetadataExt;
            let mut hasher = Sha256::new();
            hasher.update(FORMAT.to_le_bytes());
            hasher.update(path.as_os_str().as_encoded_bytes());
            hasher.update(meta.len().to_le_bytes());
            hasher.update(modified.as_nanos().to_le_bytes());
            // A file replaced by another of the same size and mtime is a new inode. (Not the
            // change time: every hard link a push makes into a repository changes it.)
            hasher.update(meta.ino().to_le_bytes());
            hex::encode(hasher.finalize())
        };
        let entry = dir.join(&key[..2]).join(format!("{key}.json"));
        if let Ok(bytes) = fs::read(&entry)
            && let Ok(package) = serde_json::from_slice::<Package>(&bytes)
        {
            return Ok((package, false));
        }
        let package = Package::read(path, file_time)?;
        if let Err(error) = store(&entry, &package) {
            tracing::warn!(entry = %entry.display(), "header cache not written: {error:#}");
        }
        Ok((package, true))
    }
}

fn store(entry: &Path, package: &Package) -> anyhow::Result<()> {
    let parent = entry.parent().context("cache entry has no directory")?;
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let temporary = entry.with_extension(format!(
        "tmp{}.{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    fs::write(&temporary, serde_json::to_vec(package)?)
        .with_context(|| format!("writing {}", temporary.display()))?;
    fs::rename(&temporary, entry).with_context(|| format!("renaming {}", temporary.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::rpms::write_build;

    fn demo_rpm(dir: &Path) -> PathBuf {
        let build = &crate::demo::catalogue::BUILDS[0];
        write_build(dir, build)
            .expect("a demo build")
            .into_iter()
            .find(|p| !p.to_string_lossy().ends_with(".src.rpm"))
            .expect("a binary RPM")
    }

    #[test]
    fn a_file_is_parsed_once_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let rpm = demo_rpm(&dir.path().join("koji"));
        let cache = HeaderCache::new(dir.path().join("cache"));

        let (first, parsed) = cache.package(&rpm).unwrap();
        assert!(parsed);
        // A push hard-links the file into a repository, which changes its change time only.
        fs::hard_link(&rpm, dir.path().join("linked.rpm")).unwrap();
        let (again, parsed) = cache.package(&rpm).unwrap();
        assert!(!parsed, "the second read comes from the cache");
        assert_eq!(again, first);

        // A rewritten file (new mtime and content) is read again.
        let mut bytes = fs::read(&rpm).unwrap();
        bytes.extend_from_slice(b"trailing");
        fs::write(&rpm, bytes).unwrap();
        let (changed, parsed) = cache.package(&rpm).unwrap();
        assert!(parsed);
        assert_ne!(changed.pkgid, first.pkgid);
        assert_eq!(changed.package_size, first.package_size + 8);
    }

    #[test]
    fn a_package_reads_as_createrepo_c_describes_it() {
        let dir = tempfile::tempdir().unwrap();
        let rpm = demo_rpm(dir.path());
        let (package, _) = HeaderCache::disabled().package(&rpm).unwrap();
        let bytes = fs::read(&rpm).unwrap();
        assert_eq!(package.pkgid, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(package.package_size, bytes.len() as u64);
        assert!(package.header_start > 96 && package.header_end > package.header_start);
        assert_eq!(
            package.location(),
            format!(
                "Packages/{}/{}",
                &package.name[..1],
                rpm.file_name().unwrap().to_string_lossy()
            )
        );
        assert!(
            package
                .provides
                .iter()
                .any(|p| p.name == package.name && p.flags == "EQ")
        );
        assert!(
            !package
                .requires
                .iter()
                .any(|r| r.name.starts_with("rpmlib("))
        );
        assert!(!package.files.is_empty());
    }
}
