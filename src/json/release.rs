//! A release in Bodhi's JSON: its columns, then the settings Bodhi 26.4 adds as extras.

use chrono::NaiveDate;
use serde::Serialize;

use super::opt_date;

use crate::config::RulesSettings;
use crate::db::types::{PackageManager, ReleaseState};
use crate::models::release::Release;

/// A release as Bodhi 26.4 serialises it.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseJson<'a> {
    pub name: &'a str,
    pub long_name: &'a str,
    pub version: &'a str,
    pub id_prefix: &'a str,
    pub branch: &'a str,
    pub dist_tag: &'a str,
    pub stable_tag: &'a str,
    pub testing_tag: &'a str,
    pub candidate_tag: &'a str,
    pub pending_signing_tag: &'a str,
    pub pending_testing_tag: &'a str,
    pub pending_stable_tag: &'a str,
    pub override_tag: &'a str,
    pub mail_template: &'a str,
    pub state: ReleaseState,
    pub composed_by_bodhi: bool,
    pub create_automatic_updates: bool,
    pub package_manager: PackageManager,
    pub testing_repository: Option<&'a str>,
    #[serde(serialize_with = "opt_date")]
    pub released_on: Option<NaiveDate>,
    #[serde(serialize_with = "opt_date")]
    pub eol: Option<NaiveDate>,
    pub critpath_mandatory_days_in_testing: i32,
    pub mandatory_days_in_testing: i32,
    pub critpath_min_karma: i32,
    pub min_karma: i32,
    pub setting_status: Option<&'a str>,
}

impl<'a> ReleaseJson<'a> {
    pub fn new(release: &'a Release, rules: &RulesSettings) -> Self {
        ReleaseJson {
            name: &release.name,
            long_name: &release.long_name,
            version: &release.version,
            id_prefix: &release.id_prefix,
            branch: &release.branch,
            dist_tag: &release.dist_tag,
            stable_tag: &release.stable_tag,
            testing_tag: &release.testing_tag,
            candidate_tag: &release.candidate_tag,
            pending_signing_tag: &release.pending_signing_tag,
            pending_testing_tag: &release.pending_testing_tag,
            pending_stable_tag: &release.pending_stable_tag,
            override_tag: &release.override_tag,
            mail_template: &release.mail_template,
            state: release.state,
            composed_by_bodhi: release.composed_by_bodhi,
            create_automatic_updates: release.create_automatic_updates,
            package_manager: release.package_manager,
            testing_repository: release.testing_repository.as_deref(),
            released_on: release.released_on,
            eol: release.eol,
            critpath_mandatory_days_in_testing: release
                .effective_critpath_mandatory_days_in_testing(rules),
            mandatory_days_in_testing: release.effective_mandatory_days_in_testing(rules),
            critpath_min_karma: release.effective_critpath_min_karma(rules),
            min_karma: release.effective_min_karma(rules),
            setting_status: release.setting_status.as_deref(),
        }
    }
}
