//! Who is asking. A request is authenticated by an API token (`Authorization: Bearer`, no CSRF
//! token needed) or by the signed `auth_tkt` cookie that login sets (then every POST carries
//! the `csrf_token` of the signed `session` cookie, as in Bodhi).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::cookies::SigningKey;
use super::params::Params;
use crate::error::{AppError, AppResult};
use crate::models::now;
use crate::models::user::User;
use crate::services::accounts;
pub use crate::services::accounts::CurrentUser;
use crate::state::AppState;

pub const AUTH_COOKIE: &str = "auth_tkt";
pub const SESSION_COOKIE: &str = "session";
/// How long a login lasts (Bodhi's `authtkt.timeout`).
pub const LOGIN_SECONDS: i64 = 86_400;

pub const CSRF_MISMATCH: &str = "CSRF tokens do not match.  This happens if you have the page \
open for a long time. Please reload the page and try to submit your data again. Make sure to \
save your input somewhere before reloading.";

/// The keys that sign Pipal's cookies.
#[derive(Debug, Clone)]
pub struct Keys {
    pub auth: SigningKey,
    pub session: SigningKey,
}

impl Keys {
    pub fn from_master(master: &[u8]) -> Keys {
        Keys {
            auth: SigningKey::derive(master, "pipal auth_tkt"),
            session: SigningKey::derive(master, "pipal session"),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct AuthTicket {
    uid: i32,
    name: String,
    exp: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionData {
    csrf: String,
}

/// How the request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Token,
    Cookie,
}

/// The identity of a request, extracted from its headers and cookies.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: Option<CurrentUser>,
    pub method: Option<AuthMethod>,
    /// The CSRF token of the request's session cookie, if it has a valid one.
    pub session_csrf: Option<String>,
}

impl Auth {
    /// The user, or Bodhi's 403 for anonymous requests.
    pub fn require(&self) -> AppResult<&CurrentUser> {
        self.user
            .as_ref()
            .ok_or_else(|| AppError::forbidden("cookies", "user", "No ACLs for anonymous user"))
    }

    /// Checks the `csrf_token` field of a cookie-authenticated request.
    pub fn check_csrf(&self, params: &Params) -> AppResult<()> {
        if self.method == Some(AuthMethod::Token) {
            return Ok(());
        }
        let given = params.get("csrf_token").unwrap_or_default();
        match &self.session_csrf {
            Some(expected) if !given.is_empty() && constant_time_eq(given, expected) => Ok(()),
            _ => Err(AppError::invalid("body", "csrf_token", CSRF_MISMATCH)),
        }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The CSRF token of a valid session cookie.
pub fn session_csrf(req: &HttpRequest, keys: &Keys) -> Option<String> {
    let cookie = req.cookie(SESSION_COOKIE)?;
    keys.session
        .verify::<SessionData>(cookie.value())
        .map(|s| s.csrf)
}

/// A new session cookie holding a fresh CSRF token; returns the cookie and the token.
pub fn new_session_cookie(keys: &Keys, secure: bool) -> (Cookie<'static>, String) {
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    let csrf = hex::encode(bytes);
    let value = keys.session.sign(&SessionData { csrf: csrf.clone() });
    let cookie = Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    (cookie, csrf)
}

/// The `auth_tkt` cookie that logs `user` in.
pub fn login_cookie(keys: &Keys, user: &User, secure: bool) -> Cookie<'static> {
    let ticket = AuthTicket {
        uid: user.id,
        name: user.name.clone(),
        exp: Utc::now().timestamp() + LOGIN_SECONDS,
    };
    Cookie::build(AUTH_COOKIE, keys.auth.sign(&ticket))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(LOGIN_SECONDS))
        .finish()
}

/// A cookie that removes `auth_tkt`.
pub fn logout_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(AUTH_COOKIE, "").path("/").finish();
    cookie.make_removal();
    cookie
}

/// Whether cookies must be `Secure`: when Pipal is served over HTTPS.
pub fn secure_cookies(state: &AppState) -> bool {
    state.settings.base_address().starts_with("https://")
}

async fn authenticate(req: HttpRequest, state: web::Data<AppState>) -> AppResult<Auth> {
    let session_csrf = session_csrf(&req, &state.keys);
    if let Some(token) = bearer_token(&req) {
        let user = state
            .db
            .run(move |conn| {
                let Some(user) = accounts::user_for_token(conn, &token, now())? else {
                    return Ok(None);
                };
                let groups = User::groups(conn, user.id)?;
                Ok(Some(CurrentUser {
                    user,
                    groups: groups.into_iter().map(|g| g.name).collect(),
                }))
            })
            .await?;
        let Some(user) = user else {
            return Err(AppError::Unauthorized(
                "Invalid or expired API token".to_owned(),
            ));
        };
        return Ok(Auth {
            user: Some(user),
            method: Some(AuthMethod::Token),
            session_csrf,
        });
    }
    let ticket = req
        .cookie(AUTH_COOKIE)
        .and_then(|c| state.keys.auth.verify::<AuthTicket>(c.value()))
        .filter(|t| t.exp > Utc::now().timestamp());
    let Some(ticket) = ticket else {
        return Ok(Auth {
            user: None,
            method: None,
            session_csrf,
        });
    };
    let user = state
        .db
        .run(move |conn| {
            let user = User::by_id(conn, ticket.uid)
                .ok()
                .filter(|u| u.name == ticket.name);
            let Some(user) = user else {
                return Ok(None);
            };
            let groups = User::groups(conn, user.id)?;
            Ok(Some(CurrentUser {
                user,
                groups: groups.into_iter().map(|g| g.name).collect(),
            }))
        })
        .await?;
    Ok(Auth {
        method: user.as_ref().map(|_| AuthMethod::Cookie),
        user,
        session_csrf,
    })
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::Internal("the application state is missing".into()))?;
            authenticate(req, state).await
        })
    }
}
