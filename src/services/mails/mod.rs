//! The update workflow's mails, rendered with the templates under `templates/email/` and queued
//! in the outbox in the transaction of the change; the worker sends them (`crate::notify`).
//!
//! Comment notifications follow Bodhi 26.4.0 (docs/notes/bodhi-comment-mail.md): every
//! comment, the system's included, is mailed to the update's submitter and to everyone who
//! commented on it before, except the system users, `anonymous` and the comment's author, one
//! mail per recipient, with Bodhi's subject, `X-Bodhi-*` headers and thread references.
//! Beyond Bodhi, users choose (`models::mail_preferences`): no comment mail at all, copies of
//! their own comments, or silence about one update.

pub mod text;

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use diesel::QueryResult;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::db::types::OutboxKind;
use crate::json::graph::UpdateGraph;
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::comment::Comment;
use crate::models::mail_preferences::{self, MailPreferences};
use crate::models::outbox::OutboxEntry;
use crate::models::release::Release;
use crate::models::update::Update;
use crate::models::user::User;
use crate::notify::mail::MailPayload;
use crate::services::karma;

use text::{CommentLine, UpdateBlock};

#[derive(Template)]
#[template(path = "email/comment.txt", escape = "none")]
struct CommentMail<'a> {
    title: &'a str,
    comment: &'a str,
    update: &'a str,
}

/// Everything a mail about an update shows, loaded once.
struct UpdateContext {
    update: Update,
    release: Release,
    /// In NVR order, as Bodhi orders an update's builds.
    builds: Vec<Build>,
    bugs: Vec<Bug>,
    comments: Vec<Comment>,
    users: HashMap<i32, User>,
}

impl UpdateContext {
    /// What the mails of `update` show, taken from a graph that holds it.
    fn from_graph(graph: &UpdateGraph, update: &Update) -> Option<UpdateContext> {
        let release = graph.release_of(update)?.clone();
        let mut builds = graph.builds_of(update.id).to_vec();
        builds.sort_by(|a, b| a.nvr.cmp(&b.nvr));
        let mut bugs = graph.bugs_of(update.id).to_vec();
        bugs.sort_by_key(|b| b.bug_id);
        let comments = graph.comments_of(update.id).to_vec();
        let users = comments
            .iter()
            .map(|c| c.user_id)
            .chain(update.user_id)
            .filter_map(|id| graph.user(id).map(|u| (id, u.clone())))
            .collect();
        Some(UpdateContext {
            update: update.clone(),
            release,
            builds,
            bugs,
            comments,
            users,
        })
    }

    fn user_name(&self, id: i32) -> &str {
        self.users.get(&id).map_or("", |u| u.name.as_str())
    }

    fn owner(&self) -> Option<&User> {
        self.update.user_id.and_then(|id| self.users.get(&id))
    }

    fn beautiful_title(&self) -> String {
        let nvrs: Vec<&str> = self.builds.iter().map(|b| b.nvr.as_str()).collect();
        crate::services::updates::beautiful_nvr_title(&self.update, &nvrs)
    }

    /// `Update.title`: the NVRs sorted, space-separated.
    fn title(&self) -> String {
        if self.builds.is_empty() {
            return self.update.alias.clone();
        }
        let mut nvrs: Vec<&str> = self.builds.iter().map(|b| b.nvr.as_str()).collect();
        nvrs.sort_unstable();
        nvrs.join(" ")
    }

    fn is_system(&self, settings: &Settings, user_id: i32) -> bool {
        let name = self.user_name(user_id);
        settings.accounts.system_users.iter().any(|s| s == name)
    }

    /// `str(update)`.
    fn block(&self, settings: &Settings) -> String {
        let karma = karma::karma(self.comments.iter(), |id| self.is_system(settings, id));
        let since_reset: Vec<&Comment> = {
            let mut newest_first = Vec::new();
            for comment in self.comments.iter().rev() {
                if karma::is_reset(comment, self.is_system(settings, comment.user_id)) {
                    break;
                }
                newest_first.push(comment);
            }
            newest_first.reverse();
            newest_first
        };
        text::update_block(&UpdateBlock {
            alias: &self.update.alias,
            release: &self.release.long_name,
            status: self.update.status.description(),
            update_type: self.update.update_type.description(),
            severity: self.update.severity.as_str(),
            karma: karma.total,
            critpath: self.update.critpath,
            request: self.update.request.map(|r| r.description()),
            bugs: self
                .bugs
                .iter()
                .map(|b| (b.bug_id, b.title.as_deref()))
                .collect(),
            notes: &self.update.notes,
            submitter: self.owner().map(|u| u.name.as_str()),
            submitted: self.update.date_submitted,
            comments: since_reset
                .iter()
                .map(|c| CommentLine {
                    user: self.user_name(c.user_id),
                    timestamp: c.timestamp,
                    karma: c.karma,
                    text: &c.text,
                })
                .collect(),
            url: format!("{}updates/{}", settings.base_address(), self.update.alias),
        })
    }

