//! Buildroot overrides for browsers: the list (`/overrides/`, with the API's filters), one
//! override (`/overrides/{nvr}`, with its edit form for its submitter and admins: notes,
//! expiry, expire now or re-enable) and the new-override form (`/overrides/new`). Forms post
//! to `/overrides/new`, which saves through the same service as `POST /overrides/` and, when
//! refused, shows the form again with the errors and the values as typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::Duration;

use super::list::{ListQuery, PagerLink};
use super::view::{age, date};
use super::{Chrome, ok, render, see_other};
use crate::error::{AppError, AppResult, FieldError};
use crate::json::overrides::OverrideGraph;
use crate::models::build::Build;
use crate::models::now;
use crate::models::overrides::BuildrootOverride;
use crate::models::release::Release;
use crate::services::permissions;
use crate::state::AppState;
use crate::web::api::overrides::{read_filter, read_override_form, save_override};
use crate::web::api::write::{authorised, body_params};
use crate::web::api::{context, query};
use crate::web::auth::Auth;
use crate::web::params::{Params, Validator};
use crate::web::respond::Page;

/// An override as the pages show it.
pub struct OverrideLine {
    pub nvr: String,
    pub release: String,
    pub submitter: String,
    pub notes: String,
    pub submitted: String,
    pub submitted_age: String,
    pub expires: String,
    /// "expires in 3 days", "expired 2 days ago".
    pub expiry: String,
    pub expired: bool,
}

fn override_lines(
    graph: &OverrideGraph,
    state: &AppState,
    releases: &[Release],
) -> Vec<OverrideLine> {
    let ctx = context(state);
    graph
        .overrides
        .iter()
        .filter_map(|o| {
            let json = graph.json(o, &ctx)?;
            let expiry = match o.expired_date {
                Some(at) => format!("expired {}", age(at, ctx.now)),
                None if o.expiration_date > ctx.now => format!(
                    "expires in {}",
                    age(ctx.now, o.expiration_date).trim_end_matches(" ago")
                ),
                None => "expires at the next check".to_owned(),
            };
            Some(OverrideLine {
                nvr: json.nvr.to_owned(),
                release: json
                    .build
                    .release_id
                    .and_then(|id| releases.iter().find(|r| r.id == id))
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                submitter: json
                    .submitter
                    .map(|u| u.name.to_owned())
                    .unwrap_or_default(),
                notes: o.notes.clone(),
                submitted: date(o.submission_date),
                submitted_age: age(o.submission_date, ctx.now),
                expires: date(o.expiration_date),
                expiry,
                expired: o.expired_date.is_some(),
            })
        })
        .collect()
}

/// The filter form's values, as the query gave them.
#[derive(Default)]
pub struct OverrideFilters {
    pub search: String,
    pub expired: String,
    pub release: String,
    pub user: String,
}

#[derive(Template)]
#[template(path = "overrides/list.html")]
struct OverridesPage<'a> {
    chrome: &'a Chrome,
    rows: Vec<OverrideLine>,
    total: i64,
    pager: Vec<PagerLink>,
    form: OverrideFilters,
    releases: Vec<String>,
}

#[get("/overrides/", guard = "super::accepts_html")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let list = ListQuery::read(&req, format!("{}overrides/", chrome.base));
    let params = list.params.clone();
    let app = state.clone();
    let (rows, total, page, releases) = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = read_filter(conn, &mut v)?;
            v.finish()?;
            let total = filter.count(conn)?;
            let overrides = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = OverrideGraph::load(conn, overrides)?;
            let all = Release::list(conn)?;
            let lines = override_lines(&graph, &app, &all);
            let mut releases: Vec<String> = all.into_iter().map(|r| r.name).collect();
            releases.sort_by(|a, b| b.cmp(a));
            Ok::<_, AppError>((lines, total, page, releases))
        })
        .await?;
    Ok(ok(
        &chrome,
        &OverridesPage {
            chrome: &chrome,
            rows,
            total,
            pager: list.pager(&page, total),
            form: OverrideFilters {
                search: list.first("search"),
                expired: list.first("expired"),
                release: list.first("releases"),
                user: list.first("user"),
            },
            releases,
        },
    ))
}

