//! The server-rendered pages. They live on the same URLs as the JSON API: a request whose
//! `Accept` asks for HTML (a browser) is routed here by [`accepts_html`], every other client
//! gets JSON from `api/`. Each page loads its rows in one database call, turns them into a
//! small view (`view.rs`) and renders an askama template inside the shared layout, whose
//! context is [`Chrome`].

pub mod assets;
pub mod comments;
pub mod composes;
pub mod errors;
pub mod feeds;
pub mod home;
pub mod list;
pub mod overrides;
pub mod push;
pub mod releases;
pub mod update_form;
pub mod updates;
pub mod users;
pub mod view;

use actix_web::cookie::Cookie;
use actix_web::guard::GuardContext;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{StatusCode, header::HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::auth::{Auth, new_session_cookie, secure_cookies, session_csrf};
use crate::services::permissions;
use crate::state::AppState;

/// Whether headers ask for HTML (a browser's `Accept`), rather than JSON.
pub fn html_accepted(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Route guard: the page routes answer only requests that ask for HTML.
pub fn accepts_html(ctx: &GuardContext<'_>) -> bool {
    html_accepted(ctx.head().headers())
}

/// What the layout of every page needs: where the site is, who is looking, the CSRF token
/// its forms carry, and where "log in" should come back to.
pub struct Chrome {
    pub base: String,
    pub user: Option<String>,
    /// Whether the user may push (the admin push page and admin actions).
    pub admin: bool,
    pub csrf_token: String,
    /// The path and query of this page, for `came_from`.
    pub here: String,
    pub version: &'static str,
    /// Appended to asset URLs so that browsers may cache them forever.
    pub assets: &'static str,
    /// A new session cookie (with the CSRF token) when the request had none.
    new_session: Option<Cookie<'static>>,
}

impl Chrome {
    pub fn new(req: &HttpRequest, state: &AppState, auth: &Auth) -> Chrome {
        let (csrf_token, new_session) = match session_csrf(req, &state.keys) {
            Some(token) => (token, None),
            None => {
                let (cookie, token) = new_session_cookie(&state.keys, secure_cookies(state));
                (token, Some(cookie))
            }
        };
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        Chrome {
            base: state.settings.base_address(),
            user: auth.user.as_ref().map(|u| u.name().to_owned()),
            admin: auth
                .user
                .as_ref()
                .is_some_and(|u| permissions::is_admin(u, &state.settings.accounts)),
            csrf_token,
            here,
            version: env!("CARGO_PKG_VERSION"),
            assets: assets::version(),
            new_session,
        }
    }

    /// The login page, coming back here afterwards.
    pub fn login_url(&self) -> String {
        format!(
            "{}login?{}",
            self.base,
            serde_urlencoded::to_string([("came_from", &self.here)]).unwrap_or_default()
        )
    }

    /// Whether `name` is the user looking at the page.
    pub fn is_me(&self, name: &str) -> bool {
        self.user.as_deref() == Some(name)
    }
}

/// Renders `page` with `status`, setting the session cookie the page's forms rely on.
pub fn render(chrome: &Chrome, status: StatusCode, page: &impl Template) -> HttpResponse {
    let mut response = match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(%error, "cannot render a page");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("The page could not be rendered; the error is in the server's log.");
        }
    };
    // Pages differ by who is looking: never let a shared cache keep one.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept, Cookie"));
    if let Some(cookie) = &chrome.new_session
        && let Err(error) = response.add_cookie(cookie)
    {
        tracing::error!(%error, "cannot set the session cookie");
    }
    response
}

/// 200 with `page`.
pub fn ok(chrome: &Chrome, page: &impl Template) -> HttpResponse {
    render(chrome, StatusCode::OK, page)
}

/// A 303 to `location` (after a form post, so that reloading does not post again).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
