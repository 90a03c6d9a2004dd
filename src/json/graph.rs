//! Everything the JSON of a page of updates needs, loaded in a constant number of queries
//! (no N+1), and the builders that turn it into Bodhi's nested objects.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;

use super::objects::{
    BugFeedbackJson, BugJson, BuildJson, CommentJson, TestCaseFeedbackJson, TestCaseJson,
    UpdateJson, update_title, version_hash,
};
use super::{JsonContext, ReleaseJson, UserJson};
use crate::db::DbConnection;
use crate::db::schema::{comments, releases, users};
use crate::db::types::ContentType;
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::comment::{BugFeedback, Comment, TestCaseFeedback};
use crate::models::release::Release;
use crate::models::testcase::TestCase;
use crate::models::update::Update;
use crate::models::user::{Group, User};
use crate::services::karma::{Karma, karma};
use crate::services::requirements::meets_requirements_why;

/// Updates with every related row their JSON shows.
#[derive(Debug, Default)]
pub struct UpdateGraph {
    pub updates: Vec<Update>,
    releases: HashMap<i32, Release>,
    users: HashMap<i32, User>,
    groups: HashMap<i32, Vec<Group>>,
    /// Update id → its comments, oldest first.
    comments: HashMap<i32, Vec<Comment>>,
    /// Comments of other updates that bug feedback points at, by id.
    other_comments: HashMap<i32, Comment>,
    /// Comment id → (update id, position) in `comments`.
    comment_index: HashMap<i32, (i32, usize)>,
    /// Comment id → its bug feedback.
    bug_feedback: HashMap<i32, Vec<BugFeedback>>,
    /// Comment id → its test case feedback.
    testcase_feedback: HashMap<i32, Vec<TestCaseFeedback>>,
    /// Bugzilla number → every feedback on the bug, on any update.
    feedback_by_bug: HashMap<i32, Vec<BugFeedback>>,
    /// Update id → its builds, by NVR.
    builds: HashMap<i32, Vec<Build>>,
    /// Update id → its bugs, by number.
    bugs: HashMap<i32, Vec<Bug>>,
    bugs_by_number: HashMap<i32, Bug>,
    testcases: HashMap<i32, TestCase>,
    /// Build id → its test cases, by name.
    build_testcases: HashMap<i32, Vec<TestCase>>,
}

fn group_by<K: std::hash::Hash + Eq, V>(
    items: impl IntoIterator<Item = (K, V)>,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for (key, value) in items {
        map.entry(key).or_default().push(value);
    }
    map
}

