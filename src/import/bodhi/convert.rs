//! Checks shared by the conversions of Bodhi rows: enum texts that must be one of Pipal's
//! values, and columns Bodhi allows to be NULL where Pipal needs a value.

use std::str::FromStr;

use crate::db::types::UnknownValue;

/// `value` as one of the enum's values, or the reason the row cannot be imported.
pub fn enum_value<T>(column: &str, value: &str) -> Result<T, String>
where
    T: FromStr<Err = UnknownValue>,
{
    T::from_str(value).map_err(|e| format!("{column}: {e}"))
}

/// As [`enum_value`], for a nullable column.
pub fn enum_opt<T>(column: &str, value: Option<&str>) -> Result<Option<T>, String>
where
    T: FromStr<Err = UnknownValue>,
{
    value.map(|v| enum_value(column, v)).transpose()
}

/// A value Pipal cannot do without.
pub fn required<T>(column: &str, value: Option<T>) -> Result<T, String> {
    value.ok_or_else(|| format!("{column} is NULL"))
}

/// A karma or feedback value, which Pipal (like Bodhi's API) keeps between -1 and 1: any
/// other value would change the update's karma if clamped, so the row is refused.
pub fn karma(column: &str, value: Option<i32>) -> Result<i32, String> {
    match value.unwrap_or(0) {
        k @ -1..=1 => Ok(k),
        other => Err(format!("{column} {other} is outside -1..1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::types::UpdateStatus;

    #[test]
    fn unknown_enum_values_name_the_column_and_the_allowed_values() {
        assert_eq!(
            enum_value::<UpdateStatus>("status", "testing"),
            Ok(UpdateStatus::Testing)
        );
        let err = enum_value::<UpdateStatus>("status", "side_tag_active").unwrap_err();
        assert_eq!(
            err,
            "status: \"side_tag_active\" is not one of pending, testing, stable, unpushed, obsolete"
        );
        assert_eq!(enum_opt::<UpdateStatus>("status", None), Ok(None));
    }

    #[test]
    fn karma_outside_the_range_is_refused_and_null_is_zero() {
        assert_eq!(karma("karma", Some(-1)), Ok(-1));
        assert_eq!(karma("karma", None), Ok(0));
        assert_eq!(
            karma("karma", Some(2)),
            Err("karma 2 is outside -1..1".to_owned())
        );
        assert_eq!(
            required::<i32>("timestamp", None),
            Err("timestamp is NULL".to_owned())
        );
    }
}
