//! A compose as ODCS's API shows it, and where its repository lives on disk and on the web.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::{FLAGS, RESULTS, names_of, state_name};
use crate::config::Settings;
use crate::models::odcs::OdcsCompose;

/// ODCS's time format: `2026-12-05T21:35:13Z`.
pub fn time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The compose whose directory holds this compose's repository: the reused one, if any.
pub fn directory_id(compose: &OdcsCompose) -> i32 {
    compose.reused_id.unwrap_or(compose.id)
}

/// `<target_dir>/odcs-<id>`: ODCS's `toplevel_dir`.
pub fn toplevel_dir(target_dir: &Path, id: i32) -> PathBuf {
    target_dir.join(format!("odcs-{id}"))
}

/// The repositories' directory inside a compose's top directory (Pungi's variant
/// `Temporary`).
pub fn result_dir(toplevel: &Path) -> PathBuf {
    toplevel.join("compose/Temporary")
}

/// The URLs of a compose: (toplevel_url, result_repo, result_repofile).
pub fn urls(settings: &Settings, compose: &OdcsCompose) -> (String, String, String) {
    let id = directory_id(compose);
    let toplevel = format!(
        "{}/odcs-{id}",
        settings.odcs.target_url(&settings.base_address())
    );
    let repo = format!("{toplevel}/compose/Temporary");
    let repofile = format!("{repo}/odcs-{id}.repo");
    (toplevel, repo, repofile)
}

fn words(value: &Option<String>) -> Value {
    match value {
        Some(text) => json!(text),
        None => Value::Null,
    }
}

/// The compose JSON of ODCS 0.9.2, every field in its order; the fields of source types
/// Pipal does not compose are null.
pub fn compose_json(settings: &Settings, compose: &OdcsCompose) -> Value {
    let (toplevel_url, result_repo, result_repofile) = urls(settings, compose);
    let mut json = json!({
        "id": compose.id,
        "owner": compose.owner,
        "source_type": compose.source_type,
        "source": compose.source,
        "state": compose.state,
        "state_name": state_name(compose.state),
        "state_reason": compose.state_reason,
        "time_to_expire": time(&compose.time_to_expire),
        "time_submitted": time(&compose.time_submitted),
        "time_started": compose.time_started.as_ref().map(time),
        "time_done": compose.time_done.as_ref().map(time),
        "time_removed": compose.time_removed.as_ref().map(time),
        "removed_by": compose.removed_by,
    });
    let rest = json!({
        "result_repo": result_repo,
        "result_repofile": result_repofile,
        "toplevel_url": toplevel_url,
        "flags": names_of(compose.flags, FLAGS),
        "results": names_of(compose.results, RESULTS),
        "sigkeys": compose.sigkeys,
        "koji_event": compose.koji_event,
        "koji_task_id": Value::Null,
        "packages": words(&compose.packages),
        "builds": words(&compose.builds),
        "arches": compose.arches,
        "multilib_arches": "",
        "multilib_method": 0,
        "lookaside_repos": "",
        "modular_koji_tags": Value::Null,
        "module_defaults_url": Value::Null,
        "label": compose.label,
        "compose_type": compose.compose_type,
        "pungi_compose_id": Value::Null,
        "target_dir": "default",
        "scratch_modules": Value::Null,
        "parent_pungi_compose_ids": Value::Null,
        "scratch_build_tasks": Value::Null,
        "modules": Value::Null,
        "respin_of": compose.respin_of,
        "base_module_br_name": Value::Null,
        "base_module_br_stream": Value::Null,
        "base_module_br_stream_version_lte": Value::Null,
        "base_module_br_stream_version_gte": Value::Null,
    });
    if let (Some(map), Value::Object(rest)) = (json.as_object_mut(), rest) {
        map.extend(rest);
    }
    json
}

/// The `.repo` file of a compose: its repository enabled, the debuginfo and source ones not.
pub fn repofile(settings: &Settings, compose: &OdcsCompose) -> String {
    let id = directory_id(compose);
    let (_, result_repo, _) = urls(settings, compose);
    let section = |suffix: &str, what: &str, path: &str, enabled: u8| {
        format!(
            "[odcs-{id}{suffix}]\nname=ODCS repository for compose odcs-{id}{what}\n\
             baseurl={result_repo}/{path}\ntype=rpm-md\nskip_if_unavailable=False\n\
             gpgcheck=0\nrepo_gpgcheck=0\nenabled={enabled}\nenabled_metadata=1\n"
        )
    };
    [
        section("", "", "$basearch/os", 1),
        section("-debuginfo", " debuginfo", "$basearch/debug/tree", 0),
        section("-source", " source", "source/tree", 0),
    ]
    .join("\n")
}