impl UpdateGraph {
    /// Loads what the updates' JSON needs. The updates keep their order.
    pub fn load(conn: &mut DbConnection, updates: Vec<Update>) -> QueryResult<UpdateGraph> {
        if updates.is_empty() {
            return Ok(UpdateGraph::default());
        }
        let ids: Vec<i32> = updates.iter().map(|u| u.id).collect();

        let release_ids: HashSet<i32> = updates.iter().map(|u| u.release_id).collect();
        let releases: HashMap<i32, Release> = releases::table
            .filter(releases::id.eq_any(release_ids))
            .select(Release::as_select())
            .load(conn)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();

        let update_comments = Comment::for_updates(conn, &ids)?;
        let builds = Build::for_updates(conn, &ids)?;
        let bugs = Bug::for_updates(conn, &ids)?;

        let bug_numbers: Vec<i32> = bugs.iter().map(|(_, b)| b.bug_id).collect();
        let feedback_on_bugs: Vec<BugFeedback> = if bug_numbers.is_empty() {
            Vec::new()
        } else {
            crate::db::schema::comment_bug_feedback::table
                .filter(crate::db::schema::comment_bug_feedback::bug_id.eq_any(&bug_numbers))
                .order(crate::db::schema::comment_bug_feedback::id.asc())
                .select(BugFeedback::as_select())
                .load(conn)?
        };
        let known: HashSet<i32> = update_comments.iter().map(|c| c.id).collect();
        let other_ids: Vec<i32> = feedback_on_bugs
            .iter()
            .map(|f| f.comment_id)
            .filter(|id| !known.contains(id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let other_comments: Vec<Comment> = if other_ids.is_empty() {
            Vec::new()
        } else {
            comments::table
                .filter(comments::id.eq_any(&other_ids))
                .select(Comment::as_select())
                .load(conn)?
        };

        let comment_ids: Vec<i32> = update_comments
            .iter()
            .chain(&other_comments)
            .map(|c| c.id)
            .collect();
        // Queries whose input is empty are skipped: each is a round trip, and most pages have
        // no test cases and few feedback rows.
        let (bug_feedback, testcase_feedback) = if comment_ids.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            (
                Comment::bug_feedback_for(conn, &comment_ids)?,
                Comment::testcase_feedback_for(conn, &comment_ids)?,
            )
        };

        // Bugs that feedback names but that are not attached to these updates.
        let mut bugs_by_number: HashMap<i32, Bug> =
            bugs.iter().map(|(_, b)| (b.bug_id, b.clone())).collect();
        let missing_bugs: HashSet<i32> = bug_feedback
            .iter()
            .map(|f| f.bug_id)
            .filter(|n| !bugs_by_number.contains_key(n))
            .collect();
        if !missing_bugs.is_empty() {
            bugs_by_number.extend(
                crate::db::schema::bugs::table
                    .filter(crate::db::schema::bugs::bug_id.eq_any(missing_bugs))
                    .select(Bug::as_select())
                    .load(conn)?
                    .into_iter()
                    .map(|b| (b.bug_id, b)),
            );
        }

        let build_ids: Vec<i32> = builds.iter().map(|b| b.id).collect();
        let build_testcases = TestCase::for_builds(conn, &build_ids)?;
        let testcase_ids: HashSet<i32> = testcase_feedback
            .iter()
            .map(|f| f.testcase_id)
            .chain(build_testcases.iter().map(|(_, t)| t.id))
            .collect();
        let testcases: HashMap<i32, TestCase> = if testcase_ids.is_empty() {
            HashMap::new()
        } else {
            crate::db::schema::testcases::table
                .filter(crate::db::schema::testcases::id.eq_any(testcase_ids))
                .select(TestCase::as_select())
                .load(conn)?
                .into_iter()
                .map(|t| (t.id, t))
                .collect()
        };

        let user_ids: HashSet<i32> = updates
            .iter()
            .filter_map(|u| u.user_id)
            .chain(update_comments.iter().map(|c| c.user_id))
            .chain(other_comments.iter().map(|c| c.user_id))
            .collect();
        let user_ids: Vec<i32> = user_ids.into_iter().collect();
        let users: HashMap<i32, User> = users::table
            .filter(users::id.eq_any(&user_ids))
            .select(User::as_select())
            .load(conn)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let groups = User::groups_of(conn, &user_ids)?;

        let comments = group_by(update_comments.into_iter().map(|c| (c.update_id, c)));
        let comment_index = comments
            .iter()
            .flat_map(|(update_id, list)| {
                list.iter()
                    .enumerate()
                    .map(move |(position, c)| (c.id, (*update_id, position)))
            })
            .collect();
        Ok(UpdateGraph {
            updates,
            comment_index,
            releases,
            users,
            groups,
            comments,
            other_comments: other_comments.into_iter().map(|c| (c.id, c)).collect(),
            bug_feedback: group_by(bug_feedback.into_iter().map(|f| (f.comment_id, f))),
            testcase_feedback: group_by(testcase_feedback.into_iter().map(|f| (f.comment_id, f))),
            feedback_by_bug: group_by(feedback_on_bugs.into_iter().map(|f| (f.bug_id, f))),
            builds: group_by(
                builds
                    .into_iter()
                    .filter_map(|b| b.update_id.map(|u| (u, b))),
            ),
            bugs: group_by(bugs),
            bugs_by_number,
            testcases,
            build_testcases: group_by(build_testcases),
        })
    }

    pub fn release_of(&self, update: &Update) -> Option<&Release> {
        self.releases.get(&update.release_id)
    }

    pub fn comments_of(&self, update_id: i32) -> &[Comment] {
        self.comments.get(&update_id).map_or(&[], Vec::as_slice)
    }

    pub fn builds_of(&self, update_id: i32) -> &[Build] {
        self.builds.get(&update_id).map_or(&[], Vec::as_slice)
    }

    pub fn bugs_of(&self, update_id: i32) -> &[Bug] {
        self.bugs.get(&update_id).map_or(&[], Vec::as_slice)
    }

    pub fn user(&self, id: i32) -> Option<&User> {
        self.users.get(&id)
    }

    fn is_system(&self, user_id: i32, ctx: &JsonContext<'_>) -> bool {
        self.users
            .get(&user_id)
            .is_some_and(|u| ctx.settings.accounts.system_users.contains(&u.name))
    }

    /// The update's karma (each user's latest vote since the last reset).
    pub fn karma(&self, update: &Update, ctx: &JsonContext<'_>) -> Karma {
        karma(self.comments_of(update.id).iter(), |id| {
            self.is_system(id, ctx)
        })
    }

    fn user_json<'a>(&'a self, id: i32, ctx: &JsonContext<'_>) -> Option<UserJson<'a>> {
        let user = self.users.get(&id)?;
        let groups = self.groups.get(&id).map_or(&[][..], Vec::as_slice);
        Some(UserJson::new(user, groups, ctx))
    }

    fn testcase_json(&self, id: i32) -> Option<TestCaseJson<'_>> {
        self.testcases.get(&id).map(|t| TestCaseJson {
            name: &t.name,
            id: t.id,
        })
    }

