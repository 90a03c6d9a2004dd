//! Testing requirements (spec §2.6): whether an update may go to stable, and why not.

use chrono::NaiveDateTime;

use crate::config::RulesSettings;
use crate::db::types::TestGatingStatus;
use crate::models::release::Release;
use crate::models::update::Update;

/// Karma an update needs: the critical path value for critical path updates.
pub fn min_karma(update: &Update, release: &Release, rules: &RulesSettings) -> i32 {
    if update.critpath {
        release.effective_critpath_min_karma(rules)
    } else {
        release.effective_min_karma(rules)
    }
}

/// Days an update must spend in testing without enough karma.
pub fn mandatory_days(update: &Update, release: &Release, rules: &RulesSettings) -> i32 {
    if update.critpath {
        release.effective_critpath_mandatory_days_in_testing(rules)
    } else {
        release.effective_mandatory_days_in_testing(rules)
    }
}

/// Whole days since the update reached testing (0 if it has not).
pub fn days_in_testing(update: &Update, now: NaiveDateTime) -> i64 {
    update
        .date_testing
        .map_or(0, |since| (now - since).num_days().max(0))
}

/// Bodhi's `meets_requirements_why`: (met, reason) with Bodhi's exact sentences.
pub fn meets_requirements_why(
    update: &Update,
    release: &Release,
    karma: i32,
    rules: &RulesSettings,
    now: NaiveDateTime,
) -> (bool, String) {
    let base = if rules.test_gating_required {
        match update.test_gating_status {
            Some(
                TestGatingStatus::Waiting | TestGatingStatus::Queued | TestGatingStatus::Running,
            ) => {
                return (
                    false,
                    "Required tests for this update are queued or running.".into(),
                );
            }
            Some(TestGatingStatus::GreenwaveFailed) => {
                return (false, "Greenwave failed to respond.".into());
            }
            Some(TestGatingStatus::Passed) => "All required tests passed or were waived",
            Some(TestGatingStatus::Ignored) => "No checks required",
            Some(TestGatingStatus::Failed) | None => {
                return (false, "Required tests did not pass on this update.".into());
            }
        }
    } else {
        "Test gating is disabled,"
    };
    let needed_karma = min_karma(update, release, rules);
    if karma >= needed_karma {
        return (
            true,
            format!("{base} and the update has at least {needed_karma} karma."),
        );
    }
    let days = mandatory_days(update, release, rules);
    if days == 0 {
        return (true, format!("{base} and there is no minimum wait set."));
    }
    if days_in_testing(update, now) >= i64::from(days) {
        return (
            true,
            format!("{base} and update meets the wait time requirement."),
        );
    }
    (
        false,
        format!(
            "{base} but update has less than {needed_karma} karma and has been in testing less \
             than {days} days."
        ),
    )
}

/// Days left before the wait time is met (0 once met or without a testing date).
pub fn days_to_stable(
    update: &Update,
    release: &Release,
    karma: i32,
    rules: &RulesSettings,
    now: NaiveDateTime,
) -> i64 {
    if update.date_testing.is_none() || meets_requirements_why(update, release, karma, rules, now).0
    {
        return 0;
    }
    (i64::from(mandatory_days(update, release, rules)) - days_in_testing(update, now)).max(0)
}
