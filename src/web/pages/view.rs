//! Small formatting rules the pages share: ages ("3 days ago"), dates, karma with its sign,
//! and the labels and colours of statuses. Kept out of the templates so they are tested once.

use chrono::NaiveDateTime;

use crate::db::types::{UpdateRequest, UpdateStatus};

/// How long ago `then` was, in the largest whole unit: "just now", "5 minutes ago",
/// "1 day ago", "3 months ago".
pub fn age(then: NaiveDateTime, now: NaiveDateTime) -> String {
    let seconds = (now - then).num_seconds();
    if seconds < 60 {
        return "just now".to_owned();
    }
    let (count, unit) = match seconds {
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s if s < 30 * 86_400 => (s / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural} ago")
}

/// A timestamp as the pages show it (UTC, to the minute).
pub fn date(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Karma with its sign: "+2", "0", "-1".
pub fn signed(karma: i32) -> String {
    if karma > 0 {
        format!("+{karma}")
    } else {
        karma.to_string()
    }
}

/// The CSS class of a karma figure.
pub fn karma_class(karma: i32) -> &'static str {
    match karma {
        k if k > 0 => "karma-up",
        k if k < 0 => "karma-down",
        _ => "karma-zero",
    }
}

/// The status badge: "testing", or "testing → stable" while a request is pending.
pub fn status_label(status: UpdateStatus, request: Option<UpdateRequest>) -> String {
    match request {
        Some(request) => format!("{} → {}", status.as_str(), request.as_str()),
        None => status.as_str().to_owned(),
    }
}

/// The CSS class of a status badge.
pub fn status_class(status: UpdateStatus) -> &'static str {
    match status {
        UpdateStatus::Stable => "badge-stable",
        UpdateStatus::Testing => "badge-testing",
        UpdateStatus::Pending => "badge-pending",
        UpdateStatus::Unpushed | UpdateStatus::Obsolete => "badge-gone",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let now = at("2026-12-05 12:00:00");
        assert_eq!(age(now - Duration::seconds(20), now), "just now");
        assert_eq!(age(now - Duration::minutes(1), now), "1 minute ago");
        assert_eq!(age(now - Duration::minutes(59), now), "59 minutes ago");
        assert_eq!(age(now - Duration::hours(5), now), "5 hours ago");
        assert_eq!(age(now - Duration::days(1), now), "1 day ago");
        assert_eq!(age(now - Duration::days(70), now), "2 months ago");
        assert_eq!(age(now - Duration::days(800), now), "2 years ago");
        // A clock a little behind the database's is still "just now".
        assert_eq!(age(now + Duration::seconds(5), now), "just now");
    }

    #[test]
    fn karma_and_statuses_read_as_bodhi_shows_them() {
        assert_eq!(signed(2), "+2");
        assert_eq!(signed(0), "0");
        assert_eq!(signed(-1), "-1");
        assert_eq!(
            status_label(UpdateStatus::Testing, Some(UpdateRequest::Stable)),
            "testing → stable"
        );
        assert_eq!(status_label(UpdateStatus::Pending, None), "pending");
        assert_eq!(status_class(UpdateStatus::Obsolete), "badge-gone");
    }
}