    fn testcase_feedback_json(&self, comment_id: i32) -> Vec<TestCaseFeedbackJson<'_>> {
        self.testcase_feedback
            .get(&comment_id)
            .map(|items| {
                items
                    .iter()
                    .map(|f| TestCaseFeedbackJson {
                        karma: f.karma,
                        comment_id: f.comment_id,
                        testcase_id: f.testcase_id,
                        testcase: self.testcase_json(f.testcase_id),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn plain_bug(bug: &Bug) -> BugJson<'_> {
        BugJson {
            bug_id: bug.bug_id,
            title: bug.title.as_deref(),
            security: bug.security,
            parent: bug.parent,
            feedback: None,
        }
    }

    /// A comment's `bug_feedback`: each with its bug (without the bug's feedback).
    fn bug_feedback_json(&self, comment_id: i32) -> Vec<BugFeedbackJson<'_>> {
        self.bug_feedback
            .get(&comment_id)
            .map(|items| {
                items
                    .iter()
                    .map(|f| BugFeedbackJson {
                        karma: f.karma,
                        comment_id: f.comment_id,
                        bug_id: f.bug_id,
                        comment: None,
                        bug: Some(self.bugs_by_number.get(&f.bug_id).map(Self::plain_bug)),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn comment_fields<'a>(
        &'a self,
        comment: &'a Comment,
        ctx: &JsonContext<'_>,
    ) -> CommentJson<'a> {
        CommentJson {
            karma: comment.karma,
            karma_critpath: comment.karma_critpath,
            text: &comment.text,
            timestamp: comment.timestamp,
            update_id: comment.update_id,
            user_id: comment.user_id,
            id: comment.id,
            bug_feedback: None,
            testcase_feedback: self.testcase_feedback_json(comment.id),
            update: None,
            user: self.user_json(comment.user_id, ctx),
            author: None,
            update_alias: None,
        }
    }

    /// A bug under a top-level update: its feedback on every update, each with its comment.
    fn bug_with_feedback<'a>(&'a self, bug: &'a Bug, ctx: &JsonContext<'_>) -> BugJson<'a> {
        let feedback = self
            .feedback_by_bug
            .get(&bug.bug_id)
            .map(|items| {
                items
                    .iter()
                    .map(|f| BugFeedbackJson {
                        karma: f.karma,
                        comment_id: f.comment_id,
                        bug_id: f.bug_id,
                        comment: self
                            .comment_by_id(f.comment_id)
                            .map(|c| Box::new(self.comment_fields(c, ctx))),
                        bug: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        BugJson {
            feedback: Some(feedback),
            ..Self::plain_bug(bug)
        }
    }

    /// A bug under an update nested in a comment: its feedback without comments.
    fn bug_with_bare_feedback<'a>(&'a self, bug: &'a Bug) -> BugJson<'a> {
        let feedback = self
            .feedback_by_bug
            .get(&bug.bug_id)
            .map(|items| {
                items
                    .iter()
                    .map(|f| BugFeedbackJson {
                        karma: f.karma,
                        comment_id: f.comment_id,
                        bug_id: f.bug_id,
                        comment: None,
                        bug: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        BugJson {
            feedback: Some(feedback),
            ..Self::plain_bug(bug)
        }
    }

    /// A comment of one of the updates (or one that feedback on their bugs points at).
    pub fn comment_by_id(&self, id: i32) -> Option<&Comment> {
        self.other_comments.get(&id).or_else(|| {
            let (update_id, position) = self.comment_index.get(&id)?;
            self.comments.get(update_id)?.get(*position)
        })
    }

    pub fn build_json(build: &Build) -> BuildJson<'_> {
        BuildJson {
            nvr: &build.nvr,
            signed: build.signed,
            release_id: build.release_id,
            content_type: build.content_type,
            epoch: (build.content_type == ContentType::Rpm).then_some(build.epoch),
        }
    }

    /// The columns and extras every update JSON has.
    fn update_base<'a>(
        &'a self,
        update: &'a Update,
        release: &'a Release,
        ctx: &JsonContext<'_>,
    ) -> UpdateJson<'a> {
        let builds = self.builds_of(update.id);
        let nvrs: Vec<&str> = builds.iter().map(|b| b.nvr.as_str()).collect();
        let karma = self.karma(update, ctx).total;
        let (meets, _) =
            meets_requirements_why(update, release, karma, &ctx.settings.rules, ctx.now);
        UpdateJson {
            autokarma: update.autokarma,
            autotime: update.autotime,
            stable_karma: update.stable_karma,
            stable_days: update.stable_days,
            unstable_karma: update.unstable_karma,
            require_bugs: update.require_bugs,
            require_testcases: update.require_testcases,
            display_name: &update.display_name,
            notes: &update.notes,
            update_type: update.update_type,
            status: update.status,
            request: update.request,
            severity: update.severity,
            suggest: update.suggest,
            locked: update.locked,
            pushed: update.pushed,
            critpath: update.critpath,
            critpath_groups: update.critpath_groups.as_deref(),
            close_bugs: update.close_bugs,
            date_submitted: update.date_submitted,
            date_modified: update.date_modified,
            date_approved: update.date_approved,
            date_testing: update.date_testing,
            date_stable: update.date_stable,
            alias: &update.alias,
            test_gating_status: update.test_gating_status,
            from_tag: update.from_tag.as_deref(),
            date_pushed: update.date_stable.or(update.date_testing),
            meets_testing_requirements: meets,
            url: format!("{}updates/{}", ctx.settings.base_address(), update.alias),
            title: update_title(&update.alias, &nvrs),
            version_hash: version_hash(&nvrs),
            release: ReleaseJson::new(release, &ctx.settings.rules),
            user: update.user_id.and_then(|id| self.user_json(id, ctx)),
            comments: None,
            builds: builds.iter().map(Self::build_json).collect(),
            bugs: Vec::new(),
            updateid: None,
            karma,
            content_type: None,
            test_cases: None,
        }
    }

    /// A top-level update, as `GET /updates/` and `GET /updates/{alias}` serve it.
    pub fn update_json<'a>(
        &'a self,
        update: &'a Update,
        ctx: &JsonContext<'_>,
    ) -> Option<UpdateJson<'a>> {
        let release = self.release_of(update)?;
        let mut json = self.update_base(update, release, ctx);
        json.comments = Some(
            self.comments_of(update.id)
                .iter()
                .map(|c| CommentJson {
                    bug_feedback: Some(self.bug_feedback_json(c.id)),
                    ..self.comment_fields(c, ctx)
                })
                .collect(),
        );
        json.bugs = self
            .bugs_of(update.id)
            .iter()
            .map(|b| self.bug_with_feedback(b, ctx))
            .collect();
        json.updateid = Some(&update.alias);
        json.content_type = Some(self.builds_of(update.id).first().map(|b| b.content_type));
        json.test_cases = Some(self.test_cases_of(update.id));
        Some(json)
    }

    /// The update as nested in a comment: no comments, no top-level extras.
    pub fn nested_update_json<'a>(
        &'a self,
        update: &'a Update,
        ctx: &JsonContext<'_>,
    ) -> Option<UpdateJson<'a>> {
        let release = self.release_of(update)?;
        let mut json = self.update_base(update, release, ctx);
        json.bugs = self
            .bugs_of(update.id)
            .iter()
            .map(|b| self.bug_with_bare_feedback(b))
            .collect();
        Some(json)
    }

    /// A comment as `GET /comments/` serves it, with its update.
    pub fn comment_json<'a>(
        &'a self,
        comment: &'a Comment,
        ctx: &JsonContext<'_>,
    ) -> Option<CommentJson<'a>> {
        let update = self.updates.iter().find(|u| u.id == comment.update_id)?;
        let mut json = self.comment_fields(comment, ctx);
        json.bug_feedback = Some(self.bug_feedback_json(comment.id));
        json.update = self.nested_update_json(update, ctx).map(Box::new);
        json.author = self.users.get(&comment.user_id).map(|u| u.name.as_str());
        json.update_alias = Some(&update.alias);
        Some(json)
    }

    /// The test cases of every build of the update, each once, by name.
    fn test_cases_of(&self, update_id: i32) -> Vec<TestCaseJson<'_>> {
        let mut by_name: BTreeMap<&str, i32> = BTreeMap::new();
        for build in self.builds_of(update_id) {
            for testcase in self.build_testcases.get(&build.id).into_iter().flatten() {
                by_name.entry(&testcase.name).or_insert(testcase.id);
            }
        }
        by_name
            .into_iter()
            .map(|(name, id)| TestCaseJson { name, id })
            .collect()
    }
}
