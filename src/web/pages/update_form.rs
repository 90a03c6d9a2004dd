//! The form that creates an update (`/updates/new`) or edits one (`/updates/{alias}/edit`).
//! It posts plain form fields to `/updates/new`, which saves through the same service as
//! `POST /updates/`; a refused form comes back with every error listed and every value as
//! typed, so nothing is lost. Script adds build suggestions and the notes preview.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::{Chrome, render, see_other};
use crate::db::types::{UpdateSeverity, UpdateSuggestion, UpdateType};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::release::Release;
use crate::models::update::Update;
use crate::services::permissions;
use crate::state::AppState;
use crate::web::api::misc::with_buildsys;
use crate::web::api::updates::{read_update_form, save_update};
use crate::web::api::write::{authorised, body_params};
use crate::web::auth::Auth;
use crate::web::params::Params;

/// The form's values as text, as the user typed them or as the update has them.
pub struct FormValues {
    pub edited: String,
    pub builds: String,
    pub from_tag: String,
    pub bugs: String,
    pub display_name: String,
    pub notes: String,
    pub update_type: String,
    pub severity: String,
    pub suggest: String,
    pub close_bugs: bool,
    pub require_bugs: bool,
    pub require_testcases: bool,
    pub autokarma: bool,
    pub stable_karma: String,
    pub unstable_karma: String,
    pub autotime: bool,
    pub stable_days: String,
}

impl Default for FormValues {
    /// A new update: Bodhi's defaults.
    fn default() -> Self {
        FormValues {
            edited: String::new(),
            builds: String::new(),
            from_tag: String::new(),
            bugs: String::new(),
            display_name: String::new(),
            notes: String::new(),
            update_type: String::new(),
            severity: UpdateSeverity::Unspecified.as_str().to_owned(),
            suggest: UpdateSuggestion::Unspecified.as_str().to_owned(),
            close_bugs: true,
            require_bugs: true,
            require_testcases: true,
            autokarma: true,
            stable_karma: "3".to_owned(),
            unstable_karma: "-3".to_owned(),
            autotime: true,
            stable_days: "7".to_owned(),
        }
    }
}

impl FormValues {
    /// What was posted (a checkbox posts `false` from its hidden twin, then `true` if ticked).
    fn from_params(params: &Params) -> FormValues {
        let text = |name: &str| params.get(name).unwrap_or_default().to_owned();
        let flag = |name: &str| params.get(name).is_some_and(|v| v == "true");
        FormValues {
            edited: text("edited"),
            builds: text("builds"),
            from_tag: text("from_tag"),
            bugs: text("bugs"),
            display_name: text("display_name"),
            notes: text("notes"),
            update_type: text("type"),
            severity: text("severity"),
            suggest: text("suggest"),
            close_bugs: flag("close_bugs"),
            require_bugs: flag("require_bugs"),
            require_testcases: flag("require_testcases"),
            autokarma: flag("autokarma"),
            stable_karma: text("stable_karma"),
            unstable_karma: text("unstable_karma"),
            autotime: flag("autotime"),
            stable_days: text("stable_days"),
        }
    }

