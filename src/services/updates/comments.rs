//! Comments and karma (spec §2.7): who may give karma, reversals, and the karma thresholds
//! that request stable, obsolete, or turn automatic pushes off.

use crate::db::DbConnection;
use crate::db::types::{ReleaseState, TestGatingStatus, UpdateRequest, UpdateStatus};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::models::comment::{Comment, NewComment};
use crate::models::update::Update;
use crate::models::user::User;
use crate::services::{mails, messages};

use super::{Caveat, Ctx, karma_of, refused, release_of, requests, system_user};

/// Bodhi's comment when negative karma arrives on an update that pushes itself.
pub const DISABLE_AUTOMATIC_PUSH: &str = "Bodhi is disabling automatic push to stable due to \
negative karma. The maintainer may push manually if they determine that the issue is not severe.";

/// Feedback on one of the update's bugs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BugFeedbackInput {
    /// The Bugzilla number.
    pub bug_id: i32,
    pub karma: i32,
}

/// Feedback on one test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCaseFeedbackInput {
    pub testcase_id: i32,
    pub karma: i32,
}

/// A comment by a system user: no karma, no threshold checks; mailed to the update's people.
pub fn system_comment(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &Update,
    text: &str,
) -> AppResult<Comment> {
    system_comment_with(conn, ctx, update, text, true)
}

/// A system comment, mailed only when `notify` (Bodhi's `email_notification`).
pub fn system_comment_with(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &Update,
    text: &str,
    notify: bool,
) -> AppResult<Comment> {
    let author = system_user(conn, ctx.settings, ctx.now)?;
    let comment = Comment::create(
        conn,
        &NewComment {
            karma: 0,
            karma_critpath: 0,
            text,
            timestamp: ctx.now,
            update_id: update.id,
            user_id: author.id,
        },
    )?;
    if notify {
        mails::comment_notification(conn, ctx.settings, &comment, &author.name, ctx.now)?;
    }
    Ok(comment)
}

/// A comment to add.
#[derive(Debug, Clone, Copy)]
pub struct CommentInput<'a> {
    pub author: &'a User,
    pub text: &'a str,
    pub karma: i32,
    pub bug_feedback: &'a [BugFeedbackInput],
    pub testcase_feedback: &'a [TestCaseFeedbackInput],
}

impl<'a> CommentInput<'a> {
    /// A plain comment without karma or feedback.
    pub fn text(author: &'a User, text: &'a str) -> Self {
        CommentInput {
            author,
            text,
            karma: 0,
            bug_feedback: &[],
            testcase_feedback: &[],
        }
    }
}

/// Bodhi's `Update.comment`: adds the comment with its feedback, applies the karma rules and,
/// for karma from a regular user, the karma thresholds.
pub fn add_comment(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    input: CommentInput<'_>,
) -> AppResult<(Comment, Vec<Caveat>)> {
    let CommentInput {
        author,
        text,
        karma,
        bug_feedback,
        testcase_feedback,
    } = input;
    let got_feedback =
        bug_feedback.iter().any(|f| f.karma != 0) || testcase_feedback.iter().any(|f| f.karma != 0);
    if text.is_empty() && karma == 0 && !got_feedback {
        return Err(refused(
            "comment",
            "You must provide either some text or feedback",
        ));
    }
    let mut caveats = Vec::new();
    let mut karma = karma;
    if update.user_id == Some(author.id) && karma != 0 {
        karma = 0;
        caveats.push(Caveat::new(
            "karma",
            "You may not give karma to your own updates.",
        ));
    }
    if karma != 0 {
        let previous = Comment::for_updates(conn, &[update.id])?
            .into_iter()
            .rev()
            .find(|c| c.user_id == author.id && c.karma != 0)
            .map(|c| c.karma);
        if previous.is_some_and(|p| p != karma) {
            caveats.push(Caveat::new("karma", "Your karma standing was reversed."));
        }
    }
    let comment = Comment::create(
        conn,
        &NewComment {
            karma,
            karma_critpath: 0,
            text,
            timestamp: ctx.now,
            update_id: update.id,
            user_id: author.id,
        },
    )?;
    for feedback in bug_feedback {
        Comment::add_bug_feedback(conn, comment.id, feedback.bug_id, feedback.karma)?;
    }
    for feedback in testcase_feedback {
        Comment::add_testcase_feedback(conn, comment.id, feedback.testcase_id, feedback.karma)?;
    }
    if karma != 0 && !ctx.is_system_user(&author.name) {
        let agent = system_user(conn, ctx.settings, ctx.now)?.name;
        match check_karma_thresholds(conn, ctx, update, &agent) {
            Ok(()) | Err(ThresholdError::Locked) => {}
            Err(ThresholdError::Refused(description)) => {
                caveats.push(Caveat::new("karma", description));
            }
            Err(ThresholdError::Failed(error)) => return Err(error),
        }
    }
    // One load of the update (as it is now, with the comment) serves the message and the mails.
    let fresh = Update::by_id(conn, update.id)?;
    let graph = UpdateGraph::load(conn, vec![fresh])?;
    if !ctx.is_system_user(&author.name) {
        messages::comment(conn, ctx, &graph, &comment, &author.name)?;
    }
    mails::comment_notification_in(conn, ctx.settings, &graph, &comment, &author.name, ctx.now)?;
    Ok((comment, caveats))
}