    /// Bodhi's `mail.send` headers for an update, in its order.
    fn headers(&self, settings: &Settings, agent: &str) -> Vec<(String, String)> {
        let owner = self.owner().map_or("None", |u| u.name.as_str());
        let builds: Vec<&str> = self.builds.iter().map(|b| b.nvr.as_str()).collect();
        let mut headers = vec![
            (
                "X-Bodhi-Update-Type",
                self.update.update_type.description().to_owned(),
            ),
            ("X-Bodhi-Update-Release", self.release.name.clone()),
            (
                "X-Bodhi-Update-Status",
                self.update.status.description().to_owned(),
            ),
            ("X-Bodhi-Update-Builds", builds.join(",")),
            ("X-Bodhi-Update-Title", self.beautiful_title()),
            (
                "X-Bodhi-Update-Pushed",
                if self.update.pushed { "True" } else { "False" }.to_owned(),
            ),
            ("X-Bodhi-Update-Submitter", owner.to_owned()),
            ("X-Bodhi-Agent", agent.to_owned()),
        ];
        if let Some(request) = self.update.request {
            headers.push(("X-Bodhi-Update-Request", request.description().to_owned()));
        }
        let thread = format!(
            "<bodhi-update-{}-{owner}-{}@{}>",
            self.update.id, self.release.name, settings.mail.message_id_domain
        );
        headers.push(("References", thread.clone()));
        headers.push(("In-Reply-To", thread));
        headers.push(("X-Bodhi", settings.mail.email_domain.clone()));
        headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    /// The submitter, then everyone who commented, as addresses (a user without one by
    /// name), without the system users, `anonymous`, `mail.exclude`, users who turned
    /// notifications off or muted the update, and the author unless they asked for copies of
    /// their own comments.
    fn recipients(
        &self,
        settings: &Settings,
        author: &str,
        choices: &MailChoices,
    ) -> BTreeSet<String> {
        let address = |u: &User| u.email.clone().unwrap_or_else(|| u.name.clone());
        let commenters = self
            .comments
            .iter()
            .filter_map(|c| self.users.get(&c.user_id));
        let mut to = BTreeSet::new();
        for user in self.owner().into_iter().chain(commenters) {
            let wants = choices.wants(user.id);
            let skipped = user.name == "anonymous"
                || (user.name == author && !wants.own_comments)
                || settings.accounts.system_users.contains(&user.name)
                || !wants.notifications
                || choices.muted.contains(&user.id);
            if !skipped {
                to.insert(address(user));
            }
        }
        to.retain(|a| !settings.mail.exclude.contains(a));
        to
    }
}

/// What the people around an update chose: their preferences and who muted it.
struct MailChoices {
    preferences: HashMap<i32, MailPreferences>,
    muted: BTreeSet<i32>,
}

impl MailChoices {
    fn load(conn: &mut DbConnection, context: &UpdateContext) -> QueryResult<MailChoices> {
        let ids: Vec<i32> = context.users.keys().copied().collect();
        Ok(MailChoices {
            preferences: MailPreferences::of_users(conn, &ids)?,
            muted: mail_preferences::muted_by(conn, context.update.id)?,
        })
    }

    fn wants(&self, user_id: i32) -> MailPreferences {
        self.preferences
            .get(&user_id)
            .copied()
            .unwrap_or_else(|| MailPreferences::defaults(user_id))
    }
}

/// Queues Bodhi's comment notification for `comment`, written by `author`.
pub fn comment_notification(
    conn: &mut DbConnection,
    settings: &Settings,
    comment: &Comment,
    author: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let update = Update::by_id(conn, comment.update_id)?;
    let graph = UpdateGraph::load(conn, vec![update])?;
    comment_notification_in(conn, settings, &graph, comment, author, now)
}

/// [`comment_notification`] with the update already loaded (with the comment) in `graph`.
pub fn comment_notification_in(
    conn: &mut DbConnection,
    settings: &Settings,
    graph: &UpdateGraph,
    comment: &Comment,
    author: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let Some(context) = graph
        .updates
        .iter()
        .find(|u| u.id == comment.update_id)
        .and_then(|update| UpdateContext::from_graph(graph, update))
    else {
        return Ok(());
    };
    let critpath = if context.update.critpath {
        "[CRITPATH] "
    } else {
        ""
    };
    let subject = format!(
        "{} {critpath}[comment] {}",
        settings.mail.subject_prefix,
        context.beautiful_title()
    );
    let comment_text = text::comment_text(author, &comment.timestamp, comment.karma, &comment.text);
    let mut body = CommentMail {
        title: &context.title(),
        comment: &comment_text,
        update: &context.block(settings),
    }
    .render()
    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let headers = context.headers(settings, author);
    let choices = MailChoices::load(conn, &context)?;
    for to in context.recipients(settings, author, &choices) {
        let mail = MailPayload {
            from: settings.mail.from.clone(),
            to: to.clone(),
            subject: subject.clone(),
            headers: headers.clone(),
            body: body.clone(),
        };
        let payload = serde_json::to_string(&mail)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        OutboxEntry::enqueue(
            conn,
            OutboxKind::Mail,
            &format!("mail:comment:{}:{to}", comment.id),
            &payload,
            now,
        )?;
    }
    Ok(())
}
