//! The latest comments (`/comments/`), with the API's filters: by whom, on whose updates, on
//! which packages; the system's own comments are left out as Bodhi does.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::list::{ListQuery, PagerLink};
use super::view::{age, date, karma_class, signed};
use super::{Chrome, ok};
use crate::error::{AppError, AppResult};
use crate::json::objects::beautiful_title;
use crate::state::AppState;
use crate::web::api::comments::{comments_graph, read_filter};
use crate::web::auth::Auth;
use crate::web::params::Validator;
use crate::web::respond::Page;

/// A comment of the list, with its update.
pub struct CommentLine {
    pub id: i32,
    pub author: String,
    pub alias: String,
    pub title: String,
    pub html: String,
    pub age: String,
    pub date: String,
    pub karma: i32,
}

impl CommentLine {
    pub fn karma_text(&self) -> String {
        signed(self.karma)
    }
    pub fn karma_class(&self) -> &'static str {
        karma_class(self.karma)
    }
}

#[derive(Template)]
#[template(path = "comments/list.html")]
struct CommentsPage<'a> {
    chrome: &'a Chrome,
    rows: Vec<CommentLine>,
    total: i64,
    pager: Vec<PagerLink>,
    user: String,
    update_owner: String,
    packages: String,
}

#[get("/comments/", guard = "super::accepts_html")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let list = ListQuery::read(&req, format!("{}comments/", chrome.base));
    let params = list.params.clone();
    let base = chrome.base.clone();
    let app = state.clone();
    let (rows, total, page) = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = read_filter(conn, &mut v, &app, page.chrome)?;
            v.finish()?;
            let total = filter.count(conn)?;
            let comments = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = comments_graph(conn, &comments)?;
            let now = crate::models::now();
            let rows = comments
                .iter()
                .map(|c| {
                    let update = graph.updates.iter().find(|u| u.id == c.update_id);
                    let nvrs: Vec<String> = graph
                        .builds_of(c.update_id)
                        .iter()
                        .map(|b| b.nvr.clone())
                        .collect();
                    CommentLine {
                        id: c.id,
                        author: graph
                            .user(c.user_id)
                            .map(|u| u.name.clone())
                            .unwrap_or_default(),
                        alias: update.map(|u| u.alias.clone()).unwrap_or_default(),
                        title: update
                            .map(|u| beautiful_title(&u.display_name, &u.alias, &nvrs, false))
                            .unwrap_or_default(),
                        html: crate::markdown::render(&c.text, &base),
                        age: age(c.timestamp, now),
                        date: date(c.timestamp),
                        karma: c.karma,
                    }
                })
                .collect();
            Ok::<_, AppError>((rows, total, page))
        })
        .await?;
    Ok(ok(
        &chrome,
        &CommentsPage {
            chrome: &chrome,
            rows,
            total,
            pager: list.pager(&page, total),
            user: list.first("user"),
            update_owner: list.first("update_owner"),
            packages: list.first("packages"),
        },
    ))
}
