//! The `[odcs]` settings: where on-demand composes are written and served, their lifetimes,
//! and who may ask for what (ODCS's `admins` and `allowed_clients`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OdcsSettings {
    /// Whether this node's worker generates on-demand composes.
    pub enabled: bool,
    /// Where composes are written, one `odcs-<id>/` directory each (ODCS's `target_dir`).
    pub target_dir: PathBuf,
    /// The public URL of `target_dir`, without the trailing `/` (ODCS's `target_dir_url`).
    /// Empty: Pipal serves the directory itself at `<base address>odcs`.
    pub target_dir_url: String,
    /// Lifetime of a compose when the request names none, in seconds.
    pub seconds_to_live: i64,
    /// The longest lifetime a request may ask for.
    pub max_seconds_to_live: i64,
    /// Arches of a compose when the request names none.
    pub arches: Vec<String>,
    /// Signing keys a compose takes when the request names none; absent: the masher's.
    pub sigkeys: Option<Vec<String>>,
    /// How often the cleanup job removes expired composes.
    pub cleanup_interval_secs: u64,
    /// Users and groups who may do anything, skipping the per-client checks.
    pub admins: Principals,
    /// Who may create and renew composes, and with what (ODCS's `allowed_clients`).
    pub allowed_clients: AllowedClients,
}

impl Default for OdcsSettings {
    fn default() -> Self {
        let mut groups = BTreeMap::new();
        groups.insert("packager".to_owned(), ClientLimits::default());
        OdcsSettings {
            enabled: true,
            target_dir: PathBuf::from("var/odcs"),
            target_dir_url: String::new(),
            seconds_to_live: 86_400,
            max_seconds_to_live: 259_200,
            arches: vec!["x86_64".to_owned()],
            sigkeys: None,
            cleanup_interval_secs: 600,
            admins: Principals {
                users: Vec::new(),
                groups: vec!["releng".to_owned(), "bodhiadmin".to_owned()],
            },
            allowed_clients: AllowedClients {
                users: BTreeMap::new(),
                groups,
            },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Principals {
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

/// Clients by user name and by group name, each with what it may ask for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllowedClients {
    pub users: BTreeMap<String, ClientLimits>,
    pub groups: BTreeMap<String, ClientLimits>,
}

/// What one client may ask for; a missing list means ODCS's default (`allowed_<attr>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientLimits {
    /// Default `tag`, `build` and `update`.
    pub source_types: Option<Vec<String>>,
    /// Allowed sources (tags, NVRs, aliases); `""` means any. Default any.
    pub sources: Option<Vec<String>>,
    /// Default `x86_64`.
    pub arches: Option<Vec<String>>,
    /// Allowed flag names. Default all.
    pub flags: Option<Vec<String>>,
    /// Allowed compose types (`test`, `nightly`, `production`, `development`). Default all.
    pub compose_types: Option<Vec<String>>,
}

impl OdcsSettings {
    /// The URL of the directory that holds `odcs-<id>/`, without a trailing `/`.
    pub fn target_url(&self, base_address: &str) -> String {
        if self.target_dir_url.is_empty() {
            format!("{}odcs", base_address)
        } else {
            self.target_dir_url.trim_end_matches('/').to_owned()
        }
    }
}
