//! Koji's structs (spec/koji.md §1.3) read into the build system's types. Dates arrive as
//! `isoformat(' ')` strings with an offset; a `*_ts` double stands in when the string is odd.

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

use crate::buildsys::{
    BuildInfo, BuildsysError, BuildsysResult, ChangelogEntry, RpmInfo, TagInfo, TaggedBuild,
};

fn invalid(what: &str, value: &Value) -> BuildsysError {
    let mut shown = value.to_string();
    shown.truncate(200);
    BuildsysError::Unavailable(format!("Koji sent an unexpected {what}: {shown}"))
}

pub fn list<T>(
    value: &Value,
    item: impl Fn(&Value) -> BuildsysResult<T>,
) -> BuildsysResult<Vec<T>> {
    value
        .as_array()
        .ok_or_else(|| invalid("list", value))?
        .iter()
        .map(item)
        .collect()
}

pub fn string(value: &Value, key: &str) -> BuildsysResult<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid(&format!("{key} field"), value))
}

fn opt_string(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn id(value: &Value, key: &str) -> BuildsysResult<i32> {
    value
        .get(key)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| invalid(&format!("{key} field"), value))
}

fn opt_id(value: &Value, key: &str) -> Option<i32> {
    value
        .get(key)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

/// `2026-11-22 00:21:13.161310+00:00` (or without the fraction) as UTC.
pub fn koji_time(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ]
    .iter()
    .find_map(|format| DateTime::parse_from_str(text, format).ok())
    .map(|t| t.naive_utc())
    .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok())
}

fn time(value: &Value, key: &str) -> Option<NaiveDateTime> {
    if let Some(parsed) = value.get(key).and_then(Value::as_str).and_then(koji_time) {
        return Some(parsed);
    }
    let ts_key = key.replace("_time", "_ts");
    let ts = value.get(&ts_key).and_then(Value::as_f64)?;
    DateTime::from_timestamp_micros((ts * 1_000_000.0) as i64).map(|t| t.naive_utc())
}

pub fn build(value: &Value) -> BuildsysResult<BuildInfo> {
    let name = string(value, "name")?;
    Ok(BuildInfo {
        id: id(value, "id").or_else(|_| id(value, "build_id"))?,
        package_name: opt_string(value, "package_name").unwrap_or_else(|| name.clone()),
        version: string(value, "version")?,
        release: string(value, "release")?,
        epoch: opt_id(value, "epoch"),
        nvr: string(value, "nvr")?,
        owner_name: opt_string(value, "owner_name").unwrap_or_default(),
        state: opt_id(value, "state").unwrap_or(1),
        task_id: opt_id(value, "task_id"),
        creation_event_id: opt_id(value, "creation_event_id").unwrap_or_default(),
        creation_time: time(value, "creation_time")
            .ok_or_else(|| invalid("creation_time", value))?,
        completion_time: time(value, "completion_time"),
        source: opt_string(value, "source"),
        extra: value.get("extra").cloned().unwrap_or(Value::Null),
        name,
    })
}

pub fn tagged_build(value: &Value) -> BuildsysResult<TaggedBuild> {
    Ok(TaggedBuild {
        build: build(value)?,
        tag_id: id(value, "tag_id")?,
        tag_name: string(value, "tag_name")?,
        create_event: opt_id(value, "create_event").unwrap_or_default(),
    })
}

pub fn tag(value: &Value) -> BuildsysResult<TagInfo> {
    Ok(TagInfo {
        id: id(value, "id")?,
        name: string(value, "name")?,
        arches: opt_string(value, "arches").filter(|a| !a.is_empty()),
        perm: opt_string(value, "perm"),
        locked: value
            .get("locked")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        extra: value
            .get("extra")
            .filter(|e| e.is_object())
            .cloned()
            .unwrap_or_else(|| serde_json::json!({})),
    })
}

/// A `listSideTags` entry (`user_id` is a string there) as a tag with the side-tag extra.
pub fn side_tag(value: &Value) -> BuildsysResult<TagInfo> {
    let user_id = match value.get("user_id") {
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        Some(other) => other.as_i64(),
        None => None,
    };
    Ok(TagInfo {
        id: id(value, "id")?,
        name: string(value, "name")?,
        arches: None,
        perm: None,
        locked: false,
        extra: serde_json::json!({
            "sidetag": true,
            "sidetag_user": opt_string(value, "user_name"),
            "sidetag_user_id": user_id,
        }),
    })
}