/// The override form's values as text.
pub struct OverrideValues {
    pub edited: String,
    pub nvr: String,
    pub notes: String,
    /// `YYYY-MM-DD`, as a date field gives it.
    pub expiration_date: String,
    pub expired: bool,
}

impl OverrideValues {
    fn from_params(params: &Params) -> OverrideValues {
        let text = |name: &str| params.get(name).unwrap_or_default().to_owned();
        OverrideValues {
            edited: text("edited"),
            nvr: text("nvr"),
            notes: text("notes"),
            expiration_date: text("expiration_date"),
            expired: params.get("expired") == Some("true"),
        }
    }
}

#[derive(Template)]
#[template(path = "overrides/show.html")]
struct OverridePage<'a> {
    chrome: &'a Chrome,
    o: Option<OverrideLine>,
    /// The edit (or new) form, for those who may use it.
    form: Option<OverrideValues>,
    errors: Vec<FieldError>,
}

fn form_page(
    chrome: &Chrome,
    status: StatusCode,
    line: Option<OverrideLine>,
    form: Option<OverrideValues>,
    errors: Vec<FieldError>,
) -> HttpResponse {
    render(
        chrome,
        status,
        &OverridePage {
            chrome,
            o: line,
            form,
            errors,
        },
    )
}

#[get("/overrides/new")]
pub async fn new(req: HttpRequest, state: web::Data<AppState>, auth: Auth) -> HttpResponse {
    let chrome = Chrome::new(&req, &state, &auth);
    if auth.user.is_none() {
        return see_other(&chrome.login_url());
    }
    let nvr = query(&req).get("nvr").unwrap_or_default().to_owned();
    let values = OverrideValues {
        edited: String::new(),
        nvr,
        notes: String::new(),
        expiration_date: (now() + Duration::days(7)).format("%Y-%m-%d").to_string(),
        expired: false,
    };
    form_page(&chrome, StatusCode::OK, None, Some(values), Vec::new())
}

#[get("/overrides/{nvr}", guard = "super::accepts_html")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let nvr = path.into_inner();
    let app = state.clone();
    let user = auth.user.clone();
    let (line, form) = state
        .db
        .run(move |conn| {
            let missing =
                || AppError::not_found("url", "nvr", format!("There is no override of {nvr}."));
            let build = Build::by_nvr(conn, &nvr)?.ok_or_else(missing)?;
            let found = BuildrootOverride::for_build(conn, build.id)?.ok_or_else(missing)?;
            let may_edit = user.as_ref().is_some_and(|u| {
                u.user.id == found.submitter_id || permissions::is_admin(u, &app.settings.accounts)
            });
            let form = may_edit.then(|| OverrideValues {
                edited: nvr.clone(),
                nvr: nvr.clone(),
                notes: found.notes.clone(),
                expiration_date: found.expiration_date.format("%Y-%m-%d").to_string(),
                expired: found.expired_date.is_some(),
            });
            let graph = OverrideGraph::load(conn, vec![found])?;
            let line = override_lines(&graph, &app, &Release::list(conn)?).pop();
            Ok::<_, AppError>((line, form))
        })
        .await?;
    Ok(form_page(&chrome, StatusCode::OK, line, form, Vec::new()))
}

#[post("/overrides/new")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let params = body_params(&req, &body)?;
    let user = authorised(&auth, &params)?;
    let values = OverrideValues::from_params(&params);
    let saved = match read_override_form(&params) {
        Ok(form) => save_override(&state, user, form).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => {
            let nvr = values.nvr.split_whitespace().next().unwrap_or_default();
            Ok(see_other(&format!(
                "{}overrides/{}",
                chrome.base,
                urlencoding(nvr)
            )))
        }
        Err(error @ (AppError::Invalid(_) | AppError::Forbidden(_) | AppError::NotFound(_))) => {
            let status = actix_web::ResponseError::status_code(&error);
            Ok(form_page(
                &chrome,
                status,
                None,
                Some(values),
                error.field_errors(),
            ))
        }
        Err(other) => Err(other),
    }
}

/// A path segment, percent-encoded.
fn urlencoding(segment: &str) -> String {
    serde_urlencoded::to_string([("", segment)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .replace('+', "%20")
}
