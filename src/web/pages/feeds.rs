//! RSS 2.0 feeds of the lists, as Bodhi serves them: `/rss/updates/`, `/rss/comments/` and
//! `/rss/overrides/`, each taking the same filters as its JSON list (so a feed of one user's
//! updates, one package's comments or one release's overrides is a query string away).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::NaiveDateTime;

use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::json::objects::beautiful_title;
use crate::state::AppState;
use crate::web::api::updates::read_filter;
use crate::web::api::{comments, overrides, query};
use crate::web::params::Validator;
use crate::web::respond::Page;

/// One entry of a feed.
pub struct Item {
    pub title: String,
    pub link: String,
    pub description: String,
    pub author: String,
    pub date: NaiveDateTime,
}

impl Item {
    /// RFC 822 date, as RSS wants it.
    pub fn pub_date(&self) -> String {
        self.date.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
    }
}

#[derive(Template)]
#[template(path = "feeds/rss.xml")]
struct Feed {
    title: String,
    link: String,
    description: &'static str,
    items: Vec<Item>,
}

fn respond(feed: &Feed) -> AppResult<HttpResponse> {
    let body = feed
        .render()
        .map_err(|e| AppError::Internal(format!("cannot render the feed: {e}")))?;
    Ok(HttpResponse::build(StatusCode::OK)
        .content_type("application/rss+xml; charset=utf-8")
        .body(body))
}

/// The feed's title: the site's, with the filters it was asked for.
fn title(what: &str, req: &HttpRequest) -> String {
    match req.query_string() {
        "" => format!("Pipal {what}"),
        query => format!(
            "Pipal {what}: {}",
            query.replace('&', ", ").replace('=', " ")
        ),
    }
}

#[get("/rss/updates/")]
pub async fn updates_feed(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let base = state.settings.base_address();
    let link = base.clone();
    let items = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = read_filter(conn, &mut v)?;
            v.finish()?;
            let updates = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = UpdateGraph::load(conn, updates)?;
            Ok::<_, AppError>(
                graph
                    .updates
                    .iter()
                    .map(|u| {
                        let nvrs: Vec<String> = graph
                            .builds_of(u.id)
                            .iter()
                            .map(|b| b.nvr.clone())
                            .collect();
                        Item {
                            title: beautiful_title(&u.display_name, &u.alias, &nvrs, false),
                            link: format!("{base}updates/{}", u.alias),
                            description: u.notes.clone(),
                            author: u
                                .user_id
                                .and_then(|id| graph.user(id))
                                .map(|user| user.name.clone())
                                .unwrap_or_default(),
                            date: u.date_submitted,
                        }
                    })
                    .collect(),
            )
        })
        .await?;
    respond(&Feed {
        title: title("updates", &req),
        link,
        description: "The latest updates",
        items,
    })
}

#[get("/rss/comments/")]
pub async fn comments_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let base = state.settings.base_address();
    let link = base.clone();
    let items = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = comments::read_filter(conn, &mut v, &app, page.chrome)?;
            v.finish()?;
            let comments = filter.page(conn, page.offset(), page.rows_per_page)?;
            let update_ids: Vec<i32> = comments.iter().map(|c| c.update_id).collect();
            let user_ids: Vec<i32> = comments.iter().map(|c| c.user_id).collect();
            let aliases = crate::models::update::Update::aliases(conn, &update_ids)?;
            let names = crate::models::user::User::names(conn, &user_ids)?;
            Ok::<_, AppError>(
                comments
                    .into_iter()
                    .map(|c| {
                        let alias = aliases.get(&c.update_id).cloned().unwrap_or_default();
                        let author = names.get(&c.user_id).cloned().unwrap_or_default();
                        Item {
                            title: format!("{author} on {alias}"),
                            link: format!("{base}updates/{alias}#comment-{}", c.id),
                            description: c.text,
                            author,
                            date: c.timestamp,
                        }
                    })
                    .collect(),
            )
        })
        .await?;
    respond(&Feed {
        title: title("comments", &req),
        link,
        description: "The latest comments",
        items,
    })
}

#[get("/rss/overrides/")]
pub async fn overrides_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let params = query(&req);
    let base = state.settings.base_address();
    let link = base.clone();
    let items = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = overrides::read_filter(conn, &mut v)?;
            v.finish()?;
            let rows = filter.page(conn, page.offset(), page.rows_per_page)?;
            let build_ids: Vec<i32> = rows.iter().map(|o| o.build_id).collect();
            let user_ids: Vec<i32> = rows.iter().map(|o| o.submitter_id).collect();
            let nvrs = crate::models::build::Build::nvrs(conn, &build_ids)?;
            let names = crate::models::user::User::names(conn, &user_ids)?;
            Ok::<_, AppError>(
                rows.into_iter()
                    .map(|o| {
                        let nvr = nvrs.get(&o.build_id).cloned().unwrap_or_default();
                        Item {
                            link: format!("{base}overrides/{nvr}"),
                            title: nvr,
                            description: o.notes,
                            author: names.get(&o.submitter_id).cloned().unwrap_or_default(),
                            date: o.submission_date,
                        }
                    })
                    .collect(),
            )
        })
        .await?;
    respond(&Feed {
        title: title("buildroot overrides", &req),
        link,
        description: "The latest buildroot overrides",
        items,
    })
}
