//! `GET /users/` and `GET /users/{name}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use serde::Serialize;

use super::releases::resolve_updates;
use super::{PageKeys, context, query, to_json};
use crate::db::DbConnection;
use crate::db::schema::groups;
use crate::error::{AppError, AppResult};
use crate::json::UserJson;
use crate::models::search::UserFilter;
use crate::models::user::User;
use crate::state::AppState;
use crate::web::params::Validator;
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct UserList<'a> {
    users: Vec<UserJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
}

fn resolve_groups(conn: &mut DbConnection, v: &mut Validator<'_>) -> AppResult<Option<Vec<i32>>> {
    if !v.params().contains("groups") {
        return Ok(None);
    }
    let names = v.list("groups");
    let rows: Vec<(i32, String)> = groups::table
        .filter(groups::name.eq_any(&names))
        .select((groups::id, groups::name))
        .load(conn)?;
    let bad: Vec<String> = names
        .iter()
        .filter(|n| !rows.iter().any(|(_, name)| name == *n))
        .cloned()
        .collect();
    if !bad.is_empty() {
        v.error(
            "groups",
            format!("Invalid groups specified: {}", bad.join(", ")),
        );
    }
    Ok(Some(rows.into_iter().map(|(id, _)| id).collect()))
}

#[get("/users/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            // Bodhi accepts `packages` here and ignores it.
            let filter = UserFilter {
                like: v.string("like"),
                search: v.string("search"),
                name: v.string("name"),
                group_ids: resolve_groups(conn, &mut v)?,
                update_ids: resolve_updates(conn, &mut v, "updates")?,
            };
            v.finish()?;
            let total = filter.count(conn)?;
            let users = filter.page(conn, page.offset(), page.rows_per_page)?;
            let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
            let groups = User::groups_of(conn, &ids)?;
            let ctx = context(&app);
            to_json(&UserList {
                users: users
                    .iter()
                    .map(|u| {
                        UserJson::new(u, groups.get(&u.id).map_or(&[][..], Vec::as_slice), &ctx)
                    })
                    .collect(),
                keys: PageKeys::new(&page, total),
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[derive(Serialize)]
struct UserUrls {
    comments_by: String,
    comments_on: String,
    recent_updates: String,
    recent_overrides: String,
    comments_by_rss: String,
    comments_on_rss: String,
    recent_updates_rss: String,
    recent_overrides_rss: String,
}

#[derive(Serialize)]
struct OneUser<'a> {
    user: UserJson<'a>,
    urls: UserUrls,
}

#[get("/users/{name}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let name = path.into_inner();
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let user = User::by_name(conn, &name)?
                .ok_or_else(|| AppError::not_found("body", "name", "No such user"))?;
            let groups = User::groups(conn, user.id)?;
            let base = &app.settings.base_address();
            let q =
                |key: &str| serde_urlencoded::to_string([(key, &user.name)]).unwrap_or_default();
            let urls = UserUrls {
                comments_by: format!("{base}comments/?{}", q("user")),
                comments_on: format!("{base}comments/?{}", q("update_owner")),
                recent_updates: format!("{base}updates/?{}", q("user")),
                recent_overrides: format!("{base}overrides/?{}", q("user")),
                comments_by_rss: format!("{base}rss/comments/?{}", q("user")),
                comments_on_rss: format!("{base}rss/comments/?{}", q("update_owner")),
                recent_updates_rss: format!("{base}rss/updates/?{}", q("user")),
                recent_overrides_rss: format!("{base}rss/overrides/?{}", q("user")),
            };
            let ctx = context(&app);
            to_json(&OneUser {
                user: UserJson::new(&user, &groups, &ctx),
                urls,
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
