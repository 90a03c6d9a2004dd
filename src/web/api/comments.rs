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

#[get("/comments/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            // Bodhi accepts `search` here and ignores it.
            let mut filter = CommentFilter {
                like: v.string("like"),
                since: v.datetime("since"),
                update_ids: resolve_updates(conn, &mut v, "updates")?,
                packages: resolve_packages(conn, &mut v, "packages")?
                    .map(|rows| rows.into_iter().map(|(_, name)| name).collect()),
                user_ids: resolve_users(conn, &mut v, "user")?,
                update_owner_ids: resolve_users(conn, &mut v, "update_owner")?,
                ignore_user_ids: resolve_users(conn, &mut v, "ignore_user")?,
                hide_user_ids: Vec::new(),
            };
            v.finish()?;
            if page.chrome {
                filter.hide_user_ids = users::table
                    .filter(users::name.eq_any(&app.settings.accounts.system_users))
                    .select(users::id)
                    .load(conn)?;
            }
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
