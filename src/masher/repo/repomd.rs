//! repodata/: compressed metadata files named after their checksum, and repomd.xml, the
//! index that lists each with its checksums and sizes (compressed and open).

use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How metadata files are compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Gzip,
    Zstd,
}

impl Compression {
    fn suffix(self) -> &'static str {
        match self {
            Compression::Gzip => "gz",
            Compression::Zstd => "zst",
        }
    }

    fn compress(self, data: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self {
            Compression::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(data.len() / 4),
                    flate2::Compression::default(),
                );
                encoder.write_all(data)?;
                Ok(encoder.finish()?)
            }
            Compression::Zstd => Ok(zstd::bulk::compress(data, 10)?),
        }
    }
}

/// One `<data>` record of repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataFile {
    /// `primary`, `filelists`, `other`, `updateinfo`, `modules`.
    pub kind: String,
    /// Relative to the repository: `repodata/<checksum>-<kind>.<ext>.<compression>`.
    pub href: String,
    pub checksum: String,
    pub open_checksum: String,
    pub size: u64,
    pub open_size: u64,
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compresses `content` into `<repo>/repodata/`, named `<checksum>-<kind>.<extension>.<gz|zst>`.
pub fn write_metadata(
    repo: &Path,
    kind: &str,
    extension: &str,
    content: &[u8],
    compression: Compression,
) -> anyhow::Result<MetadataFile> {
    let compressed = compression
        .compress(content)
        .with_context(|| format!("compressing {kind}"))?;
    let checksum = sha256(&compressed);
    let href = format!(
        "repodata/{checksum}-{kind}.{extension}.{}",
        compression.suffix()
    );
    write_synced(&repo.join(&href), &compressed)?;
    Ok(MetadataFile {
        kind: kind.to_owned(),
        href,
        checksum,
        open_checksum: sha256(content),
        size: compressed.len() as u64,
        open_size: content.len() as u64,
    })
}

/// repomd.xml for `files`, written last: a reader that finds it finds every file it names.
pub fn write_repomd(repo: &Path, revision: i64, files: &[MetadataFile]) -> anyhow::Result<()> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" \
         xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n",
    );
    let _ = writeln!(xml, "  <revision>{revision}</revision>");
    for file in files {
        let _ = write!(
            xml,
            "  <data type=\"{kind}\">\n    <checksum type=\"sha256\">{checksum}</checksum>\n    \
             <open-checksum type=\"sha256\">{open}</open-checksum>\n    <location href=\"{href}\"/>\n    \
             <timestamp>{revision}</timestamp>\n    <size>{size}</size>\n    <open-size>{open_size}</open-size>\n  </data>\n",
            kind = file.kind,
            checksum = file.checksum,
            open = file.open_checksum,
            href = file.href,
            size = file.size,
            open_size = file.open_size,
        );
    }
    xml.push_str("</repomd>\n");
    write_synced(&repo.join("repodata/repomd.xml"), xml.as_bytes())
}

/// Writes a file and flushes it to the disk: a published repository must survive a power
/// loss, since a resumed compose does not write it again.
fn write_synced(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    let mut file = fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(content)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
