//! The OpenID Connect provider's endpoints under `/oidc`, and Bodhi's `/oidc/login-token`
//! (a bearer token in, the `auth_tkt` cookie out).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde_json::json;

use super::auth::{Auth, login_cookie, secure_cookies};
use super::params::Params;
use super::respond;
use crate::error::{AppError, AppResult};
use crate::models::now;
use crate::services::oidc::{self, AuthorizationRequest, OAuthError, Redirect};
use crate::state::AppState;

/// The scopes the bodhi CLI asks for.
const SCOPES: &[&str] = &[
    "openid",
    "email",
    "profile",
    "https://id.fedoraproject.org/scope/groups",
    "https://id.fedoraproject.org/scope/agreements",
];

#[derive(Template)]
#[template(path = "oidc/code.html")]
struct CodePage<'a> {
    /// `code=...&state=...`: checked to hold only URL-safe characters, shown as is.
    response: &'a str,
}

fn issuer(state: &AppState) -> String {
    format!("{}oidc", state.settings.base_address())
}

#[get("/oidc/.well-known/openid-configuration")]
pub async fn discovery(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let issuer = issuer(&state);
    let mut modes = vec!["query"];
    if state.settings.oidc.offer_oob {
        modes.push("oob");
    }
    respond::ok(
        &req,
        &json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "response_types_supported": ["code"],
            "response_modes_supported": modes,
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported":
                ["none", "client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": ["sub", "nickname", "preferred_username", "email", "groups"],
        }),
    )
}

/// A request the user cannot be sent back with: Bodhi's envelope, no redirect.
fn refuse(error: OAuthError) -> AppError {
    AppError::invalid("querystring", "oidc", error.description)
}

#[get("/oidc/authorize")]
pub async fn authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let query = Params::from_query(req.query_string());
    let redirect_uri = query
        .get("redirect_uri")
        .ok_or_else(|| {
            refuse(OAuthError::new(
                "invalid_request",
                "redirect_uri is required",
            ))
        })?
        .to_owned();
    let redirect = oidc::check_redirect_uri(&redirect_uri, &state.settings.oidc).map_err(refuse)?;
    let client_id = query
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| refuse(OAuthError::new("invalid_request", "client_id is required")))?
        .to_owned();
    let client_state = query.get("state").map(str::to_owned);
    if let Some(s) = &client_state {
        oidc::check_state(s).map_err(refuse)?;
    }
    if query.get("response_type") != Some("code") {
        return Ok(redirect_with(
            &redirect,
            &[
                ("error", "unsupported_response_type"),
                ("error_description", "only the code flow is supported"),
            ],
            client_state.as_deref(),
        ));
    }
    let Some(user) = auth.user else {
        let came_from = format!("/oidc/authorize?{}", req.query_string());
        let login = format!(
            "{}login?{}",
            state.settings.base_address(),
            serde_urlencoded::to_string([("came_from", came_from)]).unwrap_or_default()
        );
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, login))
            .finish());
    };
    let request = AuthorizationRequest {
        client_id,
        redirect_uri,
        scope: query.get("scope").unwrap_or("openid").to_owned(),
        state: client_state.clone(),
        code_challenge: query.get("code_challenge").map(str::to_owned),
        code_challenge_method: query.get("code_challenge_method").map(str::to_owned),
    };
    let user_row = user.user.clone();
    let code = state
        .db
        .run(move |conn| {
            oidc::issue_code(conn, &user_row, &request, now())
                .map_err(|e| AppError::invalid("querystring", "oidc", e.description))
        })
        .await?;
    tracing::info!(user = %user.name(), "issued an authorization code");
    Ok(redirect_with(
        &redirect,
        &[("code", &code)],
        client_state.as_deref(),
    ))
}

