//! Karma (spec §2.7): each user's latest non-zero vote since the last karma reset counts once.
//! A reset is a system comment that says a build was added or removed.

use crate::models::comment::Comment;

/// The karma of an update: the sum, and its positive and negative parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Karma {
    pub total: i32,
    pub positive: i32,
    pub negative: i32,
}

/// Whether a comment resets karma: a system comment about new or removed builds.
pub fn is_reset(comment: &Comment, by_system_user: bool) -> bool {
    by_system_user && (comment.text.contains("New build") || comment.text.contains("Removed build"))
}

/// The karma of an update from its comments, oldest first. `is_system` tells whether a user id
/// is a system user.
pub fn karma<'a>(
    comments: impl DoubleEndedIterator<Item = &'a Comment>,
    is_system: impl Fn(i32) -> bool,
) -> Karma {
    let mut counted = std::collections::HashSet::new();
    let mut karma = Karma::default();
    for comment in comments.rev() {
        if is_reset(comment, is_system(comment.user_id)) {
            break;
        }
        if comment.karma != 0 && counted.insert(comment.user_id) {
            karma.total += comment.karma;
            if comment.karma > 0 {
                karma.positive += comment.karma;
            } else {
                karma.negative += comment.karma;
            }
        }
    }
    karma
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(user_id: i32, karma: i32, text: &str) -> Comment {
        Comment {
            id: 0,
            karma,
            karma_critpath: 0,
            text: text.to_owned(),
            timestamp: chrono::NaiveDateTime::default(),
            update_id: 1,
            user_id,
        }
    }

    const SYSTEM: i32 = 1;

    #[test]
    fn each_users_latest_nonzero_vote_counts() {
        let comments = [
            comment(2, 1, "works"),
            comment(3, -1, "broken"),
            comment(2, -1, "actually broken"),
            comment(2, 0, "just a note"),
            comment(4, 1, "fine"),
        ];
        let k = karma(comments.iter(), |u| u == SYSTEM);
        assert_eq!(
            k,
            Karma {
                total: -1,
                positive: 1,
                negative: -2
            }
        );
    }

    #[test]
    fn build_changes_reset_karma() {
        let comments = [
            comment(2, 1, "works"),
            comment(3, 1, "works too"),
            comment(
                SYSTEM,
                0,
                "alice edited this update.\n\nNew build(s):\n- x-2-1\n\nKarma has been reset.",
            ),
            comment(4, -1, "regression"),
        ];
        assert_eq!(karma(comments.iter(), |u| u == SYSTEM).total, -1);
        // The same text by a regular user is not a reset.
        assert_eq!(karma(comments.iter(), |_| false).total, 1);
    }
}
