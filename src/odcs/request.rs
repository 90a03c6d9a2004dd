//! Reading ODCS's request bodies: `POST /api/1/composes/` (ODCS's `validate_json_data` and
//! the checks of its compose view) and `PATCH /api/1/composes/<id>`. Every mistake is a 400
//! that names the field.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::error::{OdcsError, OdcsResult};
use super::{COMPOSE_TYPES, FLAGS, OdcsSettings, REPOSITORY, RESULTS, SourceType};

/// A validated request for a new compose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeRequest {
    pub source_type: SourceType,
    /// Deduplicated and sorted, as ODCS's `set()` then join.
    pub source: Vec<String>,
    pub packages: Option<Vec<String>>,
    pub builds: Option<Vec<String>>,
    pub sigkeys: Vec<String>,
    pub arches: Vec<String>,
    pub flags: Vec<String>,
    pub results: Vec<String>,
    pub seconds_to_live: i64,
    pub label: Option<String>,
    pub compose_type: String,
    pub respin_of: Option<String>,
}

/// What a `PATCH` asks to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewRequest {
    pub seconds_to_live: Option<i64>,
    pub label: Option<String>,
    pub sigkeys: Option<Vec<String>>,
    pub builds: Option<Vec<String>>,
}

/// Fields ODCS takes that need Pungi features Pipal's composes do not have. Asking for them
/// is an error rather than a compose without them.
const UNSUPPORTED_TOP: &[&str] = &[
    "multilib_arches",
    "multilib_method",
    "lookaside_repos",
    "parent_pungi_compose_ids",
];
const UNSUPPORTED_SOURCE: &[&str] = &[
    "koji_event",
    "modular_koji_tags",
    "module_defaults_url",
    "module_defaults_commit",
    "scratch_modules",
    "scratch_build_tasks",
    "modules",
    "base_module_br_name",
    "base_module_br_stream",
    "base_module_br_stream_version_lte",
    "base_module_br_stream_version_gte",
];

const ALLOWED_PUNCTUATION: &str = " -/_.:#+?$~^,";

/// ODCS's `validate_json_data`: scalars, lists of scalars, and one nested object (`source`);
/// strings outside `packages` limited to alphanumerics and ` -/_.:#+?$~^,`.
fn validate_value(key: &str, value: &Value, nested_allowed: bool) -> OdcsResult<()> {
    match value {
        Value::Object(map) if nested_allowed => {
            for (inner, value) in map {
                validate_value(inner, value, false)?;
            }
            Ok(())
        }
        Value::Object(_) => Err(OdcsError::bad(format!(
            "Only \"source\" can contain a nested object, not \"{key}\"."
        ))),
        Value::Array(items) => items.iter().try_for_each(|item| match item {
            Value::Array(_) | Value::Object(_) => Err(OdcsError::bad(format!(
                "\"{key}\" must be a list of strings or numbers."
            ))),
            item => validate_value(key, item, false),
        }),
        Value::String(text) if key != "packages" => {
            if text
                .chars()
                .all(|c| c.is_alphanumeric() || ALLOWED_PUNCTUATION.contains(c))
            {
                Ok(())
            } else {
                Err(OdcsError::bad(format!(
                    "\"{key}\" may only contain alphanumerics and \"{ALLOWED_PUNCTUATION}\"."
                )))
            }
        }
        _ => Ok(()),
    }
}

fn strings(map: &Map<String, Value>, key: &str) -> OdcsResult<Option<Vec<String>>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| OdcsError::bad(format!("\"{key}\" must be a list of strings.")))
            })
            .collect::<OdcsResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(OdcsError::bad(format!(
            "\"{key}\" must be a list of strings."
        ))),
    }
}

fn string(map: &Map<String, Value>, key: &str) -> OdcsResult<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(OdcsError::bad(format!("\"{key}\" must be a string."))),
    }
}

fn integer(map: &Map<String, Value>, key: &str) -> OdcsResult<Option<i64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .map(Some)
            .ok_or_else(|| OdcsError::bad(format!("\"{key}\" must be an integer."))),
    }
}

fn is_given(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        Some(_) => true,
    }
}

fn reject_unsupported(map: &Map<String, Value>, keys: &[&str]) -> OdcsResult<()> {
    match keys.iter().find(|key| is_given(map.get(**key))) {
        Some(key) => Err(OdcsError::bad(format!(
            "\"{key}\" is not supported: Pipal composes repositories of tags, builds and \
             updates."
        ))),
        None => Ok(()),
    }
}

