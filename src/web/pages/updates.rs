//! The updates list (`/updates/`) and the update page (`/updates/{alias}`) for browsers: the
//! same filters and the same one-load [`UpdateGraph`] as the JSON API, so a page of a
//! 300-build update costs what its JSON costs.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::list::{ListQuery, PagerLink};
use super::view::{age, date, karma_class, signed, status_class, status_label};
use super::{Chrome, ok};
use crate::db::DbConnection;
use crate::db::types::{TestGatingStatus, UpdateRequest, UpdateStatus};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::json::objects::{UpdateJson, beautiful_title};
use crate::models::release::Release;
use crate::models::update::Update;
use crate::services::karma::Karma;
use crate::services::permissions;
use crate::services::requirements::meets_requirements_why;
use crate::state::AppState;
use crate::web::api::context;
use crate::web::api::updates::read_filter;
use crate::web::auth::Auth;
use crate::web::params::Validator;
use crate::web::respond::Page;

/// One row of the updates list.
pub struct UpdateRow {
    pub alias: String,
    pub title: String,
    pub release: String,
    pub user: String,
    pub age: String,
    pub submitted: String,
    pub status: String,
    pub status_class: &'static str,
    pub update_type: &'static str,
    pub critpath: bool,
    pub gating_failed: bool,
    pub comments: usize,
    pub karma: Karma,
}

impl UpdateRow {
    pub fn karma_text(&self) -> String {
        signed(self.karma.total)
    }

    pub fn karma_class(&self) -> &'static str {
        karma_class(self.karma.total)
    }
}

/// The rows of a loaded page of updates, in its order.
pub fn update_rows(graph: &UpdateGraph, state: &AppState) -> Vec<UpdateRow> {
    let ctx = context(state);
    let system = &state.settings.accounts.system_users;
    graph
        .updates
        .iter()
        .map(|u| {
            let nvrs: Vec<String> = graph
                .builds_of(u.id)
                .iter()
                .map(|b| b.nvr.clone())
                .collect();
            let comments = graph
                .comments_of(u.id)
                .iter()
                .filter(|c| {
                    graph
                        .user(c.user_id)
                        .is_some_and(|user| !system.contains(&user.name))
                })
                .count();
            UpdateRow {
                alias: u.alias.clone(),
                title: beautiful_title(&u.display_name, &u.alias, &nvrs, false),
                release: graph
                    .release_of(u)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                user: u
                    .user_id
                    .and_then(|id| graph.user(id))
                    .map(|user| user.name.clone())
                    .unwrap_or_default(),
                age: age(u.date_submitted, ctx.now),
                submitted: date(u.date_submitted),
                status: status_label(u.status, u.request),
                status_class: status_class(u.status),
                update_type: u.update_type.as_str(),
                critpath: u.critpath,
                gating_failed: u.test_gating_status == Some(TestGatingStatus::Failed),
                comments,
                karma: graph.karma(u, &ctx),
            }
        })
        .collect()
}

/// The values of the filter form, as the query gave them.
#[derive(Default)]
pub struct FilterForm {
    pub search: String,
    pub status: String,
    pub update_type: String,
    pub severity: String,
    pub release: String,
    pub user: String,
}

#[derive(Template)]
#[template(path = "updates/list.html")]
struct UpdatesPage<'a> {
    chrome: &'a Chrome,
    rows: Vec<UpdateRow>,
    total: i64,
    pager: Vec<PagerLink>,
    form: FilterForm,
    /// (value, label) of the release filter.
    releases: Vec<(String, String)>,
    statuses: &'static [UpdateStatus],
    types: &'static [crate::db::types::UpdateType],
    severities: &'static [crate::db::types::UpdateSeverity],
    /// The feed of the same filters.
    rss: String,
}

fn release_choices(conn: &mut DbConnection) -> AppResult<Vec<(String, String)>> {
    let mut choices = vec![
        ("__current__".to_owned(), "Current releases".to_owned()),
        ("__pending__".to_owned(), "Pending releases".to_owned()),
        ("__archived__".to_owned(), "Archived releases".to_owned()),
    ];
    let mut releases = Release::list(conn)?;
    releases.sort_by(|a, b| b.name.cmp(&a.name));
    choices.extend(
        releases
            .into_iter()
            .map(|r| (r.name.clone(), format!("{} ({})", r.long_name, r.name))),
    );
    Ok(choices)
}

