//! `GET /comments/` and `GET /comments/{id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use serde::Serialize;

use super::releases::{resolve_packages, resolve_updates};
use super::updates::resolve_users;
use super::{PageKeys, context, query, to_json};
use crate::db::DbConnection;
use crate::db::schema::{updates, users};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::json::objects::CommentJson;
use crate::models::comment::Comment;
use crate::models::search::CommentFilter;
use crate::models::update::Update;
use crate::state::AppState;
use crate::web::params::Validator;
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct CommentList<'a> {
    comments: Vec<CommentJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
    chrome: bool,
}

/// The graph of the comments' updates, from which their JSON is built.
pub fn comments_graph(conn: &mut DbConnection, comments: &[Comment]) -> AppResult<UpdateGraph> {
    let update_ids: Vec<i32> = comments.iter().map(|c| c.update_id).collect();
    let updates: Vec<Update> = updates::table
        .filter(updates::id.eq_any(update_ids))
        .select(Update::as_select())
        .load(conn)?;
    Ok(UpdateGraph::load(conn, updates)?)
}

/// Reads the filters of `GET /comments/`. With `chrome` (Bodhi's default) the system users'
/// comments are left out. Bodhi accepts `search` here and ignores it.
pub fn read_filter(
    conn: &mut DbConnection,
    v: &mut Validator<'_>,
    app: &AppState,
    chrome: bool,
) -> AppResult<CommentFilter> {
    let hide_user_ids = if chrome {
        users::table
            .filter(users::name.eq_any(&app.settings.accounts.system_users))
            .select(users::id)
            .load(conn)?
    } else {
        Vec::new()
    };
    Ok(CommentFilter {
        like: v.string("like"),
        since: v.datetime("since"),
        update_ids: resolve_updates(conn, v, "updates")?,
        packages: resolve_packages(conn, v, "packages")?
            .map(|rows| rows.into_iter().map(|(_, name)| name).collect()),
        user_ids: resolve_users(conn, v, "user")?,
        update_owner_ids: resolve_users(conn, v, "update_owner")?,
        ignore_user_ids: resolve_users(conn, v, "ignore_user")?,
        hide_user_ids,
    })
}

#[get("/comments/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = read_filter(conn, &mut v, &app, page.chrome)?;
            v.finish()?;
            let total = filter.count(conn)?;
            let comments = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = comments_graph(conn, &comments)?;
            let ctx = context(&app);
            to_json(&CommentList {
                comments: comments
                    .iter()
                    .filter_map(|c| graph.comment_by_id(c.id))
                    .filter_map(|c| graph.comment_json(c, &ctx))
                    .collect(),
                keys: PageKeys::new(&page, total),
                chrome: page.chrome,
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[derive(Serialize)]
struct OneComment<'a> {
    comment: CommentJson<'a>,
}

#[get("/comments/{id}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let id = path
        .into_inner()
        .parse::<i32>()
        .map_err(|_| AppError::invalid("url", "id", "Comment id must be an int"))?;
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let comment = Comment::by_id(conn, id)?
                .ok_or_else(|| AppError::not_found("url", "id", "Invalid comment id"))?;
            let graph = comments_graph(conn, std::slice::from_ref(&comment))?;
            let ctx = context(&app);
            let json = graph
                .comment_by_id(comment.id)
                .and_then(|c| graph.comment_json(c, &ctx))
                .ok_or_else(|| AppError::Internal("cannot serialise the comment".into()))?;
            to_json(&OneComment { comment: json })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[derive(Serialize)]
struct NewCommentReply<'a> {
    comment: CommentJson<'a>,
    caveats: Vec<crate::services::updates::Caveat>,
}

fn karma_value(v: &mut Validator<'_>, raw: Option<&str>, name: &str) -> i32 {
    let Some(raw) = raw else { return 0 };
    match raw.trim().parse::<i64>() {
        Ok(k) if (-1..=1).contains(&k) => k as i32,
        Ok(k) if k < -1 => {
            v.error(name, format!("{k} is less than minimum value -1"));
            0
        }
        Ok(k) => {
            v.error(name, format!("{k} is greater than maximum value 1"));
            0
        }
        Err(_) => {
            v.error(name, format!("\"{raw}\" is not a number"));
            0
        }
    }
}