/// Sends the authorization response to the client, or shows it for pasting.
fn redirect_with(redirect: &Redirect, pairs: &[(&str, &str)], state: Option<&str>) -> HttpResponse {
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    match redirect {
        Redirect::OutOfBand => {
            let response = serde_urlencoded::to_string(&all).unwrap_or_default();
            match (CodePage {
                response: &response,
            })
            .render()
            {
                Ok(body) => HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(body),
                Err(error) => {
                    tracing::error!(%error, "cannot render the code page");
                    HttpResponse::InternalServerError().finish()
                }
            }
        }
        Redirect::Uri(uri) => {
            let mut target = uri.clone();
            target.query_pairs_mut().extend_pairs(all);
            HttpResponse::Found()
                .insert_header((header::LOCATION, target.to_string()))
                .finish()
        }
    }
}

fn oauth_error(error: OAuthError) -> HttpResponse {
    let status = if error.code == "server_error" {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"error": error.code, "error_description": error.description}))
}

#[post("/oidc/token")]
pub async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = match Params::from_body(content_type, &body) {
        Ok(params) => params,
        Err(e) => return oauth_error(OAuthError::new("invalid_request", e.to_string())),
    };
    let get = |name: &str| params.get(name).map(str::to_owned);
    let grant_type = get("grant_type").unwrap_or_default();
    let client_id = get("client_id");
    let settings = state.settings.oidc.clone();
    let result = match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = get("code") else {
                return oauth_error(OAuthError::new("invalid_request", "code is required"));
            };
            let redirect_uri = get("redirect_uri");
            let verifier = get("code_verifier");
            state
                .db
                .run(move |conn| {
                    Ok(oidc::exchange_code(
                        conn,
                        &code,
                        redirect_uri.as_deref(),
                        client_id.as_deref(),
                        verifier.as_deref(),
                        &settings,
                        now(),
                    ))
                })
                .await
        }
        "refresh_token" => {
            let Some(refresh_token) = get("refresh_token") else {
                return oauth_error(OAuthError::new(
                    "invalid_request",
                    "refresh_token is required",
                ));
            };
            state
                .db
                .run(move |conn| {
                    Ok(oidc::refresh(
                        conn,
                        &refresh_token,
                        client_id.as_deref(),
                        &settings,
                        now(),
                    ))
                })
                .await
        }
        other => Ok(Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        ))),
    };
    match result {
        Ok(Ok(tokens)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(tokens),
        Ok(Err(error)) => oauth_error(error),
        Err(error) => oauth_error(OAuthError::from(error)),
    }
}

#[get("/oidc/userinfo")]
pub async fn userinfo(req: HttpRequest, auth: Auth) -> AppResult<HttpResponse> {
    let user = auth
        .user
        .filter(|_| auth.method == Some(super::auth::AuthMethod::Token))
        .ok_or_else(|| AppError::Unauthorized("A bearer token is required".to_owned()))?;
    Ok(respond::ok(
        &req,
        &json!({
            "sub": user.user.id.to_string(),
            "nickname": user.user.name,
            "preferred_username": user.user.name,
            "email": user.user.email,
            "groups": user.groups,
        }),
    ))
}

/// Bodhi's token login: a valid bearer token (an access token of this provider, or any
/// Pipal API token) gets the `auth_tkt` cookie, with 202 Accepted.
#[get("/oidc/login-token")]
pub async fn login_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let user = auth
        .user
        .filter(|_| auth.method == Some(super::auth::AuthMethod::Token))
        .ok_or_else(|| AppError::Unauthorized("A bearer token is required".to_owned()))?;
    let cookie = login_cookie(&state.keys, &user.user, secure_cookies(&state));
    let mut response = respond::json(
        &req,
        StatusCode::ACCEPTED,
        &json!({"user": {"id": user.user.id, "name": user.user.name}}),
    );
    response
        .add_cookie(&cookie)
        .map_err(|e| AppError::Internal(format!("cannot set the login cookie: {e}")))?;
    Ok(response)
}