#[get("/updates/", guard = "super::accepts_html")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let list = ListQuery::read(&req, format!("{}updates/", chrome.base));
    let rss = format!("{}rss/updates/?{}", chrome.base, list.filters());
    let params = list.params.clone();
    let app = state.clone();
    let (rows, total, page, releases) = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = read_filter(conn, &mut v)?;
            v.finish()?;
            let total = filter.count(conn)?;
            let updates = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = UpdateGraph::load(conn, updates)?;
            let rows = update_rows(&graph, &app);
            Ok::<_, AppError>((rows, total, page, release_choices(conn)?))
        })
        .await?;
    let form = FilterForm {
        search: list.first("search"),
        status: list.first("status"),
        update_type: list.first("type"),
        severity: list.first("severity"),
        release: list.first("releases"),
        user: list.first("user"),
    };
    Ok(ok(
        &chrome,
        &UpdatesPage {
            chrome: &chrome,
            rows,
            total,
            pager: list.pager(&page, total),
            form,
            releases,
            statuses: UpdateStatus::ALL,
            types: crate::db::types::UpdateType::ALL,
            severities: crate::db::types::UpdateSeverity::ALL,
            rss,
        },
    ))
}

/// A build line of the update page.
pub struct BuildLine {
    pub nvr: String,
    pub signed: bool,
}

/// A bug of the update page, with the karma testers gave it.
pub struct BugLine {
    pub bug_id: i32,
    pub title: String,
    pub url: String,
    pub security: bool,
    pub karma: Karma,
}

/// One piece of feedback inside a comment: a bug or a test case, and its karma.
pub struct FeedbackLine {
    pub label: String,
    pub karma: i32,
}

impl FeedbackLine {
    pub fn karma_text(&self) -> String {
        signed(self.karma)
    }
    pub fn karma_class(&self) -> &'static str {
        karma_class(self.karma)
    }
}

/// A comment of the update page; system comments are drawn compact.
pub struct CommentLine {
    pub id: i32,
    pub author: String,
    pub system: bool,
    pub age: String,
    pub date: String,
    pub html: String,
    pub karma: i32,
    pub feedback: Vec<FeedbackLine>,
}

impl CommentLine {
    pub fn karma_text(&self) -> String {
        signed(self.karma)
    }
    pub fn karma_class(&self) -> &'static str {
        karma_class(self.karma)
    }
}

/// A button of the actions menu: the `request` it posts.
pub struct Action {
    pub request: &'static str,
    pub label: &'static str,
    /// Ask before posting (unpush cannot be undone).
    pub confirm: bool,
}

/// The update page's data.
pub struct UpdateView {
    pub alias: String,
    pub title: String,
    pub submitter: String,
    pub release_name: String,
    pub release_long_name: String,
    pub update_type: &'static str,
    pub severity: &'static str,
    pub suggest: &'static str,
    pub content_type: String,
    pub status: String,
    pub status_class: &'static str,
    pub critpath: bool,
    pub critpath_groups: String,
    pub locked: bool,
    /// The compose holding the lock.
    pub compose_url: Option<String>,
    pub notes_html: String,
    pub builds: Vec<BuildLine>,
    pub all_signed: bool,
    pub bugs: Vec<BugLine>,
    pub testcases: Vec<String>,
    pub comments: Vec<CommentLine>,
    pub karma: Karma,
    pub stable_karma: i32,
    pub unstable_karma: i32,
    pub autokarma: bool,
    pub autotime: bool,
    pub stable_days: i32,
    pub meets_requirements: bool,
    pub requirements: String,
    pub gating: Option<&'static str>,
    pub dates: Vec<(&'static str, String)>,
    pub install: Option<String>,
    pub can_edit: bool,
    pub actions: Vec<Action>,
    /// For a logged-in user: whether they muted this update's mail.
    pub muted: Option<bool>,
}

impl UpdateView {
    pub fn karma_text(&self) -> String {
        signed(self.karma.total)
    }
    pub fn karma_class(&self) -> &'static str {
        karma_class(self.karma.total)
    }
}

