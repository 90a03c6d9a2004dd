//! One RPM file as repository metadata describes it: everything primary.xml, filelists.xml and
//! other.xml say about a package, read from the file's headers in one pass that also computes
//! the file's SHA-256 (the package id).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use anyhow::{Context, anyhow};
use rpm::{DependencyFlags, IndexSignatureTag, IndexTag, PackageMetadata};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// createrepo_c's default `--changelog-limit`: other.xml keeps the newest ten entries.
const CHANGELOG_LIMIT: usize = 10;

/// RPMFILE_GHOST in the header's file flags.
const FILE_FLAG_GHOST: u32 = 1 << 6;
const MODE_TYPE_MASK: u16 = 0o170000;
const MODE_DIR: u16 = 0o040000;

/// A dependency entry (`<rpm:entry>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    /// `EQ`, `LT`, `GT`, `LE`, `GE`, or empty.
    pub flags: String,
    pub epoch: Option<String>,
    pub ver: Option<String>,
    pub rel: Option<String>,
    /// A requirement needed before installation (`pre="1"`).
    pub pre: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileKind {
    File,
    Dir,
    Ghost,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFile {
    pub path: String,
    pub kind: FileKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changelog {
    pub author: String,
    pub date: u64,
    pub text: String,
}

/// Everything the repository metadata says about one RPM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// `src` for source RPMs.
    pub arch: String,
    pub epoch: u32,
    pub version: String,
    pub release: String,
    /// SHA-256 of the whole file, hex.
    pub pkgid: String,
    pub summary: String,
    pub description: String,
    pub packager: String,
    pub url: String,
    pub file_time: i64,
    pub build_time: u64,
    pub package_size: u64,
    pub installed_size: u64,
    pub archive_size: u64,
    pub license: String,
    pub vendor: String,
    pub group: String,
    pub buildhost: String,
    pub sourcerpm: String,
    pub header_start: u64,
    pub header_end: u64,
    pub provides: Vec<Dependency>,
    pub requires: Vec<Dependency>,
    pub conflicts: Vec<Dependency>,
    pub obsoletes: Vec<Dependency>,
    pub suggests: Vec<Dependency>,
    pub enhances: Vec<Dependency>,
    pub recommends: Vec<Dependency>,
    pub supplements: Vec<Dependency>,
    pub files: Vec<PackageFile>,
    /// Oldest first, as other.xml lists them.
    pub changelogs: Vec<Changelog>,
}

impl Package {
    /// `name-version-release.arch.rpm`, the file name the repository uses.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.{}.rpm",
            self.name, self.version, self.release, self.arch
        )
    }

    /// The package's place in a repository: `Packages/<first letter>/<file>`.
    pub fn location(&self) -> String {
        let letter = self
            .name
            .chars()
            .next()
            .map(|c| c.to_ascii_lowercase())
            .unwrap_or('_');
        format!("Packages/{letter}/{}", self.file_name())
    }

    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }

    /// Reads `path`: its headers, and its SHA-256 in the same pass. `file_time` is the
    /// file's modification time, as createrepo_c records it.
    pub fn read(path: &Path, file_time: i64) -> anyhow::Result<Package> {
        // The rpm crate trusts the offsets in a header; a corrupt file must fail the read,
        // not the worker.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Package::read_unguarded(path, file_time)
        }))
        .unwrap_or_else(|_| Err(anyhow!("{}: corrupt RPM header", path.display())))
    }

    fn read_unguarded(path: &Path, file_time: i64) -> anyhow::Result<Package> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = BufReader::with_capacity(256 * 1024, HashingReader::new(file));
        let meta = PackageMetadata::parse(&mut reader)
            .with_context(|| format!("{}: not a readable RPM", path.display()))?;
        io::copy(&mut reader, &mut io::sink())
            .with_context(|| format!("reading {}", path.display()))?;
        let hashing = reader.into_inner();
        let package_size = hashing.length;
        let pkgid = hex::encode(hashing.hasher.finalize());
        from_metadata(&meta, pkgid, package_size, file_time)
            .with_context(|| format!("{}: bad RPM header", path.display()))
    }

    /// Whether the file belongs in primary.xml (createrepo_c's `cr_is_primary`).
    pub fn is_primary_file(path: &str) -> bool {
        path.starts_with("/etc/") || path.contains("bin/") || path == "/usr/lib/sendmail"
    }
}

/// Reads through to `inner`, hashing every byte.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    length: u64,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            length: 0,
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.length += n as u64;
        Ok(n)
    }
}

fn text(meta: &PackageMetadata, tag: IndexTag) -> String {
    meta.header
        .get_entry_data_as_i18n_string(tag)
        .or_else(|_| meta.header.get_entry_data_as_string(tag))
        .map(str::to_owned)
        .unwrap_or_default()
}

