//! ODCS's API under `/api/1/` (spec/odcs.md): list, create, show, renew and delete on-demand
//! composes, and `about`. Errors use ODCS's envelope `{"status", "error", "message"}`, not
//! Bodhi's. Reads are open; writes take an API token (`Authorization: Bearer`), as ODCS's
//! clients send one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, delete, get, patch, post, web};
use serde_json::{Value, json};

use crate::db::{DbConnection, write_transaction};
use crate::models::now;
use crate::models::odcs::{OdcsCompose, OdcsFilter, OdcsOrder, OdcsOrderColumn};
use crate::odcs::error::{OdcsError, OdcsResult};
use crate::odcs::json::compose_json;
use crate::odcs::lifecycle::{self, Renewed};
use crate::odcs::permissions;
use crate::odcs::request::{ComposeRequest, RenewRequest};
use crate::services::accounts::CurrentUser;
use crate::state::AppState;
use crate::web::auth::{Auth, AuthMethod};
use crate::web::params::Params;

impl ResponseError for OdcsError {
    fn status_code(&self) -> StatusCode {
        match self {
            OdcsError::BadRequest(_) => StatusCode::BAD_REQUEST,
            OdcsError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            OdcsError::Forbidden(_) => StatusCode::FORBIDDEN,
            OdcsError::NotFound(_) => StatusCode::NOT_FOUND,
            OdcsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            OdcsError::Internal(detail) => {
                tracing::error!(error = %detail, "on-demand compose request failed");
                "The server failed to handle the request; its log says why.".to_owned()
            }
            other => other.to_string(),
        };
        HttpResponse::build(status).json(json!({
            "status": status.as_u16(),
            "error": status.canonical_reason().unwrap_or("Error"),
            "message": message,
        }))
    }
}

/// Serves `target_dir` at `/odcs/` when no other web server publishes it.
pub fn files(settings: &crate::config::Settings) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let odcs = settings.odcs.clone();
    move |cfg| {
        if odcs.target_dir_url.is_empty() {
            cfg.service(actix_files::Files::new("/odcs", &odcs.target_dir).show_files_listing());
        }
    }
}

/// Runs `f` with a connection on the blocking pool.
async fn blocking<T, F>(state: &web::Data<AppState>, f: F) -> OdcsResult<T>
where
    F: FnOnce(&AppState, &mut DbConnection) -> OdcsResult<T> + Send + 'static,
    T: Send + 'static,
{
    let state = state.get_ref().clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state
            .db
            .conn()
            .map_err(|e| OdcsError::Internal(e.to_string()))?;
        f(&state, &mut conn)
    })
    .await
    .map_err(|e| OdcsError::Internal(format!("database task failed: {e}")))?
}

/// The user of a write: an API token is required.
fn writer(auth: &Auth) -> OdcsResult<CurrentUser> {
    match (&auth.user, auth.method) {
        (Some(user), Some(AuthMethod::Token)) => Ok(user.clone()),
        (Some(_), _) => Err(OdcsError::Unauthorized(
            "The compose API takes API tokens (Authorization: Bearer), not login cookies."
                .to_owned(),
        )),
        (None, _) => Err(OdcsError::Unauthorized(
            "Authentication is required: send an API token (Authorization: Bearer <token>)."
                .to_owned(),
        )),
    }
}

fn json_body(body: &[u8]) -> OdcsResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| OdcsError::bad(format!("Invalid JSON: {e}")))
}

fn compose_id(raw: &str) -> OdcsResult<i32> {
    raw.parse()
        .map_err(|_| OdcsError::NotFound(format!("No such compose found: {raw}.")))
}

fn existing(conn: &mut DbConnection, id: i32) -> OdcsResult<OdcsCompose> {
    OdcsCompose::by_id(conn, id)?
        .ok_or_else(|| OdcsError::NotFound(format!("No such compose found: {id}.")))
}

fn int_param(params: &Params, name: &str) -> OdcsResult<Option<i64>> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| OdcsError::bad(format!("\"{name}\" must be an integer.")))
        })
        .transpose()
}

fn text_param(params: &Params, name: &str) -> Option<String> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The list's filters, order and page from the query string.
fn list_query(params: &Params) -> OdcsResult<(OdcsFilter, OdcsOrder, i64, i64, bool)> {
    let small = |value: Option<i64>, name: &str| -> OdcsResult<Option<i32>> {
        value
            .map(|v| {
                i32::try_from(v).map_err(|_| OdcsError::bad(format!("\"{name}\" is out of range.")))
            })
            .transpose()
    };
    let filter = OdcsFilter {
        owner: text_param(params, "owner"),
        source_type: small(int_param(params, "source_type")?, "source_type")?,
        source: text_param(params, "source"),
        state: small(int_param(params, "state")?, "state")?,
        compose_type: text_param(params, "compose_type"),
        label: text_param(params, "label"),
    };
    // Pipal has no Koji tasks and no Pungi compose ids: such a filter matches nothing.
    let matches_nothing = text_param(params, "koji_task_id").is_some()
        || text_param(params, "pungi_compose_id").is_some();
    let order_by = text_param(params, "order_by").unwrap_or_else(|| "-id".to_owned());
    let (descending, column) = match order_by.strip_prefix('-') {
        Some(column) => (true, column),
        None => (false, order_by.as_str()),
    };
    let column = OdcsOrderColumn::parse(column).ok_or_else(|| {
        OdcsError::bad(format!(
            "An invalid order_by key was supplied, allowed keys are: id, owner, koji_event, \
             state, time_to_expire, time_submitted, time_done, time_removed (got \"{order_by}\")."
        ))
    })?;
    let page = int_param(params, "page")?.unwrap_or(1);
    let per_page = int_param(params, "per_page")?.unwrap_or(10);
    if page < 1 || !(1..=100).contains(&per_page) {
        return Err(OdcsError::bad(
            "\"page\" must be at least 1 and \"per_page\" from 1 to 100.",
        ));
    }
    Ok((
        filter,
        OdcsOrder { column, descending },
        page,
        per_page,
        matches_nothing,
    ))
}