/// The requests the actions menu offers (Bodhi's update.html rules): only for releases the
/// masher composes, to users who may edit, while the update is not locked in a push.
fn actions(
    update: &Update,
    release: &Release,
    meets: bool,
    all_signed: bool,
    can_edit: bool,
    admin: bool,
) -> Vec<Action> {
    if !release.composed_by_bodhi || !can_edit || update.locked {
        return Vec::new();
    }
    let mut actions = Vec::new();
    let revoke = Action {
        request: "revoke",
        label: "Revoke the request",
        confirm: false,
    };
    let unpush = Action {
        request: "unpush",
        label: "Unpush",
        confirm: true,
    };
    if update.request.is_some() {
        actions.push(revoke);
    } else if !update.pushed && update.status != UpdateStatus::Testing && all_signed {
        actions.push(Action {
            request: "testing",
            label: "Push to testing",
            confirm: false,
        });
    }
    if update.pushed && (update.status != UpdateStatus::Stable || admin) {
        if update.request.is_none() && meets && update.status != UpdateStatus::Stable {
            actions.push(Action {
                request: "stable",
                label: "Push to stable",
                confirm: false,
            });
        }
        actions.push(unpush);
    } else if update.status == UpdateStatus::Testing
        && update.test_gating_status == Some(TestGatingStatus::Failed)
    {
        actions.push(unpush);
    }
    actions
}

fn karma_of(feedback: impl Iterator<Item = i32>) -> Karma {
    let mut karma = Karma::default();
    for k in feedback {
        karma.total += k;
        if k > 0 {
            karma.positive += k;
        } else {
            karma.negative += k;
        }
    }
    karma
}

fn comment_lines(json: &UpdateJson<'_>, state: &AppState, base: &str) -> Vec<CommentLine> {
    let now = crate::models::now();
    let system = &state.settings.accounts.system_users;
    json.comments
        .iter()
        .flatten()
        .map(|c| {
            let author = c.user.as_ref().map(|u| u.name).unwrap_or_default();
            let mut feedback: Vec<FeedbackLine> = c
                .bug_feedback
                .iter()
                .flatten()
                .filter(|f| f.karma != 0)
                .map(|f| FeedbackLine {
                    label: format!("Bug {}", f.bug_id),
                    karma: f.karma,
                })
                .collect();
            feedback.extend(
                c.testcase_feedback
                    .iter()
                    .filter(|f| f.karma != 0)
                    .map(|f| FeedbackLine {
                        label: f
                            .testcase
                            .as_ref()
                            .map(|t| t.name.to_owned())
                            .unwrap_or_default(),
                        karma: f.karma,
                    }),
            );
            CommentLine {
                id: c.id,
                author: author.to_owned(),
                system: system.iter().any(|s| s == author),
                age: age(c.timestamp, now),
                date: date(c.timestamp),
                html: crate::markdown::render(c.text, base),
                karma: c.karma,
                feedback,
            }
        })
        .collect()
}

