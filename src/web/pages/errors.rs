//! Errors as pages for browsers. The API answers every failure with Bodhi's JSON envelope; a
//! request that asked for HTML gets the same errors on a readable page instead, with the
//! status code kept, so a failed form post never ends on a screen of JSON.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use askama::Template;

use super::{Chrome, html_accepted, render};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::auth::Auth;

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    chrome: &'a Chrome,
    status: u16,
    reason: &'static str,
    errors: &'a [FieldError],
    /// The page the user came from, when it is on this site.
    back: Option<String>,
}

/// Middleware: re-renders an [`AppError`] as a page when the request asked for HTML.
pub async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let wants_html = html_accepted(req.headers());
    let res = next.call(req).await?;
    let field_errors = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(AppError::field_errors);
    let (Some(errors), true) = (field_errors, wants_html) else {
        return Ok(res.map_into_left_body());
    };
    let status = res.status();
    // The envelope tells API clients what broke; people get the log's word for it.
    let errors = if status == StatusCode::INTERNAL_SERVER_ERROR {
        vec![FieldError::new(
            "body",
            "server",
            "Something went wrong on the server. The error is in its log; please try again later.",
        )]
    } else {
        errors
    };
    let (http_req, _) = res.into_parts();
    let page = error_page(&http_req, status, &errors).await;
    Ok(ServiceResponse::new(http_req, page).map_into_right_body())
}

/// The error page for `errors`, with the layout of whoever is looking.
pub async fn error_page(
    req: &HttpRequest,
    status: StatusCode,
    errors: &[FieldError],
) -> HttpResponse {
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>() else {
        return HttpResponse::build(status).finish();
    };
    // The failure may be the database itself: then the page is drawn for an anonymous user.
    let auth = Auth::extract(req).await.unwrap_or(Auth {
        user: None,
        method: None,
        session_csrf: None,
    });
    let chrome = Chrome::new(req, state, &auth);
    let back = req
        .headers()
        .get(actix_web::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .filter(|r| r.starts_with(&chrome.base))
        .map(str::to_owned);
    render(
        &chrome,
        status,
        &ErrorPage {
            chrome: &chrome,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            errors,
            back,
        },
    )
}