/// Why the thresholds were not applied.
#[derive(Debug)]
pub enum ThresholdError {
    /// The update is locked in a push: thresholds wait for it.
    Locked,
    /// A request was refused (Bodhi's `BodhiException`), reported as a caveat.
    Refused(String),
    Failed(AppError),
}

impl From<diesel::result::Error> for ThresholdError {
    fn from(error: diesel::result::Error) -> Self {
        ThresholdError::Failed(error.into())
    }
}

impl From<AppError> for ThresholdError {
    fn from(error: AppError) -> Self {
        ThresholdError::Failed(error)
    }
}

/// Bodhi's `check_karma_thresholds`: at the unstable threshold the update is obsoleted; any
/// negative karma turns automatic pushes off; at the stable threshold with autokarma, stable
/// is requested.
pub fn check_karma_thresholds(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    agent: &str,
) -> Result<(), ThresholdError> {
    if update.locked {
        return Err(ThresholdError::Locked);
    }
    if !matches!(update.status, UpdateStatus::Testing | UpdateStatus::Pending) {
        return Ok(());
    }
    let release = release_of(conn, update)?;
    if update.status != UpdateStatus::Testing && release.state == ReleaseState::Frozen {
        return Ok(());
    }
    let karma = karma_of(conn, update.id, ctx.settings)?;
    if update.unstable_karma != 0 && karma.total <= update.unstable_karma {
        requests::obsolete(conn, ctx, update, None, agent)?;
        update.save(conn)?;
        messages::karma_threshold(conn, ctx, update, "unstable")?;
    }
    if (update.autokarma || update.autotime)
        && karma.negative != 0
        && update.request != Some(UpdateRequest::Stable)
        && release.composed_by_bodhi
    {
        update.autokarma = false;
        update.autotime = false;
        update.save(conn)?;
        system_comment(conn, ctx, update, DISABLE_AUTOMATIC_PUSH)?;
    }
    if update.stable_karma != 0
        && karma.total >= update.stable_karma
        && release.composed_by_bodhi
        && update.autokarma
    {
        let gating_passed = matches!(
            update.test_gating_status,
            None | Some(TestGatingStatus::Ignored | TestGatingStatus::Passed)
        );
        if ctx.settings.rules.test_gating_required && !gating_passed {
            return Ok(());
        }
        if update.date_approved.is_none() {
            update.date_approved = Some(ctx.now);
            update.save(conn)?;
        }
        match requests::set_request(conn, ctx, update, UpdateRequest::Stable, agent) {
            Ok(()) => messages::karma_threshold(conn, ctx, update, "stable")?,
            Err(AppError::Invalid(errors)) => {
                let text = errors
                    .iter()
                    .map(|e| e.description.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(ThresholdError::Refused(text));
            }
            Err(other) => return Err(ThresholdError::Failed(other)),
        }
    }
    Ok(())
}