    fn from_update(update: &Update, builds: &[Build], bugs: &[Bug]) -> FormValues {
        let list = |items: Vec<String>| items.join("\n");
        FormValues {
            edited: update.alias.clone(),
            builds: if update.from_tag.is_some() {
                String::new()
            } else {
                list(builds.iter().map(|b| b.nvr.clone()).collect())
            },
            from_tag: update.from_tag.clone().unwrap_or_default(),
            bugs: bugs
                .iter()
                .map(|b| b.bug_id.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            display_name: update.display_name.clone(),
            notes: update.notes.clone(),
            update_type: update.update_type.as_str().to_owned(),
            severity: update.severity.as_str().to_owned(),
            suggest: update.suggest.as_str().to_owned(),
            close_bugs: update.close_bugs,
            require_bugs: update.require_bugs,
            require_testcases: update.require_testcases,
            autokarma: update.autokarma,
            stable_karma: update.stable_karma.to_string(),
            unstable_karma: update.unstable_karma.to_string(),
            autotime: update.autotime,
            stable_days: update.stable_days.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "updates/form.html")]
struct FormPage<'a> {
    chrome: &'a Chrome,
    v: FormValues,
    errors: Vec<FieldError>,
    side_tags: Vec<String>,
    types: &'static [UpdateType],
    severities: &'static [UpdateSeverity],
    suggestions: &'static [UpdateSuggestion],
    notes_max: usize,
}

/// The side tags of `user` (empty when the build system cannot list them).
async fn side_tags(state: &web::Data<AppState>, user: &str) -> Vec<String> {
    let user = user.to_owned();
    match with_buildsys(state, move |bs| Ok(bs.list_side_tags(Some(&user))?)).await {
        Ok(tags) => tags.into_iter().map(|t| t.name).collect(),
        Err(error) => {
            tracing::warn!(%error, "cannot list side tags for the update form");
            Vec::new()
        }
    }
}

async fn form_page(
    chrome: &Chrome,
    state: &web::Data<AppState>,
    status: StatusCode,
    values: FormValues,
    errors: Vec<FieldError>,
) -> HttpResponse {
    let mut side_tags = match &chrome.user {
        Some(user) => side_tags(state, user).await,
        None => Vec::new(),
    };
    // The update's own tag stays choosable even when the build system no longer lists it.
    if !values.from_tag.is_empty() && !side_tags.contains(&values.from_tag) {
        side_tags.push(values.from_tag.clone());
    }
    render(
        chrome,
        status,
        &FormPage {
            chrome,
            v: values,
            errors,
            side_tags,
            types: UpdateType::ALL,
            severities: UpdateSeverity::ALL,
            suggestions: UpdateSuggestion::ALL,
            notes_max: state.settings.rules.update_notes_maxlength,
        },
    )
}

#[get("/updates/new")]
pub async fn new(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    if auth.user.is_none() {
        return Ok(see_other(&chrome.login_url()));
    }
    Ok(form_page(
        &chrome,
        &state,
        StatusCode::OK,
        FormValues::default(),
        Vec::new(),
    )
    .await)
}

#[get("/updates/{alias}/edit")]
pub async fn edit(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let Some(user) = auth.user.clone() else {
        return Ok(see_other(&chrome.login_url()));
    };
    let alias = path.into_inner();
    let app = state.clone();
    let values = state
        .db
        .run(move |conn| {
            let update = Update::by_alias(conn, &alias)?.ok_or_else(|| {
                AppError::not_found("url", "id", format!("There is no update {alias}."))
            })?;
            let release = Release::by_id(conn, update.release_id)?;
            permissions::check_update_acls(conn, &user, &update, &release, &app.settings.accounts)?;
            if update.locked {
                return Err(AppError::invalid(
                    "body",
                    "update",
                    "The update is locked in a push; edit it once the push is over.",
                ));
            }
            let builds = Build::for_updates(conn, &[update.id])?;
            let bugs: Vec<Bug> = Bug::for_updates(conn, &[update.id])?
                .into_iter()
                .map(|(_, b)| b)
                .collect();
            Ok(FormValues::from_update(&update, &builds, &bugs))
        })
        .await?;
    Ok(form_page(&chrome, &state, StatusCode::OK, values, Vec::new()).await)
}

#[post("/updates/new")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let params = body_params(&req, &body)?;
    let user = authorised(&auth, &params)?;
    let values = FormValues::from_params(&params);
    // The form always posts both ways of naming builds; the blank one was not chosen.
    let given = params.without_blank(&["builds", "from_tag"]);
    let saved = match read_update_form(&given) {
        Ok(form) => save_update(&state, user, form).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(saved) => {
            let alias = saved
                .updates
                .first()
                .map(|u| u.alias.clone())
                .ok_or_else(|| AppError::Internal("the saved update is missing".into()))?;
            Ok(see_other(&format!("{}updates/{alias}", chrome.base)))
        }
        Err(error @ (AppError::Invalid(_) | AppError::Forbidden(_) | AppError::NotFound(_))) => {
            let status = actix_web::ResponseError::status_code(&error);
            Ok(form_page(&chrome, &state, status, values, error.field_errors()).await)
        }
        Err(other) => Err(other),
    }
}