#[actix_web::post("/comments/")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: crate::web::auth::Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    use crate::services::updates::comments::{
        BugFeedbackInput, CommentInput, TestCaseFeedbackInput, add_comment,
    };
    let params = super::write::body_params(&req, &body)?;
    if auth.user.is_none() {
        return Err(AppError::forbidden(
            "body",
            "email",
            "You must provide an author",
        ));
    }
    let user = super::write::authorised(&auth, &params)?;
    let mut v = Validator::new(&params);
    let alias = v.required_string("update");
    let text = v.string("text").unwrap_or_default();
    let karma = karma_value(&mut v, params.get("karma"), "karma");
    // karma_critpath is deprecated in Bodhi 26: read and dropped.
    let _ = karma_value(&mut v, params.get("karma_critpath"), "karma_critpath");
    let mut bug_feedback = Vec::new();
    for item in params.objects("bug_feedback") {
        let field = |key: &str| item.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        match field("bug_id").and_then(|b| b.trim().parse::<i32>().ok()) {
            Some(bug_id) => {
                bug_feedback.push((bug_id, karma_value(&mut v, field("karma"), "bug_feedback")))
            }
            None => v.error("bug_feedback", "Required"),
        }
    }
    let mut testcase_feedback = Vec::new();
    for item in params.objects("testcase_feedback") {
        let field = |key: &str| item.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        match field("testcase_name") {
            Some(name) => testcase_feedback.push((
                name.to_owned(),
                karma_value(&mut v, field("karma"), "testcase_feedback"),
            )),
            None => v.error("testcase_feedback", "Required"),
        }
    }
    v.finish()?;
    let alias = alias.unwrap_or_default();
    let commented = alias.clone();
    let comment_id = super::write::apply(&state, move |conn, ctx| {
        let mut update = Update::by_alias_for_update(conn, &alias)?.ok_or_else(|| {
            AppError::not_found(
                "url",
                "update",
                format!("Invalid update specified: {alias}"),
            )
        })?;
        let bugs = crate::models::bug::Bug::for_updates(conn, &[update.id])?;
        let bad: Vec<String> = bug_feedback
            .iter()
            .filter(|(id, _)| !bugs.iter().any(|(_, b)| b.bug_id == *id))
            .map(|(id, _)| id.to_string())
            .collect();
        if !bad.is_empty() {
            return Err(AppError::invalid(
                "querystring",
                "bug_feedback",
                format!("Invalid bug ids specified: {}", bad.join(", ")),
            ));
        }
        let builds = crate::models::build::Build::for_updates(conn, &[update.id])?;
        let build_ids: Vec<i32> = builds.iter().map(|b| b.id).collect();
        let testcases = crate::models::testcase::TestCase::for_builds(conn, &build_ids)?;
        let mut testcase_inputs = Vec::new();
        let mut bad = Vec::new();
        for (name, karma) in &testcase_feedback {
            match testcases.iter().find(|(_, t)| t.name == *name) {
                Some((_, t)) => testcase_inputs.push(TestCaseFeedbackInput {
                    testcase_id: t.id,
                    karma: *karma,
                }),
                None => bad.push(name.clone()),
            }
        }
        if !bad.is_empty() {
            return Err(AppError::invalid(
                "querystring",
                "testcase_feedback",
                format!("Invalid testcase names specified: {}", bad.join(", ")),
            ));
        }
        let bug_inputs: Vec<BugFeedbackInput> = bug_feedback
            .iter()
            .map(|(bug_id, karma)| BugFeedbackInput {
                bug_id: *bug_id,
                karma: *karma,
            })
            .collect();
        let (comment, caveats) = add_comment(
            conn,
            ctx,
            &mut update,
            CommentInput {
                author: &user.user,
                text: &text,
                karma,
                bug_feedback: &bug_inputs,
                testcase_feedback: &testcase_inputs,
            },
        )?;
        Ok((comment.id, caveats))
    })
    .await?;
    if crate::web::session::wants_html(&req) {
        // The update page's comment form: back to the page, at the new comment.
        let location = format!(
            "{}updates/{commented}#comment-{}",
            state.settings.base_address(),
            comment_id.0
        );
        return Ok(crate::web::pages::see_other(&location));
    }
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let (id, caveats) = comment_id;
            let comment = Comment::by_id(conn, id)?
                .ok_or_else(|| AppError::Internal("the new comment is missing".into()))?;
            let graph = comments_graph(conn, std::slice::from_ref(&comment))?;
            let ctx = context(&app);
            let json = graph
                .comment_by_id(id)
                .and_then(|c| graph.comment_json(c, &ctx))
                .ok_or_else(|| AppError::Internal("cannot serialise the comment".into()))?;
            to_json(&NewCommentReply {
                comment: json,
                caveats,
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
