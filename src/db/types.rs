//! Enums stored as `TEXT` with a `CHECK` constraint. Each has the exact values of Bodhi's
//! database and JSON (spec §1.1), converts to and from SQL text on both backends, and
//! serialises as its value string.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;

use super::connection::MultiBackend;

/// Returned when text is not one of an enum's values; the message lists the allowed values in
/// the wording colander uses (`"x" is not one of a, b, c`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{value}\" is not one of {allowed}")]
pub struct UnknownValue {
    pub value: String,
    pub allowed: String,
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($variant:ident => $value:literal $(($description:literal))?),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value stored in the database and used in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }

            /// The human description Bodhi shows (the value itself when it has none).
            #[allow(unreachable_patterns)]
            pub fn description(self) -> &'static str {
                match self {
                    $($($name::$variant => $description,)?)+
                    other => other.as_str(),
                }
            }

            /// The allowed values joined by `", "`, for error messages.
            pub fn allowed() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($value => Ok($name::$variant),)+
                    _ => Err(UnknownValue { value: s.to_owned(), allowed: Self::allowed() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl ToSql<Text, MultiBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self.as_str()));
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
                <str as ToSql<Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: <diesel::pg::Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, diesel::pg::Pg>>::from_sql(bytes)?;
                Ok(text.parse()?)
            }
        }

        impl FromSql<Text, diesel::sqlite::Sqlite> for $name {
            fn from_sql(bytes: <diesel::sqlite::Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, diesel::sqlite::Sqlite>>::from_sql(bytes)?;
                Ok(text.parse()?)
            }
        }

        impl FromSql<Text, MultiBackend> for $name {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = bytes.from_sql::<String, Text>()?;
                Ok(text.parse()?)
            }
        }
    };
}

text_enum! {
    /// What a build, package or update holds (`ContentType`).
    ContentType {
        Base => "base" ("Base"),
        Rpm => "rpm" ("RPM"),
        Module => "module" ("Module"),
        Container => "container" ("Container"),
        Flatpak => "flatpak" ("Flatpak"),
    }
}

text_enum! {
    UpdateStatus {
        Pending => "pending",
        Testing => "testing",
        Stable => "stable",
        Unpushed => "unpushed",
        Obsolete => "obsolete",
    }
}

text_enum! {
    TestGatingStatus {
        Waiting => "waiting" ("Waiting"),
        Ignored => "ignored" ("Ignored"),
        Queued => "queued" ("Queued"),
        Running => "running" ("Running"),
        Passed => "passed" ("Passed"),
        Failed => "failed" ("Failed"),
        GreenwaveFailed => "greenwave_failed" ("Greenwave failed to respond"),
    }
}

text_enum! {
    UpdateType {
        Bugfix => "bugfix",
        Security => "security",
        Newpackage => "newpackage",
        Enhancement => "enhancement",
        Unspecified => "unspecified",
    }
}

text_enum! {
    UpdateRequest {
        Testing => "testing",
        Obsolete => "obsolete",
        Unpush => "unpush",
        Revoke => "revoke",
        Stable => "stable",
    }
}

text_enum! {
    UpdateSeverity {
        Unspecified => "unspecified",
        Urgent => "urgent",
        High => "high",
        Medium => "medium",
        Low => "low",
    }
}

text_enum! {
    UpdateSuggestion {
        Unspecified => "unspecified",
        Reboot => "reboot",
        Logout => "logout",
    }
}

text_enum! {
    ReleaseState {
        Disabled => "disabled",
        Pending => "pending",
        Frozen => "frozen",
        Current => "current",
        Archived => "archived",
    }
}

text_enum! {
    ComposeState {
        Requested => "requested" ("Requested"),
        Pending => "pending" ("Pending"),
        Initializing => "initializing" ("Initializing"),
        Updateinfo => "updateinfo" ("Generating updateinfo.xml"),
        Punging => "punging" ("Waiting for Pungi to finish"),
        SyncingRepo => "syncing_repo" ("Wait for the repo to hit the master mirror"),
        Notifying => "notifying" ("Sending notifications"),
        Success => "success" ("Success"),
        Failed => "failed" ("Failed"),
        SigningRepo => "signing_repo" ("Signing repo"),
        Cleaning => "cleaning" ("Cleaning old composes"),
    }
}

text_enum! {
    PackageManager {
        Unspecified => "unspecified" ("package manager not specified"),
        Dnf => "dnf",
        Yum => "yum",
    }
}

text_enum! {
    /// What a package ACL grants: owners and committers may both edit the package's updates;
    /// the owner is the one shown and asked.
    AclRole {
        Owner => "owner",
        Committer => "committer",
    }
}

text_enum! {
    JobState {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
    }
}

text_enum! {
    OutboxKind {
        Message => "message",
        Mail => "mail",
        Bug => "bug",
    }
}

text_enum! {
    OutboxState {
        Pending => "pending",
        Delivered => "delivered",
        Failed => "failed",
    }
}

text_enum! {
    /// How a compose ended, in the compose history.
    ComposeOutcome {
        Success => "success",
        Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_errors_list_the_choices() {
        for status in UpdateStatus::ALL {
            assert_eq!(status.as_str().parse::<UpdateStatus>(), Ok(*status));
        }
        let err = "bogus".parse::<UpdateSeverity>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"bogus\" is not one of unspecified, urgent, high, medium, low"
        );
        assert_eq!(
            ComposeState::Updateinfo.description(),
            "Generating updateinfo.xml"
        );
        assert_eq!(UpdateStatus::Testing.description(), "testing");
        assert_eq!(
            serde_json::to_string(&TestGatingStatus::GreenwaveFailed).unwrap(),
            "\"greenwave_failed\""
        );
    }
}
