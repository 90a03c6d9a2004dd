//! Request parameters the way Bodhi's Cornice/colander schemas read them: query strings, form
//! bodies and JSON bodies all become one multimap; lists accept repeated keys, JSON arrays or
//! one string split on commas and whitespace; every bad value becomes an entry of the error
//! envelope with colander's wording, and all of them are reported at once.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::Value;

use crate::error::{AppError, FieldError};

/// The parameters of one request part (`querystring` or `body`).
#[derive(Debug, Clone, Default)]
pub struct Params {
    location: &'static str,
    pairs: Vec<(String, String)>,
    /// The JSON body, when the body was JSON: nested values (lists of objects) live here.
    json: Option<serde_json::Map<String, Value>>,
}

impl Params {
    pub fn from_query(query: &str) -> Params {
        Params {
            location: "querystring",
            pairs: serde_urlencoded::from_str(query).unwrap_or_default(),
            json: None,
        }
    }

    /// Reads a JSON or form-encoded body (an empty body is an empty form).
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Result<Params, AppError> {
        let is_json = content_type.is_some_and(|c| c.contains("json"))
            || (content_type.is_none() && body.first().is_some_and(|b| *b == b'{'));
        if is_json {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                AppError::invalid("body", "body", format!("Invalid JSON request body: {e}"))
            })?;
            let Value::Object(map) = value else {
                return Err(AppError::invalid(
                    "body",
                    "body",
                    "The request body must be a JSON object",
                ));
            };
            let mut pairs = Vec::new();
            for (key, value) in &map {
                flatten(key, value, &mut pairs);
            }
            return Ok(Params {
                location: "body",
                pairs,
                json: Some(map),
            });
        }
        let pairs = serde_urlencoded::from_bytes(body)
            .map_err(|e| AppError::invalid("body", "body", format!("Invalid form body: {e}")))?;
        Ok(Params {
            location: "body",
            pairs,
            json: None,
        })
    }

    pub fn location(&self) -> &'static str {
        self.location
    }

    /// Every raw value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last value given for `name`.
    /// Every pair, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The same parameters without empty values of `names`: a form's blank field means the
    /// field was not given.
    pub fn without_blank(&self, names: &[&str]) -> Params {
        Params {
            pairs: self
                .pairs
                .iter()
                .filter(|(k, v)| !(v.trim().is_empty() && names.contains(&k.as_str())))
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    /// Whether the parameter was given (an empty JSON array counts; `null` does not).
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
            || self
                .json
                .as_ref()
                .and_then(|m| m.get(name))
                .is_some_and(|v| !v.is_null())
    }

    /// The objects of a list parameter such as `bug_feedback`: a JSON array of objects, or form
    /// keys flattened as `bug_feedback.0.bug_id`, `bug_feedback.0.karma`, ... Each object is a
    /// list of (field, value) pairs.
    pub fn objects(&self, name: &str) -> Vec<Vec<(String, String)>> {
        if let Some(Value::Array(items)) = self.json.as_ref().and_then(|m| m.get(name)) {
            return items
                .iter()
                .filter_map(|item| item.as_object())
                .map(|object| {
                    object
                        .iter()
                        .filter_map(|(k, v)| scalar(v).map(|v| (k.clone(), v)))
                        .collect()
                })
                .collect();
        }
        let prefix = format!("{name}.");
        let mut indexed: std::collections::BTreeMap<usize, Vec<(String, String)>> =
            std::collections::BTreeMap::new();
        for (key, value) in &self.pairs {
            if let Some(rest) = key.strip_prefix(&prefix)
                && let Some((index, field)) = rest.split_once('.')
                && let Ok(index) = index.parse::<usize>()
            {
                indexed
                    .entry(index)
                    .or_default()
                    .push((field.to_owned(), value.clone()));
            }
        }
        indexed.into_values().collect()
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn flatten(key: &str, value: &Value, pairs: &mut Vec<(String, String)>) {
    match value {
        Value::Array(items) => {
            for item in items {
                if let Some(text) = scalar(item) {
                    pairs.push((key.to_owned(), text));
                }
            }
        }
        other => {
            if let Some(text) = scalar(other) {
                pairs.push((key.to_owned(), text));
            }
        }
    }
}

/// Bodhi's `util.splitter`: every value, split on commas and whitespace, empties dropped.
pub fn split_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values
        .into_iter()
        .flat_map(|v| v.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads typed values out of [`Params`], collecting every problem before failing.
pub struct Validator<'a> {
    params: &'a Params,
    errors: Vec<FieldError>,
}

impl<'a> Validator<'a> {
    pub fn new(params: &'a Params) -> Self {
        Validator {
            params,
            errors: Vec::new(),
        }
    }

    pub fn params(&self) -> &'a Params {
        self.params
    }

    /// Records an error of this request part.
    pub fn error(&mut self, name: &str, description: impl Into<String>) {
        self.errors
            .push(FieldError::new(self.params.location, name, description));
    }

    /// Fails with every recorded error, if any.
    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.errors))
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// A trimmed string; `None` when absent.
    pub fn string(&mut self, name: &str) -> Option<String> {
        self.params.get(name).map(|v| v.trim().to_owned())
    }

    /// A string that must be present and not empty (colander's `Required`).
    pub fn required_string(&mut self, name: &str) -> Option<String> {
        match self.string(name) {
            Some(value) if !value.is_empty() => Some(value),
            _ => {
                self.error(name, "Required");
                None
            }
        }
    }

    /// A list: repeated keys, JSON arrays, or comma/space separated strings.
    pub fn list(&mut self, name: &str) -> Vec<String> {
        split_values(self.params.all(name))
    }

    /// An integer within bounds, with colander's messages.
    pub fn int(&mut self, name: &str, min: Option<i64>, max: Option<i64>) -> Option<i64> {
        let raw = self.params.get(name)?.trim();
        let Ok(value) = raw.parse::<i64>() else {
            self.error(name, format!("\"{raw}\" is not a number"));
            return None;
        };
        if let Some(min) = min
            && value < min
        {
            self.error(name, format!("{value} is less than minimum value {min}"));
            return None;
        }
        if let Some(max) = max
            && value > max
        {
            self.error(name, format!("{value} is greater than maximum value {max}"));
            return None;
        }
        Some(value)
    }

    /// A query-string boolean: `true`/`1` or `false`/`0`, in any case.
    pub fn query_bool(&mut self, name: &str) -> Option<bool> {
        let raw = self.params.get(name)?.trim();
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.error(
                    name,
                    format!("\"{raw}\" is neither in (false, 0) nor in (true, 1)"),
                );
                None
            }
        }
    }

    /// A body boolean as colander reads it: `false`/`0` (any case) is false, anything else
    /// true.
    pub fn body_bool(&mut self, name: &str) -> Option<bool> {
        let raw = self.params.get(name)?.trim();
        Some(!matches!(raw.to_ascii_lowercase().as_str(), "false" | "0"))
    }

    /// One of an enum's values.
    pub fn choice<T>(&mut self, name: &str) -> Option<T>
    where
        T: std::str::FromStr<Err = crate::db::types::UnknownValue>,
    {
        let raw = self.params.get(name)?.trim();
        match raw.parse() {
            Ok(value) => Some(value),
            Err(e) => {
                self.error(name, e.to_string());
                None
            }
        }
    }

    /// Several values of an enum.
    pub fn choices<T>(&mut self, name: &str) -> Vec<T>
    where
        T: std::str::FromStr<Err = crate::db::types::UnknownValue>,
    {
        let mut values = Vec::new();
        for raw in self.list(name) {
            match raw.parse::<T>() {
                Ok(value) => values.push(value),
                Err(e) => self.error(name, e.to_string()),
            }
        }
        values
    }

    /// An ISO-8601 date or date-time (naive times are UTC); colander's `Invalid date`.
    pub fn datetime(&mut self, name: &str) -> Option<NaiveDateTime> {
        let raw = self.params.get(name)?.trim();
        match parse_datetime(raw) {
            Some(value) => Some(value),
            None => {
                self.error(name, "Invalid date");
                None
            }
        }
    }
}

