//! The demo's RPMs, built by Pipal itself with the rpm crate: small but real packages (a source
//! RPM and its binaries, with files, dependencies and changelogs) written in Koji's layout.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rpm::{
    BuildConfig, CompressionType, Dependency, FileOptions, Header, HeaderEntry, IndexData,
    IndexTag, Package, PackageBuilder, SignatureHeaderBuilder,
};

/// What a binary package holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// A command in /usr/bin.
    Command,
    /// Documentation under /usr/share/doc.
    Docs,
    /// A shared library.
    Library,
    /// Headers for the library of the same source.
    Devel,
    /// A Python module.
    Python,
    /// Data files under /usr/share.
    Data,
}

#[derive(Debug, Clone, Copy)]
pub struct BinaryPackage {
    pub name: &'static str,
    pub arch: &'static str,
    pub summary: &'static str,
    pub payload: Payload,
}

#[derive(Debug, Clone, Copy)]
pub struct SourcePackage {
    pub name: &'static str,
    pub summary: &'static str,
    pub license: &'static str,
    pub url: &'static str,
    pub binaries: &'static [BinaryPackage],
}

/// One changelog entry: who (with the EVR, as rpm writes it), when (a Unix time), what.
#[derive(Debug, Clone, Copy)]
pub struct ChangelogEntry {
    pub author: &'static str,
    pub time: u32,
    pub text: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct DemoBuild {
    pub source: &'static SourcePackage,
    pub version: &'static str,
    /// With the dist tag, e.g. `1.fc43`.
    pub release: &'static str,
    /// Newest first.
    pub changelog: &'static [ChangelogEntry],
}

impl DemoBuild {
    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.source.name, self.version, self.release)
    }

    fn build_time(&self) -> u32 {
        self.changelog
            .first()
            .map_or(1_760_000_000, |c| c.time + 3600)
    }
}