/// A lifetime as ODCS bounds it: the request's, else the default, at most the maximum.
fn lifetime(requested: Option<i64>, settings: &OdcsSettings) -> OdcsResult<i64> {
    let seconds = requested.unwrap_or(settings.seconds_to_live);
    if seconds <= 0 {
        return Err(OdcsError::bad("\"seconds_to_live\" must be positive."));
    }
    Ok(seconds.min(settings.max_seconds_to_live))
}

fn names_in(
    given: Option<Vec<String>>,
    table: &[(&str, i32)],
    what: &str,
) -> OdcsResult<Vec<String>> {
    let names = given.unwrap_or_default();
    if let Some(unknown) = names
        .iter()
        .find(|name| !table.iter().any(|(known, _)| known == name))
    {
        return Err(OdcsError::bad(format!("Unknown {what} \"{unknown}\".")));
    }
    Ok(names)
}

/// The bitmask of `names` in `table`.
pub fn mask(names: &[String], table: &[(&str, i32)]) -> i32 {
    table
        .iter()
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .fold(0, |mask, (_, bit)| mask | bit)
}

fn word_set(words: impl IntoIterator<Item = String>) -> Vec<String> {
    words
        .into_iter()
        .flat_map(|w| {
            w.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        })
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect()
}

impl ComposeRequest {
    /// Reads a `POST /api/1/composes/` body.
    pub fn parse(
        body: &Value,
        settings: &OdcsSettings,
        default_sigkeys: &[String],
    ) -> OdcsResult<Self> {
        let top = body
            .as_object()
            .ok_or_else(|| OdcsError::bad("The request body must be a JSON object."))?;
        for (key, value) in top {
            validate_value(key, value, key == "source")?;
        }
        let source = match top.get("source") {
            Some(Value::Object(source)) => source,
            _ => return Err(OdcsError::bad("No \"source\" in the request.")),
        };
        reject_unsupported(top, UNSUPPORTED_TOP)?;
        reject_unsupported(source, UNSUPPORTED_SOURCE)?;
        let type_name =
            string(source, "type")?.ok_or_else(|| OdcsError::bad("No \"type\" in \"source\"."))?;
        let source_type = SourceType::from_name(&type_name)
            .ok_or_else(|| OdcsError::bad(format!("Unknown source type \"{type_name}\".")))?;
        if !source_type.supported() {
            return Err(OdcsError::bad(format!(
                "Source type \"{type_name}\" is not supported: Pipal composes tags, builds \
                 and updates."
            )));
        }
        let words = word_set(string(source, "source")?);
        let builds = strings(source, "builds")?.map(word_set);
        match source_type {
            SourceType::Build if builds.as_ref().is_none_or(Vec::is_empty) => {
                return Err(OdcsError::bad(
                    "\"builds\" must list the NVRs of a compose of type \"build\".",
                ));
            }
            SourceType::Tag if words.len() != 1 => {
                return Err(OdcsError::bad(
                    "\"source\" must name one tag for a compose of type \"tag\".",
                ));
            }
            SourceType::Update if words.is_empty() => {
                return Err(OdcsError::bad(
                    "\"source\" must list update aliases for a compose of type \"update\".",
                ));
            }
            _ => {}
        }
        let packages = strings(source, "packages")?.map(word_set);
        if packages.is_some() && source_type != SourceType::Tag {
            return Err(OdcsError::bad(
                "\"packages\" is only for composes of type \"tag\".",
            ));
        }
        let flags = names_in(strings(top, "flags")?, FLAGS, "flag")?;
        let results = names_in(strings(top, "results")?, RESULTS, "result")?;
        if mask(&results, RESULTS) & !REPOSITORY != 0 {
            return Err(OdcsError::bad(
                "Pipal composes repositories only: \"results\" may only name \"repository\".",
            ));
        }
        let compose_type = string(top, "compose_type")?.unwrap_or_else(|| "test".to_owned());
        if !COMPOSE_TYPES.contains(&compose_type.as_str()) {
            return Err(OdcsError::bad(format!(
                "Unknown compose_type \"{compose_type}\"."
            )));
        }
        match string(top, "target_dir")?.as_deref() {
            None | Some("default") => {}
            Some(other) => {
                return Err(OdcsError::bad(format!(
                    "Unknown target_dir \"{other}\": Pipal has only \"default\"."
                )));
            }
        }
        let requested = match integer(top, "seconds_to_live")? {
            Some(seconds) => Some(seconds),
            None => integer(top, "seconds-to-live")?,
        };
        let arches = strings(top, "arches")?
            .map(word_set)
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| settings.arches.clone());
        let sigkeys = strings(source, "sigkeys")?.unwrap_or_else(|| default_sigkeys.to_vec());
        Ok(ComposeRequest {
            source_type,
            source: words,
            packages,
            builds,
            sigkeys,
            arches,
            flags,
            results: vec!["repository".to_owned()],
            seconds_to_live: lifetime(requested, settings)?,
            label: string(top, "label")?,
            compose_type,
            respin_of: string(top, "respin_of")?,
        })
    }
}