pub fn rpm(value: &Value) -> BuildsysResult<RpmInfo> {
    Ok(RpmInfo {
        id: id(value, "id")?,
        build_id: id(value, "build_id")?,
        name: string(value, "name")?,
        version: string(value, "version")?,
        release: string(value, "release")?,
        epoch: opt_id(value, "epoch"),
        arch: string(value, "arch")?,
        size: value
            .get("size")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        payloadhash: opt_string(value, "payloadhash").unwrap_or_default(),
        buildtime: value
            .get("buildtime")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
    })
}

/// `build N already tagged (T)` → (N, T).
/// The changelog headers of `getRPMHeaders`: parallel lists (a single entry may come as a
/// bare value, as RPM gives it).
pub fn changelog(value: &Value) -> BuildsysResult<Vec<ChangelogEntry>> {
    let as_list = |key: &str| -> Vec<Value> {
        match value.get(key) {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(single) => vec![single.clone()],
        }
    };
    let (times, names, texts) = (
        as_list("changelogtime"),
        as_list("changelogname"),
        as_list("changelogtext"),
    );
    if times.len() != texts.len() || names.len() != texts.len() {
        return Err(invalid("changelog headers", value));
    }
    times
        .iter()
        .zip(names)
        .zip(texts)
        .map(|((time, author), text)| {
            Ok(ChangelogEntry {
                time: time
                    .as_i64()
                    .ok_or_else(|| invalid("changelogtime", time))?,
                author: author.as_str().unwrap_or_default().to_owned(),
                text: text.as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

pub fn already_tagged(message: &str) -> Option<(String, String)> {
    let rest = message.split("build ").nth(1)?;
    let (nvr, rest) = rest.split_once(" already tagged (")?;
    Some((nvr.to_owned(), rest.trim_end_matches(')').to_owned()))
}

/// `build N not in tag T` → (N, T).
pub fn not_in_tag(message: &str) -> Option<(String, String)> {
    let rest = message.split("build ").nth(1)?;
    let (nvr, tag) = rest.split_once(" not in tag ")?;
    Some((nvr.to_owned(), tag.trim().to_owned()))
}

/// ` 'x'` → `x`: the repr-quoted names in Koji's messages.
pub fn unquote(text: &str) -> String {
    text.trim().trim_matches('\'').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn koji_times_with_and_without_fractions_and_offsets() {
        let t = koji_time("2026-11-22 00:21:13.161310+00:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-22 00:21:13.161310");
        let t = koji_time("2026-11-22 01:21:13+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-22 00:21:13");
        assert!(koji_time("yesterday").is_none());
    }

    #[test]
    fn a_build_struct_from_the_real_hub_reads_whole() {
        let value = json!({
            "build_id": 7, "id": 7, "name": "nano", "package_name": "nano", "package_id": 3,
            "version": "8.2", "release": "1.fc43", "epoch": null, "nvr": "nano-8.2-1.fc43",
            "state": 1, "draft": false, "task_id": null, "owner_id": 1, "owner_name": "alice",
            "creation_event_id": 12, "creation_time": "2026-11-22 00:21:13.161310+00:00",
            "creation_ts": 1795306873.16131, "completion_time": null, "completion_ts": null,
            "source": "git+https://src/rpms/nano.git#abc", "extra": {"typeinfo": {"rpm": null}},
        });
        let info = build(&value).unwrap();
        assert_eq!(info.nvr, "nano-8.2-1.fc43");
        assert_eq!(info.owner_name, "alice");
        assert_eq!(
            info.source.as_deref(),
            Some("git+https://src/rpms/nano.git#abc")
        );
        assert_eq!(info.creation_time.to_string(), "2026-11-22 00:21:13.161310");
    }

    #[test]
    fn tag_errors_name_the_build_and_the_tag() {
        assert_eq!(
            already_tagged("build nano-1-1 already tagged (f43-updates)"),
            Some(("nano-1-1".into(), "f43-updates".into()))
        );
        assert_eq!(
            not_in_tag("build nano-1-1 not in tag f43-updates-testing"),
            Some(("nano-1-1".into(), "f43-updates-testing".into()))
        );
        assert_eq!(already_tagged("something else"), None);
    }
}