/// A page's URL: the request's query with `page` (and `per_page`) set.
fn page_url(base: &str, params: &Params, page: i64, per_page: i64) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| *k != "page" && *k != "per_page")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    pairs.push(("page".into(), page.to_string()));
    pairs.push(("per_page".into(), per_page.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{base}api/1/composes/?{query}")
}

#[get("/api/1/composes/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> OdcsResult<HttpResponse> {
    let params = Params::from_query(req.query_string());
    let (filter, order, page, per_page, matches_nothing) = list_query(&params)?;
    let body = blocking(&state, move |state, conn| {
        let (items, total) = if matches_nothing {
            (Vec::new(), 0)
        } else {
            OdcsCompose::page(conn, &filter, order, page, per_page)?
        };
        let base = state.settings.base_address();
        let pages = (total + per_page - 1) / per_page;
        let url = |page: i64| page_url(&base, &params, page, per_page);
        Ok(json!({
            "items": items
                .iter()
                .map(|c| compose_json(&state.settings, c))
                .collect::<Vec<_>>(),
            "meta": {
                "first": url(1),
                "last": url(pages.max(1)),
                "next": (page < pages).then(|| url(page + 1)),
                "prev": (page > 1).then(|| url(page - 1)),
                "page": page,
                "pages": pages,
                "per_page": per_page,
                "total": total,
            },
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[post("/api/1/composes/")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> OdcsResult<HttpResponse> {
    let user = writer(&auth)?;
    let body = json_body(&body)?;
    let settings = &state.settings;
    let default_sigkeys = settings
        .odcs
        .sigkeys
        .clone()
        .unwrap_or_else(|| settings.masher.sigkeys.clone());
    let request = ComposeRequest::parse(&body, &settings.odcs, &default_sigkeys)?;
    permissions::check_create(&settings.odcs, &user, &request)?;
    let json = blocking(&state, move |state, conn| {
        write_transaction(conn, |conn| {
            let compose = lifecycle::create(conn, &state.settings, &request, user.name(), now())?;
            Ok(compose_json(&state.settings, &compose))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json))
}

#[get("/api/1/composes/{id}")]
pub async fn show(path: web::Path<String>, state: web::Data<AppState>) -> OdcsResult<HttpResponse> {
    let id = compose_id(&path)?;
    let json = blocking(&state, move |state, conn| {
        let compose = existing(conn, id)?;
        let mut json = compose_json(&state.settings, &compose);
        if let Some(map) = json.as_object_mut() {
            map.insert("pungi_config_dump".into(), Value::Null);
        }
        Ok(json)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json))
}

#[patch("/api/1/composes/{id}")]
pub async fn renew(
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> OdcsResult<HttpResponse> {
    let user = writer(&auth)?;
    let id = compose_id(&path)?;
    permissions::check_client(&state.settings.odcs, &user)?;
    let request = RenewRequest::parse(&json_body(&body)?, &state.settings.odcs)?;
    let json = blocking(&state, move |state, conn| {
        write_transaction(conn, |conn| {
            let compose = existing(conn, id)?;
            let renewed =
                lifecycle::renew(conn, &state.settings, compose, &request, user.name(), now())?;
            let (Renewed::Extended(compose) | Renewed::Regenerated(compose)) = renewed;
            Ok(compose_json(&state.settings, &compose))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json))
}

#[delete("/api/1/composes/{id}")]
pub async fn remove(
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> OdcsResult<HttpResponse> {
    let user = writer(&auth)?;
    let id = compose_id(&path)?;
    let admin = permissions::is_admin(&state.settings.odcs, &user);
    let message = blocking(&state, move |state, conn| {
        write_transaction(conn, |conn| {
            let compose = existing(conn, id)?;
            lifecycle::delete(conn, &state.settings, compose, user.name(), admin, now())
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(json!({"status": 202, "message": message})))
}

#[get("/api/1/about/")]
pub async fn about(state: web::Data<AppState>) -> HttpResponse {
    let odcs = &state.settings.odcs;
    let sigkeys = odcs
        .sigkeys
        .clone()
        .unwrap_or_else(|| state.settings.masher.sigkeys.clone());
    HttpResponse::Ok().json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "auth_backend": "openidc",
        "allowed_clients": odcs.allowed_clients,
        "raw_config_urls": {},
        "sigkeys": sigkeys,
    }))
}
