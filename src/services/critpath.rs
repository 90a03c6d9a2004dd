//! The critical path: packages whose updates need more karma or days in testing. Read from
//! Fedora-style `<branch>.json` files (grouped), or from a plain list in the configuration.

use std::collections::BTreeMap;

use crate::config::CritpathSettings;
use crate::db::types::ContentType;
use crate::error::{AppError, AppResult};

/// `{group: [components]}` of one collection (branch) and content type, optionally only the
/// given components. Empty when no JSON directory is configured or the file does not exist.
pub fn grouped_components(
    settings: &CritpathSettings,
    collection: &str,
    component_type: &str,
    only: Option<&[String]>,
) -> AppResult<BTreeMap<String, Vec<String>>> {
    if settings.json_dir.as_os_str().is_empty() {
        return Ok(BTreeMap::new());
    }
    if collection.contains('/') || collection.contains("..") {
        return Err(AppError::invalid(
            "querystring",
            "collection",
            "Invalid collection",
        ));
    }
    let path = settings.json_dir.join(format!("{collection}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(AppError::Internal(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let document: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| AppError::Internal(format!("{} is not valid JSON: {e}", path.display())))?;
    let mut groups = BTreeMap::new();
    if let Some(by_group) = document.get(component_type).and_then(|v| v.as_object()) {
        for (group, names) in by_group {
            let names: Vec<String> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str())
                .filter(|n| only.is_none_or(|only| only.iter().any(|o| o == n)))
                .map(str::to_owned)
                .collect();
            if !names.is_empty() {
                groups.insert(group.clone(), names);
            }
        }
    }
    Ok(groups)
}

/// Whether any of the packages is on the critical path of the release's branch, and the
/// space-separated critical path groups (only with JSON files).
pub fn classify(
    settings: &CritpathSettings,
    branch: &str,
    content_type: ContentType,
    packages: &[String],
) -> AppResult<(bool, Option<String>)> {
    if settings.json_dir.as_os_str().is_empty() {
        let critpath = packages.iter().any(|p| settings.packages.contains(p));
        return Ok((critpath, None));
    }
    let groups = grouped_components(settings, branch, content_type.as_str(), Some(packages))?;
    if groups.is_empty() {
        return Ok((false, None));
    }
    let names: Vec<&str> = groups.keys().map(String::as_str).collect();
    Ok((true, Some(names.join(" "))))
}