fn from_metadata(
    meta: &PackageMetadata,
    pkgid: String,
    package_size: u64,
    file_time: i64,
) -> anyhow::Result<Package> {
    let is_source = meta.is_source_package();
    let name = meta.get_name()?.to_owned();
    let arch = if is_source {
        "src".to_owned()
    } else {
        meta.get_arch()?.to_owned()
    };
    let epoch = meta.get_epoch().unwrap_or(0);
    let version = meta.get_version()?.to_owned();
    let release = meta.get_release()?.to_owned();
    let files = files(meta)?;
    let primary_paths: std::collections::HashSet<&str> = files
        .iter()
        .filter(|f| Package::is_primary_file(&f.path))
        .map(|f| f.path.as_str())
        .collect();

    let provides = dependencies(
        meta,
        IndexTag::RPMTAG_PROVIDENAME,
        IndexTag::RPMTAG_PROVIDEFLAGS,
        IndexTag::RPMTAG_PROVIDEVERSION,
        |_| true,
    )?;
    let requires = dependencies(
        meta,
        IndexTag::RPMTAG_REQUIRENAME,
        IndexTag::RPMTAG_REQUIREFLAGS,
        IndexTag::RPMTAG_REQUIREVERSION,
        // createrepo_c leaves out rpmlib() features, the package's own primary files and
        // what the package provides itself.
        |name| !name.starts_with("rpmlib(") && !primary_paths.contains(name),
    )?
    .into_iter()
    .filter(|required| {
        !provides.iter().any(|provided| {
            provided.name == required.name
                && provided.flags == required.flags
                && (&provided.epoch, &provided.ver, &provided.rel)
                    == (&required.epoch, &required.ver, &required.rel)
        })
    })
    .collect();
    let dep = |n, f, v| dependencies(meta, n, f, v, |_| true);
    let archive_size = meta
        .signature
        .get_entry_data_as_u64(IndexSignatureTag::RPMSIGTAG_LONGARCHIVESIZE)
        .or_else(|_| {
            meta.signature
                .get_entry_data_as_u32(IndexSignatureTag::RPMSIGTAG_PAYLOADSIZE)
                .map(u64::from)
        })
        .or_else(|_| {
            meta.header
                .get_entry_data_as_u64(IndexTag::RPMTAG_LONGARCHIVESIZE)
        })
        .or_else(|_| {
            meta.header
                .get_entry_data_as_u32(IndexTag::RPMTAG_ARCHIVESIZE)
                .map(u64::from)
        })
        .unwrap_or(0);
    let offsets = meta.get_package_segment_offsets();
    let mut changelogs: Vec<Changelog> = meta
        .get_changelog_entries()
        .unwrap_or_default()
        .into_iter()
        .take(CHANGELOG_LIMIT)
        .map(|entry| Changelog {
            author: entry.name,
            date: entry.timestamp,
            text: entry.description,
        })
        .collect();
    changelogs.reverse();

    Ok(Package {
        name,
        arch,
        epoch,
        version,
        release,
        pkgid,
        summary: text(meta, IndexTag::RPMTAG_SUMMARY),
        description: text(meta, IndexTag::RPMTAG_DESCRIPTION),
        packager: text(meta, IndexTag::RPMTAG_PACKAGER),
        url: text(meta, IndexTag::RPMTAG_URL),
        file_time,
        build_time: meta.get_build_time().unwrap_or(0),
        package_size,
        installed_size: meta.get_installed_size().unwrap_or(0),
        archive_size,
        license: text(meta, IndexTag::RPMTAG_LICENSE),
        vendor: text(meta, IndexTag::RPMTAG_VENDOR),
        group: text(meta, IndexTag::RPMTAG_GROUP),
        buildhost: text(meta, IndexTag::RPMTAG_BUILDHOST),
        sourcerpm: if is_source {
            String::new()
        } else {
            text(meta, IndexTag::RPMTAG_SOURCERPM)
        },
        header_start: offsets.header,
        header_end: offsets.payload,
        provides,
        requires,
        conflicts: dep(
            IndexTag::RPMTAG_CONFLICTNAME,
            IndexTag::RPMTAG_CONFLICTFLAGS,
            IndexTag::RPMTAG_CONFLICTVERSION,
        )?,
        obsoletes: dep(
            IndexTag::RPMTAG_OBSOLETENAME,
            IndexTag::RPMTAG_OBSOLETEFLAGS,
            IndexTag::RPMTAG_OBSOLETEVERSION,
        )?,
        suggests: dep(
            IndexTag::RPMTAG_SUGGESTNAME,
            IndexTag::RPMTAG_SUGGESTFLAGS,
            IndexTag::RPMTAG_SUGGESTVERSION,
        )?,
        enhances: dep(
            IndexTag::RPMTAG_ENHANCENAME,
            IndexTag::RPMTAG_ENHANCEFLAGS,
            IndexTag::RPMTAG_ENHANCEVERSION,
        )?,
        recommends: dep(
            IndexTag::RPMTAG_RECOMMENDNAME,
            IndexTag::RPMTAG_RECOMMENDFLAGS,
            IndexTag::RPMTAG_RECOMMENDVERSION,
        )?,
        supplements: dep(
            IndexTag::RPMTAG_SUPPLEMENTNAME,
            IndexTag::RPMTAG_SUPPLEMENTFLAGS,
            IndexTag::RPMTAG_SUPPLEMENTVERSION,
        )?,
        files,
        changelogs,
    })
}