fn update_view(
    conn: &mut DbConnection,
    state: &AppState,
    auth: &Auth,
    base: &str,
    update: Update,
) -> AppResult<UpdateView> {
    let graph = UpdateGraph::load(conn, vec![update])?;
    let update = &graph.updates[0];
    let release = graph
        .release_of(update)
        .ok_or_else(|| AppError::Internal("the update's release is missing".into()))?;
    let ctx = context(state);
    let json = graph
        .update_json(update, &ctx)
        .ok_or_else(|| AppError::Internal("cannot load the update".into()))?;
    let karma = graph.karma(update, &ctx);
    let (meets, why) =
        meets_requirements_why(update, release, karma.total, &state.settings.rules, ctx.now);
    let accounts = &state.settings.accounts;
    let (can_edit, admin) = match &auth.user {
        Some(user) => (
            permissions::check_update_acls(conn, user, update, release, accounts).is_ok(),
            permissions::is_admin(user, accounts),
        ),
        None => (false, false),
    };
    let builds: Vec<BuildLine> = json
        .builds
        .iter()
        .map(|b| BuildLine {
            nvr: b.nvr.to_owned(),
            signed: b.signed,
        })
        .collect();
    let all_signed = builds.iter().all(|b| b.signed);
    let buglink = &state.settings.masher.buglink;
    let bugs = json
        .bugs
        .iter()
        .map(|b| BugLine {
            bug_id: b.bug_id,
            title: b.title.unwrap_or_default().to_owned(),
            url: buglink.replace("%s", &b.bug_id.to_string()),
            security: b.security,
            karma: karma_of(
                b.feedback
                    .iter()
                    .flatten()
                    .filter(|f| f.comment.as_ref().is_some_and(|c| c.update_id == update.id))
                    .map(|f| f.karma),
            ),
        })
        .collect();
    let mut dates = vec![("Submitted", date(update.date_submitted))];
    for (label, at) in [
        ("Modified", update.date_modified),
        ("Approved", update.date_approved),
        ("In testing", update.date_testing),
        ("Stable", update.date_stable),
    ] {
        if let Some(at) = at {
            dates.push((label, date(at)));
        }
    }
    let install = match update.status {
        UpdateStatus::Testing => Some(format!(
            "sudo dnf upgrade --enablerepo=updates-testing --refresh --advisory={}",
            update.alias
        )),
        UpdateStatus::Stable => Some(format!(
            "sudo dnf upgrade --refresh --advisory={}",
            update.alias
        )),
        _ => None,
    };
    let muted = match &auth.user {
        Some(user) => Some(
            crate::models::mail_preferences::muted_by(conn, update.id)?.contains(&user.user.id),
        ),
        None => None,
    };
    let compose_url = (update.locked)
        .then_some(update.request)
        .flatten()
        .map(|r: UpdateRequest| format!("{base}composes/{}/{}", release.name, r.as_str()));
    Ok(UpdateView {
        alias: update.alias.clone(),
        title: json.title.clone(),
        submitter: json
            .user
            .as_ref()
            .map(|u| u.name)
            .unwrap_or_default()
            .to_owned(),
        release_name: release.name.clone(),
        release_long_name: release.long_name.clone(),
        update_type: update.update_type.as_str(),
        severity: update.severity.as_str(),
        suggest: update.suggest.as_str(),
        content_type: json
            .content_type
            .flatten()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        status: status_label(update.status, update.request),
        status_class: status_class(update.status),
        critpath: update.critpath,
        critpath_groups: update.critpath_groups.clone().unwrap_or_default(),
        locked: update.locked,
        compose_url,
        notes_html: crate::markdown::render(&update.notes, base),
        actions: actions(update, release, meets, all_signed, can_edit, admin),
        builds,
        all_signed,
        bugs,
        testcases: json
            .test_cases
            .iter()
            .flatten()
            .map(|t| t.name.to_owned())
            .collect(),
        comments: comment_lines(&json, state, base),
        karma,
        stable_karma: update.stable_karma,
        unstable_karma: update.unstable_karma,
        autokarma: update.autokarma,
        autotime: update.autotime,
        stable_days: update.stable_days,
        meets_requirements: meets,
        requirements: why,
        gating: update.test_gating_status.map(|g| g.as_str()),
        dates,
        install,
        can_edit: can_edit && !update.locked && update.status != UpdateStatus::Stable,
        muted,
    })
}

#[derive(Template)]
#[template(path = "updates/show.html")]
struct UpdatePage<'a> {
    chrome: &'a Chrome,
    u: UpdateView,
}

#[get("/updates/{alias}", guard = "super::accepts_html")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let alias = path.into_inner();
    let chrome = Chrome::new(&req, &state, &auth);
    let app = state.clone();
    let base = chrome.base.clone();
    let view = state
        .db
        .run(move |conn| {
            let update = Update::by_alias(conn, &alias)?.ok_or_else(|| {
                AppError::not_found("url", "id", format!("There is no update {alias}."))
            })?;
            update_view(conn, &app, &auth, &base, update)
        })
        .await?;
    Ok(ok(
        &chrome,
        &UpdatePage {
            chrome: &chrome,
            u: view,
        },
    ))
}
