//! The XML of primary.xml, filelists.xml and other.xml, one package at a time, in the shape
//! createrepo_c writes (element order, indentation, attributes), so tools that compare
//! repositories see no difference but the bytes of the values.

use std::fmt::Write;

use super::package::{Dependency, FileKind, Package};

pub const PRIMARY_NS: &str = "http://linux.duke.edu/metadata/common";
pub const RPM_NS: &str = "http://linux.duke.edu/metadata/rpm";
pub const FILELISTS_NS: &str = "http://linux.duke.edu/metadata/filelists";
pub const OTHER_NS: &str = "http://linux.duke.edu/metadata/other";

pub fn primary_open(count: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"{PRIMARY_NS}\" \
         xmlns:rpm=\"{RPM_NS}\" packages=\"{count}\">\n"
    )
}

pub fn filelists_open(count: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"{FILELISTS_NS}\" \
         packages=\"{count}\">\n"
    )
}

pub fn other_open(count: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata xmlns=\"{OTHER_NS}\" \
         packages=\"{count}\">\n"
    )
}

// createrepo_c ends the files without a newline.
pub const PRIMARY_CLOSE: &str = "</metadata>";
pub const FILELISTS_CLOSE: &str = "</filelists>";
pub const OTHER_CLOSE: &str = "</otherdata>";

/// Escapes text for element content and attribute values, dropping the characters XML 1.0
/// cannot carry at all (package descriptions sometimes hold stray control bytes).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let needs = text
        .chars()
        .any(|c| matches!(c, '<' | '>' | '&' | '"') || !allowed(c));
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if allowed(c) => out.push(c),
            _ => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn version_attrs(out: &mut String, package: &Package) {
    let _ = write!(
        out,
        "<version epoch=\"{}\" ver=\"{}\" rel=\"{}\"/>",
        package.epoch,
        escape(&package.version),
        escape(&package.release)
    );
}

/// An element whose empty value createrepo_c writes as `<name/>`.
fn text_element(out: &mut String, indent: &str, name: &str, value: &str) {
    if value.is_empty() {
        let _ = writeln!(out, "{indent}<{name}/>");
    } else {
        let _ = writeln!(out, "{indent}<{name}>{}</{name}>", escape(value));
    }
}

fn dependency_block(out: &mut String, element: &str, deps: &[Dependency], with_pre: bool) {
    if deps.is_empty() {
        return;
    }
    let _ = writeln!(out, "    <rpm:{element}>");
    for dep in deps {
        let _ = write!(out, "      <rpm:entry name=\"{}\"", escape(&dep.name));
        if !dep.flags.is_empty() {
            let _ = write!(out, " flags=\"{}\"", dep.flags);
        }
        for (attr, value) in [("epoch", &dep.epoch), ("ver", &dep.ver), ("rel", &dep.rel)] {
            if let Some(value) = value {
                let _ = write!(out, " {attr}=\"{}\"", escape(value));
            }
        }
        if with_pre && dep.pre {
            out.push_str(" pre=\"1\"");
        }
        out.push_str("/>\n");
    }
    let _ = writeln!(out, "    </rpm:{element}>");
}

fn file_element(out: &mut String, indent: &str, path: &str, kind: FileKind) {
    let kind = match kind {
        FileKind::File => "",
        FileKind::Dir => " type=\"dir\"",
        FileKind::Ghost => " type=\"ghost\"",
    };
    let _ = writeln!(out, "{indent}<file{kind}>{}</file>", escape(path));
}

/// The package's `<package>` element of primary.xml.
pub fn primary_package(out: &mut String, package: &Package) {
    out.push_str("<package type=\"rpm\">\n");
    let _ = writeln!(out, "  <name>{}</name>", escape(&package.name));
    let _ = writeln!(out, "  <arch>{}</arch>", escape(&package.arch));
    out.push_str("  ");
    version_attrs(out, package);
    out.push('\n');
    let _ = writeln!(
        out,
        "  <checksum type=\"sha256\" pkgid=\"YES\">{}</checksum>",
        package.pkgid
    );
    text_element(out, "  ", "summary", &package.summary);
    text_element(out, "  ", "description", &package.description);
    text_element(out, "  ", "packager", &package.packager);
    text_element(out, "  ", "url", &package.url);
    let _ = writeln!(
        out,
        "  <time file=\"{}\" build=\"{}\"/>",
        package.file_time, package.build_time
    );
    let _ = writeln!(
        out,
        "  <size package=\"{}\" installed=\"{}\" archive=\"{}\"/>",
        package.package_size, package.installed_size, package.archive_size
    );
    let _ = writeln!(
        out,
        "  <location href=\"{}\"/>",
        escape(&package.location())
    );
    out.push_str("  <format>\n");
    text_element(out, "    ", "rpm:license", &package.license);
    text_element(out, "    ", "rpm:vendor", &package.vendor);
    text_element(out, "    ", "rpm:group", &package.group);
    text_element(out, "    ", "rpm:buildhost", &package.buildhost);
    text_element(out, "    ", "rpm:sourcerpm", &package.sourcerpm);
    let _ = writeln!(
        out,
        "    <rpm:header-range start=\"{}\" end=\"{}\"/>",
        package.header_start, package.header_end
    );
    dependency_block(out, "provides", &package.provides, false);
    dependency_block(out, "requires", &package.requires, true);
    dependency_block(out, "conflicts", &package.conflicts, false);
    dependency_block(out, "obsoletes", &package.obsoletes, false);
    dependency_block(out, "suggests", &package.suggests, false);
    dependency_block(out, "enhances", &package.enhances, false);
    dependency_block(out, "recommends", &package.recommends, false);
    dependency_block(out, "supplements", &package.supplements, false);
    // createrepo_c lists primary files first, then primary directories.
    for wanted in [FileKind::File, FileKind::Ghost, FileKind::Dir] {
        for file in package
            .files
            .iter()
            .filter(|f| f.kind == wanted && Package::is_primary_file(&f.path))
        {
            file_element(out, "    ", &file.path, file.kind);
        }
    }
    out.push_str("  </format>\n</package>\n");
}

/// The start of a package in filelists.xml and other.xml: its id, name, arch and version.
fn package_start(out: &mut String, package: &Package) {
    let _ = writeln!(
        out,
        "<package pkgid=\"{}\" name=\"{}\" arch=\"{}\">",
        package.pkgid,
        escape(&package.name),
        escape(&package.arch)
    );
    out.push_str("  ");
    version_attrs(out, package);
    out.push('\n');
}

/// The package's `<package>` element of filelists.xml.
pub fn filelists_package(out: &mut String, package: &Package) {
    package_start(out, package);
    for file in &package.files {
        file_element(out, "  ", &file.path, file.kind);
    }
    out.push_str("</package>\n");
}

/// The package's `<package>` element of other.xml.
pub fn other_package(out: &mut String, package: &Package) {
    package_start(out, package);
    for entry in &package.changelogs {
        let _ = writeln!(
            out,
            "  <changelog author=\"{}\" date=\"{}\">{}</changelog>",
            escape(&entry.author),
            entry.date,
            escape(&entry.text)
        );
    }
    out.push_str("</package>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_plain_text_and_drops_control_bytes() {
        assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            escape("a<b> & \"c\"\u{1}"),
            "a&lt;b&gt; &amp; &quot;c&quot;"
        );
        assert_eq!(escape("tab\tand\nnewline"), "tab\tand\nnewline");
    }
}
