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
    let mut buffer = [0u8; 19];
    match write_datetime(value, &mut buffer) {
        Some(text) => text.to_owned(),
        None => value.format(DATETIME_FORMAT).to_string(),
    }
}

/// `YYYY-MM-DD HH:MM:SS` written digit by digit into `buffer`: a page of updates has hundreds
/// of dates, and chrono's format strings were a tenth of its serialisation time. `None` for
/// years outside 0..=9999, which the caller formats the slow way.
fn write_datetime<'b>(value: &NaiveDateTime, buffer: &'b mut [u8; 19]) -> Option<&'b str> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(value.year()).ok().filter(|y| *y <= 9999)?;
    let fields = [
        (0, 4, year),
        (5, 2, value.month()),
        (8, 2, value.day()),
        (11, 2, value.hour()),
        (14, 2, value.minute()),
        (17, 2, value.second()),
    ];
    *buffer = *b"0000-00-00 00:00:00";
    for (start, width, mut number) in fields {
        for position in (start..start + width).rev() {
            buffer[position] = b'0' + (number % 10) as u8;
            number /= 10;
        }
    }
    std::str::from_utf8(buffer).ok()
}

/// Serialises a datetime as `"YYYY-MM-DD HH:MM:SS"`.
pub fn datetime<S: Serializer>(value: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0u8; 19];
    match write_datetime(value, &mut buffer) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&value.format(DATETIME_FORMAT).to_string()),
    }
}

/// Serialises an optional datetime as `"YYYY-MM-DD HH:MM:SS"` or `null`.
pub fn opt_datetime<S: Serializer>(value: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => datetime(v, s),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_written_as_chrono_writes_them() {
        for text in [
            "2026-11-22 04:05:06",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "1999-07-09 10:00:59",
        ] {
            let value = NaiveDateTime::parse_from_str(text, DATETIME_FORMAT).unwrap();
            assert_eq!(format_datetime(&value), text);
            assert_eq!(
                format_datetime(&value),
                value.format(DATETIME_FORMAT).to_string()
            );
        }
        let far = NaiveDate::from_ymd_opt(12026, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap();
        assert_eq!(
            format_datetime(&far),
            far.format(DATETIME_FORMAT).to_string()
        );
    }
}
