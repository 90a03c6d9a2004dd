//! The data model: one module per aggregate, each with its row struct, the struct to insert a
//! new row, and the queries the rest of Pipal needs. Models return diesel's `QueryResult`;
//! the rules live in `services`.

pub mod bug;
pub mod build;
pub mod buildsys;
pub mod comment;
pub mod compose;
pub mod job;
pub mod mail_preferences;
pub mod odcs;
pub mod oidc;
pub mod outbox;
pub mod overrides;
pub mod package;
pub mod release;
pub mod search;
pub mod secret;
pub mod testcase;
pub mod update;
pub mod user;

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// The current UTC time at the precision both backends store (microseconds), so that a value
/// read back compares equal to the one written.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// True when the error is a violation of a unique constraint (a concurrent insert won).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
