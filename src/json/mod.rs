//! Bodhi's JSON serialisation (spec §4): field names and their order, nesting (which
//! relations appear at which depth, following Bodhi's "seen" rule), and the date formats
//! `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD`.

pub mod composes;
pub mod graph;
pub mod objects;
pub mod overrides;
pub mod release;
pub mod user;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serializer;

use crate::config::Settings;

pub use graph::UpdateGraph;
pub use release::ReleaseJson;
pub use user::UserJson;

pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
pub const DATE_FORMAT: &str = "%Y-%m-%d";

pub fn format_datetime(value: &NaiveDateTime) -> String {
    value.format(DATETIME_FORMAT).to_string()
}

/// Serialises a datetime as `"YYYY-MM-DD HH:MM:SS"`.
pub fn datetime<S: Serializer>(value: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_datetime(value))
}

/// Serialises an optional datetime as `"YYYY-MM-DD HH:MM:SS"` or `null`.
pub fn opt_datetime<S: Serializer>(value: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(&format_datetime(v)),
        None => s.serialize_none(),
    }
}

/// Serialises an optional date as `"YYYY-MM-DD"` or `null`.
pub fn opt_date<S: Serializer>(value: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(&v.format(DATE_FORMAT).to_string()),
        None => s.serialize_none(),
    }
}

/// What serialisation needs besides the rows: the settings, the time, and whether the object
/// is rendered for a request (Bodhi leaves avatars and OpenIDs out otherwise, e.g. in bus
/// messages and in the answer to a single-release `POST /updates/`).
#[derive(Debug, Clone, Copy)]
pub struct JsonContext<'a> {
    pub settings: &'a Settings,
    pub now: NaiveDateTime,
    pub with_request: bool,
}