/// Writes the build's SRPM and binary RPMs under `root/packages/...`, skipping files that
/// exist. Returns the paths of the files written.
pub fn write_build(root: &Path, build: &DemoBuild) -> anyhow::Result<Vec<PathBuf>> {
    let dir = build_dir(root, build);
    let srpm_name = format!("{}.src.rpm", build.nvr());
    let mut written = Vec::new();

    let srpm_path = dir.join("src").join(&srpm_name);
    if !srpm_path.exists() {
        let package = source_rpm(build)?;
        write_package(&package, &srpm_path, true)?;
        written.push(srpm_path);
    }
    for binary in build.source.binaries {
        let path = dir.join(binary.arch).join(format!(
            "{}-{}-{}.{}.rpm",
            binary.name, build.version, build.release, binary.arch
        ));
        if !path.exists() {
            let package = binary_rpm(build, binary, &srpm_name)?;
            write_package(&package, &path, false)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Where Koji keeps a build's files: `root/packages/<name>/<version>/<release>`.
pub fn build_dir(root: &Path, build: &DemoBuild) -> PathBuf {
    root.join("packages")
        .join(build.source.name)
        .join(build.version)
        .join(build.release)
}

fn builder(build: &DemoBuild, name: &str, arch: &str, summary: &str) -> PackageBuilder {
    let mut builder = PackageBuilder::new(name, build.version, build.source.license, arch, summary);
    builder
        .using_config(
            BuildConfig::v4()
                .compression(CompressionType::Gzip)
                .source_date(build.build_time()),
        )
        .release(build.release)
        .url(build.source.url)
        .vendor("Pipal demo")
        .packager("Alice Packager <alice@example.org>")
        .build_host("pipal-demo.example.org");
    for entry in build.changelog {
        builder.add_changelog_entry(entry.author, entry.text, entry.time);
    }
    builder
}

fn source_rpm(build: &DemoBuild) -> anyhow::Result<Package> {
    let source = build.source;
    let mut builder = builder(build, source.name, "x86_64", source.summary);
    builder.description(format!("Sources of {}: {}.", source.name, source.summary));
    let spec = spec_file(build);
    builder
        .with_file_contents(spec, FileOptions::new(format!("/{}.spec", source.name)))
        .context("cannot add the spec file")?;
    let package = builder.build().context("cannot build the source RPM")?;
    set_source(package, None)
}

fn binary_rpm(
    build: &DemoBuild,
    binary: &BinaryPackage,
    srpm_name: &str,
) -> anyhow::Result<Package> {
    let mut builder = builder(build, binary.name, binary.arch, binary.summary);
    builder.description(format!("{}. Built for the Pipal demo.", binary.summary));
    let version = build.version;
    let evr = format!("{}-{}", build.version, build.release);
    let files: Vec<(String, String, u16)> = match binary.payload {
        Payload::Command => vec![(
            format!("/usr/bin/{}", binary.name),
            format!(
                "#!/bin/sh\necho \"{} {version}: {}\"\n",
                binary.name, binary.summary
            ),
            0o755,
        )],
        Payload::Docs => vec![(
            format!("/usr/share/doc/{}/README.md", binary.name),
            format!(
                "# {} {version}\n\n{}.\n",
                build.source.name, build.source.summary
            ),
            0o644,
        )],
        Payload::Library => vec![(
            format!("/usr/lib64/{}.so.1", binary.name),
            format!("{} {version} (demo library)\n", binary.name),
            0o755,
        )],
        Payload::Devel => vec![(
            format!(
                "/usr/include/{}.h",
                build.source.name.trim_start_matches("lib")
            ),
            format!(
                "/* {} {version} */\nint frob(const char *data);\n",
                build.source.name
            ),
            0o644,
        )],
        Payload::Python => vec![(
            format!(
                "/usr/lib/python3.14/site-packages/{}/__init__.py",
                build.source.name.trim_start_matches("python-")
            ),
            format!("__version__ = \"{version}\"\n"),
            0o644,
        )],
        Payload::Data => vec![(
            format!("/usr/share/{}/data.txt", build.source.name),
            format!(
                "{} {version}\n%\nA demo is worth a thousand slides.\n",
                build.source.name
            ),
            0o644,
        )],
    };
    for (path, content, mode) in files {
        let options = FileOptions::new(path).permissions(mode);
        let options = if binary.payload == Payload::Docs {
            options.doc()
        } else {
            options
        };
        builder
            .with_file_contents(content, options)
            .context("cannot add a file")?;
    }
    builder.provides(Dependency::eq(binary.name, evr.clone()));
    if binary.payload == Payload::Devel {
        builder.requires(Dependency::eq(build.source.name, evr));
    }
    if binary.payload == Payload::Command {
        builder.requires(Dependency::any("/bin/sh"));
    }
    let package = builder.build().context("cannot build the binary RPM")?;
    set_source(package, Some(srpm_name))
}

/// rpm-rs marks every package as a binary built from `(none)`; Koji's packages name their
/// source RPM, and source RPMs carry no SOURCERPM tag but SOURCEPACKAGE. Rewrites the header
/// and recomputes the signature header's digests and sizes.
fn set_source(mut package: Package, source_rpm: Option<&str>) -> anyhow::Result<Package> {
    let region = IndexTag::RPMTAG_HEADERIMMUTABLE as u32;
    let sourcerpm = IndexTag::RPMTAG_SOURCERPM as u32;
    let mut entries: Vec<HeaderEntry> = package
        .metadata
        .header
        .get_all_entries()?
        .into_iter()
        .filter(|(tag, _)| *tag != region && *tag != sourcerpm)
        .map(|(tag, data)| HeaderEntry::new(tag, data))
        .collect();
    match source_rpm {
        Some(name) => entries.push(HeaderEntry::new(
            sourcerpm,
            IndexData::StringTag(name.to_owned()),
        )),
        None => entries.push(HeaderEntry::new(
            IndexTag::RPMTAG_SOURCEPACKAGE as u32,
            IndexData::Int32(vec![1]),
        )),
    }
    package.metadata.header = Header::from_entries(entries, IndexTag::RPMTAG_HEADERIMMUTABLE);
    let header_bytes = package.header_bytes()?;
    let content_length = header_bytes.len() as u64 + package.payload.len() as u64;
    package.metadata.signature =
        SignatureHeaderBuilder::from_existing(&package.metadata.signature)?
            .clear_signatures()
            .calculate_digests(&header_bytes)
            .set_content_length(content_length)
            .build()?;
    Ok(package)
}

fn write_package(package: &Package, path: &Path, source: bool) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    package.write(&mut bytes)?;
    if source {
        // The lead's package type (bytes 6-7): 1 marks a source package.
        bytes
            .get_mut(6..8)
            .context("the package has no lead")?
            .copy_from_slice(&1u16.to_be_bytes());
    }
    let dir = path.parent().context("bad path")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn spec_file(build: &DemoBuild) -> String {
    let source = build.source;
    let mut spec = format!(
        "Name:           {}\nVersion:        {}\nRelease:        {}\nSummary:        {}\nLicense:        {}\nURL:            {}\n\n%description\n{}.\n",
        source.name,
        build.version,
        build.release,
        source.summary,
        source.license,
        source.url,
        source.summary
    );
    for binary in source.binaries.iter().filter(|b| b.name != source.name) {
        spec.push_str(&format!(
            "\n%package -n {}\nSummary:        {}\nBuildArch:      {}\n\n%description -n {}\n{}.\n",
            binary.name, binary.summary, binary.arch, binary.name, binary.summary
        ));
    }
    spec.push_str("\n%changelog\n");
    for entry in build.changelog {
        let date = chrono::DateTime::from_timestamp(i64::from(entry.time), 0)
            .map(|d| d.format("%a %b %d %Y").to_string())
            .unwrap_or_default();
        spec.push_str(&format!("* {date} {}\n{}\n\n", entry.author, entry.text));
    }
    spec
}
