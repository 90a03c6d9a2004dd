//! A user's page (`/users/{name}`): their groups, latest updates, overrides and comments,
//! with links to the full lists and feeds.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::updates::{UpdateRow, update_rows};
use super::view::{age, date, karma_class, signed};
use super::{Chrome, ok};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::models::comment::Comment;
use crate::models::now;
use crate::models::search::{CommentFilter, OverrideFilter, UpdateFilter};
use crate::models::user::User;
use crate::state::AppState;
use crate::web::auth::Auth;

/// A comment of the user's, with the update it is on.
pub struct CommentOn {
    pub id: i32,
    pub alias: String,
    pub text: String,
    pub age: String,
    pub date: String,
    pub karma: i32,
}

impl CommentOn {
    pub fn karma_text(&self) -> String {
        signed(self.karma)
    }
    pub fn karma_class(&self) -> &'static str {
        karma_class(self.karma)
    }
}

/// What the user page shows.
pub struct UserView {
    pub name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub since: String,
    pub updates: Vec<UpdateRow>,
    pub overrides: Vec<(String, bool)>,
    pub comments: Vec<CommentOn>,
    /// `user=NAME`, for the links to the lists and feeds.
    pub query: String,
}

#[derive(Template)]
#[template(path = "users/show.html")]
struct UserPage<'a> {
    chrome: &'a Chrome,
    u: UserView,
}

const LATEST: i64 = 10;

#[get("/users/{name}", guard = "super::accepts_html")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let name = path.into_inner();
    let app = state.clone();
    let view = state
        .db
        .run(move |conn| {
            let user = User::by_name(conn, &name)?.ok_or_else(|| {
                AppError::not_found("url", "name", format!("There is no user {name}."))
            })?;
            let groups = User::groups(conn, user.id)?
                .into_iter()
                .map(|g| g.name)
                .collect();
            let latest = UpdateFilter {
                user_ids: Some(vec![user.id]),
                ..UpdateFilter::default()
            }
            .page(conn, 0, LATEST)?;
            let graph = UpdateGraph::load(conn, latest)?;
            let overrides = OverrideFilter {
                submitter_ids: Some(vec![user.id]),
                ..OverrideFilter::default()
            }
            .page(conn, 0, LATEST)?;
            let build_ids: Vec<i32> = overrides.iter().map(|o| o.build_id).collect();
            let nvrs = crate::models::build::Build::nvrs(conn, &build_ids)?;
            let comments: Vec<Comment> = CommentFilter {
                user_ids: Some(vec![user.id]),
                ..CommentFilter::default()
            }
            .page(conn, 0, LATEST)?;
            let update_ids: Vec<i32> = comments.iter().map(|c| c.update_id).collect();
            let aliases = crate::models::update::Update::aliases(conn, &update_ids)?;
            let now = now();
            Ok::<_, AppError>(UserView {
                query: serde_urlencoded::to_string([("user", &user.name)]).unwrap_or_default(),
                since: date(user.created_at),
                updates: update_rows(&graph, &app),
                overrides: overrides
                    .iter()
                    .map(|o| {
                        (
                            nvrs.get(&o.build_id).cloned().unwrap_or_default(),
                            o.expired_date.is_some(),
                        )
                    })
                    .collect(),
                comments: comments
                    .into_iter()
                    .map(|c| CommentOn {
                        id: c.id,
                        alias: aliases.get(&c.update_id).cloned().unwrap_or_default(),
                        age: age(c.timestamp, now),
                        date: date(c.timestamp),
                        karma: c.karma,
                        text: c.text,
                    })
                    .collect(),
                name: user.name,
                email: user.email,
                groups,
            })
        })
        .await?;
    Ok(ok(
        &chrome,
        &UserPage {
            chrome: &chrome,
            u: view,
        },
    ))
}
