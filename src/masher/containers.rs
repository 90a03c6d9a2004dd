//! Container and flatpak composes (spec §6.4): each build's image, found by digest in the
//! build system (`extra.typeinfo.image.index.pull`), is copied with `skopeo copy` from the
//! candidate registry to every destination registry under the tags `{version}-{release}`,
//! `{version}` and `latest` (stable) or `testing`. A copy is idempotent (the same digest under
//! the same tag), so a resumed compose copies again rather than keeping per-copy checkpoints.

use std::process::Command;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::buildsys::BuildSystem;
use crate::db::types::UpdateRequest;

/// `[masher.containers]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContainerSettings {
    /// The program run for each copy, with `copy SOURCE DESTINATION` after `extra_args`.
    pub skopeo_command: String,
    /// Given to skopeo before `copy` (authentication files, TLS options...).
    pub extra_args: Vec<String>,
    /// Where the build system's images are (Bodhi's `container.source_registry`).
    pub source_registry: String,
    /// Where they are copied to (Bodhi's `container.destination_registry`).
    pub destination_registries: Vec<String>,
}

impl Default for ContainerSettings {
    fn default() -> Self {
        ContainerSettings {
            skopeo_command: "skopeo".into(),
            extra_args: Vec::new(),
            source_registry: "candidate-registry.fedoraproject.org".into(),
            destination_registries: vec!["registry.fedoraproject.org".into()],
        }
    }
}

/// One `skopeo copy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub source: String,
    pub destination: String,
}

/// Bodhi's tag sanitising: a leading character that is not alphanumeric or `_`, and any
/// character outside `[a-zA-Z0-9._-]`, become `_`; at most 128 characters.
pub fn sanitize_tag(tag: &str) -> String {
    tag.chars()
        .enumerate()
        .map(|(i, c)| {
            let allowed =
                c.is_ascii_alphanumeric() || c == '_' || (i > 0 && matches!(c, '.' | '-'));
            if allowed { c } else { '_' }
        })
        .take(128)
        .collect()
}

/// The copies a build needs: its image by digest, to each registry and tag.
pub fn copies_for(
    buildsys: &dyn BuildSystem,
    settings: &ContainerSettings,
    nvr: &str,
    request: UpdateRequest,
) -> anyhow::Result<Vec<Copy>> {
    let build = buildsys
        .get_build(nvr)?
        .ok_or_else(|| anyhow!("No such build: {nvr}"))?;
    let pulls = build
        .extra
        .pointer("/typeinfo/image/index/pull")
        .and_then(|p| p.as_array())
        .ok_or_else(|| anyhow!("{nvr} has no image pull specs in the build system"))?;
    let by_digest = pulls
        .iter()
        .filter_map(|p| p.as_str())
        .find(|p| p.contains('@'))
        .ok_or_else(|| anyhow!("{nvr} has no image pull spec with a digest"))?;
    let (location, digest) = by_digest
        .split_once('@')
        .ok_or_else(|| anyhow!("{nvr}: bad pull spec {by_digest}"))?;
    let repository = location
        .split_once('/')
        .map(|(_, repository)| repository)
        .ok_or_else(|| anyhow!("{nvr}: pull spec {by_digest} names no repository"))?;
    let moving = match request {
        UpdateRequest::Stable => "latest",
        _ => "testing",
    };
    let tags = [
        format!("{}-{}", build.version, build.release),
        build.version.clone(),
        moving.to_owned(),
    ];
    let source = format!(
        "docker://{}/{repository}@{digest}",
        settings.source_registry
    );
    Ok(settings
        .destination_registries
        .iter()
        .flat_map(|registry| {
            let source = &source;
            tags.iter().map(move |tag| Copy {
                source: source.clone(),
                destination: format!("docker://{registry}/{repository}:{}", sanitize_tag(tag)),
            })
        })
        .collect())
}

/// Runs one copy; its failure names the command and what skopeo said.
pub fn run_copy(settings: &ContainerSettings, copy: &Copy) -> anyhow::Result<()> {
    let output = Command::new(&settings.skopeo_command)
        .args(&settings.extra_args)
        .arg("copy")
        .arg(&copy.source)
        .arg(&copy.destination)
        .output()
        .with_context(|| format!("running {}", settings.skopeo_command))?;
    if !output.status.success() {
        bail!(
            "{} copy {} {} failed ({}): {}",
            settings.skopeo_command,
            copy.source,
            copy.destination,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_sanitized_as_bodhi_does() {
        assert_eq!(sanitize_tag("1.2-3.fc44"), "1.2-3.fc44");
        assert_eq!(sanitize_tag(".hidden tag+x"), "_hidden_tag_x");
        assert_eq!(sanitize_tag(&"a".repeat(200)).len(), 128);
    }
}
