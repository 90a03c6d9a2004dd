//! The browser side of logging in: the CSRF token (`GET /csrf`), the login form and its POST,
//! and logout.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde_json::json;

use super::auth::{
    Auth, login_cookie, logout_cookie, new_session_cookie, secure_cookies, session_csrf,
};
use super::pages::{self, Chrome};
use super::params::Params;
use super::respond;
use crate::error::{AppError, AppResult};
use crate::services::accounts;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: &'a Chrome,
    came_from: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

/// Whether the client wants HTML rather than JSON.
pub fn wants_html(req: &HttpRequest) -> bool {
    pages::html_accepted(req.headers())
}

/// A redirect target that stays on this site: a local path, or a URL under `base`.
pub fn safe_came_from(came_from: Option<&str>, base: &str) -> String {
    match came_from {
        Some(target) if target.starts_with(base) => target.to_owned(),
        Some(target)
            if target.starts_with('/') && !target.starts_with("//") && !target.contains('\\') =>
        {
            target.to_owned()
        }
        _ => base.to_owned(),
    }
}

/// The session's CSRF token, and the cookie to set when the request had none.
fn csrf_token(
    req: &HttpRequest,
    state: &AppState,
) -> (String, Option<actix_web::cookie::Cookie<'static>>) {
    match session_csrf(req, &state.keys) {
        Some(token) => (token, None),
        None => {
            let (cookie, token) = new_session_cookie(&state.keys, secure_cookies(state));
            (token, Some(cookie))
        }
    }
}

#[get("/csrf")]
pub async fn csrf(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (token, cookie) = csrf_token(&req, &state);
    let mut response = if wants_html(&req) {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(token)
    } else {
        respond::ok(&req, &json!({ "csrf_token": token }))
    };
    if let Some(cookie) = cookie
        && let Err(error) = response.add_cookie(&cookie)
    {
        tracing::error!(%error, "cannot set the session cookie");
    }
    response
}

#[get("/login")]
pub async fn login_form(req: HttpRequest, state: web::Data<AppState>, auth: Auth) -> HttpResponse {
    let base = state.settings.base_address();
    let query = Params::from_query(req.query_string());
    let came_from = safe_came_from(query.get("came_from"), &base);
    if auth.user.is_some() {
        return HttpResponse::Found()
            .insert_header((header::LOCATION, came_from))
            .finish();
    }
    let chrome = Chrome::new(&req, &state, &auth);
    pages::ok(
        &chrome,
        &LoginPage {
            chrome: &chrome,
            came_from: &came_from,
            username: "",
            error: None,
        },
    )
}

#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_json = content_type.as_deref().is_some_and(|c| c.contains("json"));
    let params = Params::from_body(content_type.as_deref(), &body)?;
    if !is_json {
        // A form post must come from our own login page (no login CSRF).
        auth.check_csrf(&params)?;
    }
    let base = state.settings.base_address();
    let came_from = safe_came_from(params.get("came_from"), &base);
    let username = params.get("username").unwrap_or_default().trim().to_owned();
    let password = params.get("password").unwrap_or_default().to_owned();

    let checked_name = username.clone();
    let user = state
        .db
        .run(move |conn| accounts::check_password(conn, &checked_name, &password))
        .await?;
    let Some(user) = user else {
        tracing::info!(user = %username, "failed login");
        if is_json {
            return Err(AppError::Unauthorized(
                "Wrong user name or password.".to_owned(),
            ));
        }
        let chrome = Chrome::new(&req, &state, &auth);
        return Ok(pages::render(
            &chrome,
            actix_web::http::StatusCode::UNAUTHORIZED,
            &LoginPage {
                chrome: &chrome,
                came_from: &came_from,
                username: &username,
                error: Some("Wrong user name or password."),
            },
        ));
    };
    tracing::info!(user = %user.name, "logged in");
    let cookie = login_cookie(&state.keys, &user, secure_cookies(&state));
    let mut response = if is_json {
        respond::ok(
            &req,
            &json!({ "user": { "id": user.id, "name": user.name } }),
        )
    } else {
        HttpResponse::Found()
            .insert_header((header::LOCATION, came_from))
            .finish()
    };
    response
        .add_cookie(&cookie)
        .map_err(|e| AppError::Internal(format!("cannot set the login cookie: {e}")))?;
    Ok(response)
}

#[get("/logout")]
pub async fn logout(state: web::Data<AppState>) -> HttpResponse {
    let mut response = HttpResponse::Found()
        .insert_header((header::LOCATION, state.settings.base_address()))
        .finish();
    let _ = response.add_cookie(&logout_cookie());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_site() {
        let base = "http://pipal.example.org/";
        assert_eq!(safe_came_from(Some("/updates/"), base), "/updates/");
        assert_eq!(
            safe_came_from(Some("http://pipal.example.org/oidc/authorize?x=1"), base),
            "http://pipal.example.org/oidc/authorize?x=1"
        );
        assert_eq!(safe_came_from(Some("//evil.example.org/"), base), base);
        assert_eq!(
            safe_came_from(Some("https://evil.example.org/"), base),
            base
        );
        assert_eq!(safe_came_from(None, base), base);
    }
}