impl RenewRequest {
    /// Reads a `PATCH /api/1/composes/<id>` body (which may be empty).
    pub fn parse(body: &Value, settings: &OdcsSettings) -> OdcsResult<Self> {
        let empty = Map::new();
        let top = match body {
            Value::Null => &empty,
            Value::Object(map) => map,
            _ => return Err(OdcsError::bad("The request body must be a JSON object.")),
        };
        for (key, value) in top {
            validate_value(key, value, key == "source")?;
        }
        let source = match top.get("source") {
            Some(Value::Object(source)) => source,
            Some(_) => return Err(OdcsError::bad("\"source\" must be an object.")),
            None => &empty,
        };
        if is_given(source.get("modules")) {
            return Err(OdcsError::bad(
                "\"modules\" is not supported: Pipal composes repositories of tags, builds \
                 and updates.",
            ));
        }
        let requested = match integer(top, "seconds_to_live")? {
            Some(seconds) => Some(seconds),
            None => integer(top, "seconds-to-live")?,
        };
        Ok(RenewRequest {
            seconds_to_live: requested.map(|s| lifetime(Some(s), settings)).transpose()?,
            label: string(top, "label")?,
            sigkeys: strings(source, "sigkeys")?,
            builds: strings(source, "builds")?.map(word_set),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> OdcsResult<ComposeRequest> {
        ComposeRequest::parse(&body, &OdcsSettings::default(), &[])
    }

    #[test]
    fn a_tag_request_takes_the_defaults() {
        let request = parse(json!({"source": {"type": "tag", "source": "f43-updates"}})).unwrap();
        assert_eq!(request.source_type, SourceType::Tag);
        assert_eq!(request.source, ["f43-updates"]);
        assert_eq!(request.arches, ["x86_64"]);
        assert_eq!(request.seconds_to_live, 86_400);
        assert_eq!(request.compose_type, "test");
    }

    #[test]
    fn lifetimes_are_capped_and_the_legacy_key_is_read() {
        let request = parse(json!({
            "source": {"type": "tag", "source": "f43-updates"},
            "seconds-to-live": 10_000_000
        }))
        .unwrap();
        assert_eq!(request.seconds_to_live, 259_200);
    }

    #[test]
    fn sources_are_deduplicated_and_sorted() {
        let request = parse(json!({"source": {
            "type": "build", "builds": ["b-1-1", "a-1-1 b-1-1"]
        }}))
        .unwrap();
        assert_eq!(request.builds.unwrap(), ["a-1-1", "b-1-1"]);
    }

    #[test]
    fn mistakes_name_the_field() {
        let cases = [
            (json!({}), "No \"source\""),
            (json!({"source": {"source": "x"}}), "No \"type\""),
            (
                json!({"source": {"type": "nope", "source": "x"}}),
                "Unknown source type",
            ),
            (
                json!({"source": {"type": "module", "source": "x:y"}}),
                "not supported",
            ),
            (json!({"source": {"type": "build"}}), "\"builds\""),
            (
                json!({"source": {"type": "tag", "source": "a b"}}),
                "one tag",
            ),
            (
                json!({"source": {"type": "tag", "source": "f4<3"}}),
                "alphanumerics",
            ),
            (
                json!({"source": {"type": "tag", "source": "t"}, "flags": ["x"]}),
                "Unknown flag",
            ),
            (
                json!({"source": {"type": "tag", "source": "t"}, "results": ["iso"]}),
                "repositories only",
            ),
            (
                json!({"source": {"type": "tag", "source": "t"}, "arches": {"a": 1}}),
                "nested",
            ),
            (
                json!({"source": {"type": "tag", "source": "t", "koji_event": 5}}),
                "koji_event",
            ),
            (
                json!({"source": {"type": "tag", "source": "t"}, "seconds_to_live": "x"}),
                "integer",
            ),
        ];
        for (body, expected) in cases {
            let error = parse(body.clone()).unwrap_err();
            assert!(
                matches!(&error, OdcsError::BadRequest(m) if m.contains(expected)),
                "{body}: {error:?}"
            );
        }
    }
}
