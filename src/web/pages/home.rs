//! The dashboard (`/`): how many updates wait for testers, who tested and packaged most this
//! week, and for a logged-in user their own active updates and buildroot overrides.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::Duration;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::updates::{UpdateRow, update_rows};
use super::view::{age, date};
use super::{Chrome, ok};
use crate::db::DbConnection;
use crate::db::schema::{comments, updates, users};
use crate::db::types::{UpdateStatus, UpdateType};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::models::now;
use crate::models::search::{OverrideFilter, UpdateFilter};
use crate::state::AppState;
use crate::web::auth::Auth;

/// How many testers and packagers the dashboard names (Bodhi's `homepage_stats_num_users`).
const TOP_USERS: i64 = 10;
/// The window they are counted in (Bodhi's `top_testers_timeframe`).
const TOP_USERS_DAYS: i64 = 7;

/// A counter of the hero: a number and the list it links to.
pub struct Counter {
    pub count: i64,
    pub label: &'static str,
    pub query: &'static str,
}

/// An active override of the user.
pub struct OverrideLine {
    pub nvr: String,
    pub expires: String,
    pub expires_in: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: &'a Chrome,
    counters: Vec<Counter>,
    testers: Vec<(String, i64)>,
    packagers: Vec<(String, i64)>,
    my_updates: Vec<UpdateRow>,
    my_overrides: Vec<OverrideLine>,
}

/// The users with the most rows in the window, system users left out.
fn top_users(
    conn: &mut DbConnection,
    by_comments: bool,
    system_users: &[String],
) -> AppResult<Vec<(String, i64)>> {
    let since = now() - Duration::days(TOP_USERS_DAYS);
    let counts: Vec<(i32, i64)> = if by_comments {
        comments::table
            .inner_join(users::table)
            .filter(comments::timestamp.ge(since))
            .filter(users::name.ne_all(system_users))
            .group_by(comments::user_id)
            .select((comments::user_id, count_star()))
            .order((count_star().desc(), comments::user_id.asc()))
            .limit(TOP_USERS)
            .load(conn)?
    } else {
        updates::table
            .inner_join(users::table)
            .filter(updates::date_submitted.ge(since))
            .filter(users::name.ne_all(system_users))
            .group_by(users::id)
            .select((users::id, count_star()))
            .order((count_star().desc(), users::id.asc()))
            .limit(TOP_USERS)
            .load(conn)?
    };
    let ids: Vec<i32> = counts.iter().map(|(id, _)| *id).collect();
    let names = crate::models::user::User::names(conn, &ids)?;
    Ok(counts
        .into_iter()
        .filter_map(|(id, n)| names.get(&id).map(|name| (name.clone(), n)))
        .collect())
}

fn counters(conn: &mut DbConnection) -> AppResult<Vec<Counter>> {
    let testing = UpdateFilter {
        statuses: Some(vec![UpdateStatus::Testing]),
        ..UpdateFilter::default()
    };
    Ok(vec![
        Counter {
            count: UpdateFilter {
                critpath: Some(true),
                ..testing.clone()
            }
            .count(conn)?,
            label: "critical path updates in testing",
            query: "status=testing&critpath=True",
        },
        Counter {
            count: UpdateFilter {
                update_type: Some(UpdateType::Security),
                ..testing.clone()
            }
            .count(conn)?,
            label: "security updates in testing",
            query: "type=security&status=testing",
        },
        Counter {
            count: testing.count(conn)?,
            label: "updates in testing",
            query: "status=testing",
        },
    ])
}

fn my_overrides(conn: &mut DbConnection, user_id: i32) -> AppResult<Vec<OverrideLine>> {
    let overrides = OverrideFilter {
        expired: Some(false),
        submitter_ids: Some(vec![user_id]),
        ..OverrideFilter::default()
    }
    .page(conn, 0, 50)?;
    let ids: Vec<i32> = overrides.iter().map(|o| o.build_id).collect();
    let nvrs = crate::models::build::Build::nvrs(conn, &ids)?;
    let now = now();
    Ok(overrides
        .into_iter()
        .map(|o| OverrideLine {
            nvr: nvrs.get(&o.build_id).cloned().unwrap_or_default(),
            expires: date(o.expiration_date),
            expires_in: if o.expiration_date > now {
                format!(
                    "expires in {}",
                    age(now, o.expiration_date).trim_end_matches(" ago")
                )
            } else {
                "expires at the next check".to_owned()
            },
        })
        .collect())
}

#[get("/")]
pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let app = state.clone();
    let me = auth.user.as_ref().map(|u| u.user.id);
    let (counters, testers, packagers, my_updates, my_overrides) = state
        .db
        .run(move |conn| {
            let system = &app.settings.accounts.system_users;
            let (my_updates, my_overrides) = match me {
                Some(id) => {
                    let updates = UpdateFilter {
                        user_ids: Some(vec![id]),
                        statuses: Some(vec![UpdateStatus::Pending, UpdateStatus::Testing]),
                        ..UpdateFilter::default()
                    }
                    .page(conn, 0, 50)?;
                    let graph = UpdateGraph::load(conn, updates)?;
                    (update_rows(&graph, &app), my_overrides(conn, id)?)
                }
                None => (Vec::new(), Vec::new()),
            };
            Ok::<_, AppError>((
                counters(conn)?,
                top_users(conn, true, system)?,
                top_users(conn, false, system)?,
                my_updates,
                my_overrides,
            ))
        })
        .await?;
    Ok(ok(
        &chrome,
        &HomePage {
            chrome: &chrome,
            counters,
            testers,
            packagers,
            my_updates,
            my_overrides,
        },
    ))
}
