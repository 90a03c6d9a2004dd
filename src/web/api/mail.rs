//! Pipal's mail choices (Bodhi has none): a user's comment-notification preferences, read and
//! changed by the user (or an admin) at `/users/{name}/mail`, and muting one update's mail at
//! `/updates/{alias}/mail`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;

use super::write::{apply, authorised, body_params};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::models::mail_preferences::{self, MailPreferences};
use crate::models::update::Update;
use crate::models::user::User;
use crate::services::accounts::CurrentUser;
use crate::services::permissions;
use crate::state::AppState;
use crate::web::auth::Auth;
use crate::web::params::Validator;
use crate::web::respond;

#[derive(Serialize)]
struct MailChoices {
    name: String,
    #[serde(flatten)]
    preferences: MailPreferences,
    muted_updates: Vec<String>,
}

fn choices_of(conn: &mut DbConnection, user: &User) -> AppResult<MailChoices> {
    Ok(MailChoices {
        name: user.name.clone(),
        preferences: MailPreferences::of(conn, user.id)?,
        muted_updates: mail_preferences::muted_updates(conn, user.id)?,
    })
}

/// The user `name`, if `caller` may see and change their choices (themselves, or an admin).
fn user_for(
    conn: &mut DbConnection,
    caller: &CurrentUser,
    name: &str,
    state: &AppState,
) -> AppResult<User> {
    let user = User::by_name(conn, name)?
        .ok_or_else(|| AppError::not_found("url", "name", "No such user"))?;
    if user.id != caller.user.id && !permissions::is_admin(caller, &state.settings.accounts) {
        return Err(AppError::forbidden(
            "url",
            "name",
            format!("{} may not see the mail choices of {name}", caller.name()),
        ));
    }
    Ok(user)
}

/// The choices of `name`, as `caller` may see them.
async fn load_choices(
    state: &web::Data<AppState>,
    caller: CurrentUser,
    name: String,
) -> AppResult<MailChoices> {
    let app = state.clone();
    state
        .db
        .run(move |conn| {
            let user = user_for(conn, &caller, &name, &app)?;
            choices_of(conn, &user)
        })
        .await
}

#[derive(askama::Template)]
#[template(path = "users/mail.html")]
struct MailPage<'a> {
    chrome: &'a crate::web::pages::Chrome,
    choices: MailChoices,
}

/// The mail choices as a page with its form (the user, or an admin).
#[get("/users/{name}/mail", guard = "crate::web::pages::accepts_html")]
pub async fn page(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = crate::web::pages::Chrome::new(&req, &state, &auth);
    let Some(caller) = auth.user.clone() else {
        return Ok(crate::web::pages::see_other(&chrome.login_url()));
    };
    let choices = load_choices(&state, caller, path.into_inner()).await?;
    Ok(crate::web::pages::ok(
        &chrome,
        &MailPage {
            chrome: &chrome,
            choices,
        },
    ))
}

#[get("/users/{name}/mail")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let caller = auth.require()?.clone();
    let choices = load_choices(&state, caller, path.into_inner()).await?;
    Ok(respond::json(&req, StatusCode::OK, &choices))
}

/// Sets `notifications` and/or `own_comments`; the others keep their value.
#[post("/users/{name}/mail")]
pub async fn save(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let params = body_params(&req, &body)?;
    let caller = authorised(&auth, &params)?;
    let mut v = Validator::new(&params);
    let notifications = v.body_bool("notifications");
    let own_comments = v.body_bool("own_comments");
    v.finish()?;
    let name = path.into_inner();
    let app = state.get_ref().clone();
    let choices = apply(&state, move |conn, _ctx| {
        let user = user_for(conn, &caller, &name, &app)?;
        let mut preferences = MailPreferences::of(conn, user.id)?;
        preferences.notifications = notifications.unwrap_or(preferences.notifications);
        preferences.own_comments = own_comments.unwrap_or(preferences.own_comments);
        preferences.save(conn)?;
        choices_of(conn, &user)
    })
    .await?;
    if crate::web::session::wants_html(&req) {
        // The mail choices page: back to it, showing what was saved.
        return Ok(crate::web::pages::see_other(&format!(
            "{}users/{}/mail",
            state.settings.base_address(),
            choices.name
        )));
    }
    Ok(respond::json(&req, StatusCode::OK, &choices))
}

#[derive(Serialize)]
struct UpdateMail {
    alias: String,
    muted: bool,
}

/// `{"muted": true}` stops the caller's mail about this update; `false` resumes it.
#[post("/updates/{alias}/mail")]
pub async fn mute(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let params = body_params(&req, &body)?;
    let caller = authorised(&auth, &params)?;
    let mut v = Validator::new(&params);
    let muted = v.body_bool("muted");
    if muted.is_none() {
        v.error("muted", "Required");
    }
    v.finish()?;
    let muted = muted.unwrap_or(true);
    let alias = path.into_inner();
    let reply = apply(&state, move |conn, ctx| {
        let update = Update::by_alias(conn, &alias)?
            .ok_or_else(|| AppError::not_found("url", "alias", "Invalid update id"))?;
        mail_preferences::set_muted(conn, caller.user.id, update.id, muted, ctx.now)?;
        Ok(UpdateMail {
            alias: update.alias,
            muted,
        })
    })
    .await?;
    if crate::web::session::wants_html(&req) {
        // A mute button: back to the page it was on (the update, or the mail choices).
        let base = state.settings.base_address();
        let back = req
            .headers()
            .get(actix_web::http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .filter(|r| r.starts_with(&base))
            .map_or_else(|| format!("{base}updates/{}", reply.alias), str::to_owned);
        return Ok(crate::web::pages::see_other(&back));
    }
    Ok(respond::json(&req, StatusCode::OK, &reply))
}
