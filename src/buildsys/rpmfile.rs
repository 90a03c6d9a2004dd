//! Reading RPM headers: what the build system and the repositories need to know of a file.

use std::path::Path;

use rpm::{IndexSignatureTag, IndexTag, PackageMetadata};

/// The header fields of one RPM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i32>,
    /// `src` for a source RPM, else the header's arch (`x86_64`, `noarch`, ...).
    pub arch: String,
    /// The SRPM file name a binary RPM was built from; `None` for a source RPM.
    pub source_rpm: Option<String>,
    pub buildtime: i64,
    /// Koji's payload hash: the MD5 signature digest when the file has one, else its SHA-256
    /// header digest.
    pub payloadhash: String,
    /// File size in bytes.
    pub size: i64,
}

impl RpmHeader {
    pub fn read(path: &Path) -> Result<RpmHeader, String> {
        let describe = |e: rpm::Error| format!("{}: not a readable RPM: {e}", path.display());
        let meta = PackageMetadata::open(path).map_err(describe)?;
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let is_source = meta.is_source_package();
        let epoch = meta
            .header
            .get_entry_data_as_u32(IndexTag::RPMTAG_EPOCH)
            .ok()
            .and_then(|e| i32::try_from(e).ok());
        let arch = if is_source {
            "src".to_owned()
        } else {
            meta.get_arch().map_err(describe)?.to_owned()
        };
        let source_rpm = if is_source {
            None
        } else {
            meta.get_source_rpm().ok().map(str::to_owned)
        };
        let payloadhash = meta
            .signature
            .get_entry_data_as_binary(IndexSignatureTag::RPMSIGTAG_MD5)
            .map(hex::encode)
            .or_else(|_| {
                meta.signature
                    .get_entry_data_as_string(IndexSignatureTag::RPMSIGTAG_SHA256)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        Ok(RpmHeader {
            name: meta.get_name().map_err(describe)?.to_owned(),
            version: meta.get_version().map_err(describe)?.to_owned(),
            release: meta.get_release().map_err(describe)?.to_owned(),
            epoch,
            arch,
            source_rpm,
            buildtime: meta.get_build_time().map_err(describe)? as i64,
            payloadhash,
            size: size as i64,
        })
    }

    /// The `%changelog` of the file, newest first.
    pub fn changelog(path: &Path) -> Result<Vec<super::ChangelogEntry>, String> {
        let describe = |e: rpm::Error| format!("{}: not a readable RPM: {e}", path.display());
        let meta = PackageMetadata::open(path).map_err(describe)?;
        Ok(meta
            .get_changelog_entries()
            .map_err(describe)?
            .into_iter()
            .map(|entry| super::ChangelogEntry {
                time: i64::try_from(entry.timestamp).unwrap_or(i64::MAX),
                author: entry.name,
                text: entry.description,
            })
            .collect())
    }

    /// The fields update notices show, with the `%changelog`.
    pub fn source_header(path: &Path) -> Result<super::SourceHeader, String> {
        let describe = |e: rpm::Error| format!("{}: not a readable RPM: {e}", path.display());
        let meta = PackageMetadata::open(path).map_err(describe)?;
        let text = |value: Result<&str, rpm::Error>| value.unwrap_or_default().to_owned();
        Ok(super::SourceHeader {
            summary: text(meta.get_summary()),
            description: text(meta.get_description()),
            url: text(meta.get_url()),
            changelog: Self::changelog(path)?,
        })
    }

    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }

    /// The name Koji gives the file: `name-version-release.arch.rpm`.
    pub fn file_name(&self) -> String {
        format!("{}.{}.rpm", self.nvr(), self.arch)
    }
}