/// Parses `2024-01-31`, `2024-01-31T12:00:00`, `2024-01-31 12:00:00`, with optional fractions
/// and a `Z` or `+hh:mm` offset (converted to UTC).
pub fn parse_datetime(raw: &str) -> Option<NaiveDateTime> {
    if let Ok(with_zone) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(with_zone.naive_utc());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(with_zone) = chrono::DateTime::parse_from_str(raw, format) {
            return Some(with_zone.naive_utc());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(value) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(value);
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::types::UpdateStatus;

    #[test]
    fn lists_accept_repeats_commas_and_spaces() {
        let params = Params::from_query("packages=a,b&packages=c%20d&packages=");
        let mut v = Validator::new(&params);
        assert_eq!(v.list("packages"), ["a", "b", "c", "d"]);
        let json = Params::from_body(
            Some("application/json"),
            br#"{"builds": ["x-1-1", "y-1-1"], "n": 3}"#,
        )
        .unwrap();
        let mut v = Validator::new(&json);
        assert_eq!(v.list("builds"), ["x-1-1", "y-1-1"]);
        assert_eq!(v.int("n", None, None), Some(3));
    }

    #[test]
    fn errors_use_colanders_words_and_are_all_reported() {
        let params =
            Params::from_query("page=x&rows_per_page=0&status=bogus&locked=maybe&since=no");
        let mut v = Validator::new(&params);
        assert_eq!(v.int("page", Some(1), None), None);
        assert_eq!(v.int("rows_per_page", Some(1), Some(1000)), None);
        assert!(v.choices::<UpdateStatus>("status").is_empty());
        assert_eq!(v.query_bool("locked"), None);
        assert_eq!(v.datetime("since"), None);
        let AppError::Invalid(errors) = v.finish().unwrap_err() else {
            panic!("invalid")
        };
        let text: Vec<String> = errors.iter().map(|e| e.description.clone()).collect();
        assert_eq!(
            text,
            [
                "\"x\" is not a number",
                "0 is less than minimum value 1",
                "\"bogus\" is not one of pending, testing, stable, unpushed, obsolete",
                "\"maybe\" is neither in (false, 0) nor in (true, 1)",
                "Invalid date",
            ]
        );
        assert!(errors.iter().all(|e| e.location == "querystring"));
    }

    #[test]
    fn booleans_and_dates() {
        let params = Params::from_query("a=True&b=0&c=yes");
        let mut v = Validator::new(&params);
        assert_eq!(v.query_bool("a"), Some(true));
        assert_eq!(v.query_bool("b"), Some(false));
        assert_eq!(v.body_bool("c"), Some(true));
        assert_eq!(v.body_bool("b"), Some(false));
        assert_eq!(
            parse_datetime("2024-01-31").unwrap().to_string(),
            "2024-01-31 00:00:00"
        );
        assert_eq!(
            parse_datetime("2024-01-31T12:30:00+02:00")
                .unwrap()
                .to_string(),
            "2024-01-31 10:30:00"
        );
        assert_eq!(
            parse_datetime("2024-01-31 12:30:00.250")
                .unwrap()
                .to_string(),
            "2024-01-31 12:30:00.250"
        );
        assert!(parse_datetime("31/01/2024").is_none());
    }

    #[test]
    fn nested_objects_from_json_or_flattened_forms() {
        let form = Params::from_body(
            Some("application/x-www-form-urlencoded"),
            b"bug_feedback.0.bug_id=12&bug_feedback.0.karma=1&bug_feedback.1.bug_id=13",
        )
        .unwrap();
        assert_eq!(
            form.objects("bug_feedback"),
            vec![
                vec![
                    ("bug_id".to_owned(), "12".to_owned()),
                    ("karma".to_owned(), "1".to_owned())
                ],
                vec![("bug_id".to_owned(), "13".to_owned())],
            ]
        );
        let json = Params::from_body(
            Some("application/json"),
            br#"{"bug_feedback": [{"bug_id": 12, "karma": -1}]}"#,
        )
        .unwrap();
        assert_eq!(
            json.objects("bug_feedback"),
            vec![vec![
                ("bug_id".to_owned(), "12".to_owned()),
                ("karma".to_owned(), "-1".to_owned())
            ]]
        );
    }
}