fn files(meta: &PackageMetadata) -> anyhow::Result<Vec<PackageFile>> {
    let header = &meta.header;
    let basenames = match header.get_entry_data_as_string_array(IndexTag::RPMTAG_BASENAMES) {
        Ok(basenames) => basenames,
        Err(rpm::Error::TagNotFound(_)) => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    let dirindexes = header.get_entry_data_as_u32_array(IndexTag::RPMTAG_DIRINDEXES)?;
    let dirnames = header.get_entry_data_as_string_array(IndexTag::RPMTAG_DIRNAMES)?;
    let modes = header
        .get_entry_data_as_u16_array(IndexTag::RPMTAG_FILEMODES)
        .unwrap_or_default();
    let flags = header
        .get_entry_data_as_u32_array(IndexTag::RPMTAG_FILEFLAGS)
        .unwrap_or_default();
    basenames
        .iter()
        .zip(dirindexes)
        .enumerate()
        .map(|(i, (base, dir))| {
            let dir = dirnames
                .get(dir as usize)
                .ok_or_else(|| anyhow!("file {base}: directory index {dir} out of range"))?;
            let kind = if flags.get(i).is_some_and(|f| f & FILE_FLAG_GHOST != 0) {
                FileKind::Ghost
            } else if modes.get(i).is_some_and(|m| m & MODE_TYPE_MASK == MODE_DIR) {
                FileKind::Dir
            } else {
                FileKind::File
            };
            Ok(PackageFile {
                path: format!("{dir}{base}"),
                kind,
            })
        })
        .collect()
}

fn dependencies(
    meta: &PackageMetadata,
    names: IndexTag,
    flags: IndexTag,
    versions: IndexTag,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<Dependency>> {
    let header = &meta.header;
    let names = match header.get_entry_data_as_string_array(names) {
        Ok(names) => names,
        Err(rpm::Error::TagNotFound(_)) => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    // A dependency without its flags or version would widen it (an unversioned Obsoletes
    // matches every version): a header that lacks them is an error, not an empty list.
    let flags = header.get_entry_data_as_u32_array(flags)?;
    let versions = header.get_entry_data_as_string_array(versions)?;
    if flags.len() != names.len() || versions.len() != names.len() {
        anyhow::bail!(
            "{} dependencies, {} flags and {} versions",
            names.len(),
            flags.len(),
            versions.len()
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if !keep(name) {
            continue;
        }
        let bits = DependencyFlags::from_bits_retain(flags[i]);
        let version = versions[i];
        let pre = bits.intersects(
            DependencyFlags::PREREQ
                | DependencyFlags::SCRIPT_PRE
                | DependencyFlags::SCRIPT_POST
                | DependencyFlags::POSTTRANS,
        );
        let flag = match (
            bits.contains(DependencyFlags::LESS),
            bits.contains(DependencyFlags::GREATER),
            bits.contains(DependencyFlags::EQUAL),
        ) {
            (true, false, true) => "LE",
            (false, true, true) => "GE",
            (true, false, false) => "LT",
            (false, true, false) => "GT",
            (false, false, true) => "EQ",
            _ => "",
        };
        if !seen.insert((name.to_string(), flag, version.to_string(), pre)) {
            continue;
        }
        let (epoch, ver, rel) = split_evr(version);
        out.push(Dependency {
            name: (*name).to_owned(),
            flags: flag.to_owned(),
            epoch,
            ver,
            rel,
            pre,
        });
    }
    Ok(out)
}

/// `[epoch:]version[-release]` as createrepo_c splits it: the epoch is `0` when a version is
/// given without one.
fn split_evr(evr: &str) -> (Option<String>, Option<String>, Option<String>) {
    if evr.is_empty() {
        return (None, None, None);
    }
    let (epoch, rest) = match evr.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, rest),
        _ => ("0", evr),
    };
    let (ver, rel) = match rest.rsplit_once('-') {
        Some((v, r)) => (v.to_owned(), Some(r.to_owned())),
        None => (rest.to_owned(), None),
    };
    (Some(epoch.to_owned()), Some(ver), rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evr_splits_like_createrepo_c() {
        assert_eq!(split_evr(""), (None, None, None));
        assert_eq!(
            split_evr("2.1.1"),
            (Some("0".into()), Some("2.1.1".into()), None)
        );
        assert_eq!(
            split_evr("3:1.0-2.fc41"),
            (Some("3".into()), Some("1.0".into()), Some("2.fc41".into()))
        );
    }

    #[test]
    fn primary_files_are_config_binaries_and_sendmail() {
        assert!(Package::is_primary_file("/etc/foo.conf"));
        assert!(Package::is_primary_file("/usr/sbin/foo"));
        assert!(Package::is_primary_file("/usr/lib/sendmail"));
        assert!(!Package::is_primary_file("/usr/share/foo/data.txt"));
    }
}
