//! Bodhi's JSON API, one module per resource. Handlers parse and check the parameters, do
//! their work on the blocking pool in one database call, and serialise there too, so that a
//! page of updates is rendered without copying its rows.

pub mod builds;
pub mod comments;
pub mod composes;
pub mod mail;
pub mod misc;
pub mod odcs;
pub mod overrides;
pub mod packages;
pub mod releases;
pub mod schemas;
pub mod updates;
pub mod users;
pub mod write;

use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::json::JsonContext;
use crate::models::now;
use crate::state::AppState;
use crate::web::params::Params;

/// The JSON context of a request-rendered object.
pub fn context(state: &AppState) -> JsonContext<'_> {
    JsonContext {
        settings: &state.settings,
        now: now(),
        with_request: true,
    }
}

/// Serialises in the blocking closure, where the rows live.
pub fn to_json<T: Serialize>(value: &T) -> AppResult<String> {
    // A page of updates is ~100 KB: start big rather than grow (and copy) ten times.
    let mut out = Vec::with_capacity(16 * 1024);
    serde_json::to_writer(&mut out, value)
        .map_err(|e| AppError::Internal(format!("cannot serialise: {e}")))?;
    String::from_utf8(out).map_err(|e| AppError::Internal(format!("cannot serialise: {e}")))
}

/// The pagination keys of a list answer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PageKeys {
    pub page: i64,
    pub pages: i64,
    pub rows_per_page: i64,
    pub total: i64,
}

impl PageKeys {
    pub fn new(page: &crate::web::respond::Page, total: i64) -> Self {
        PageKeys {
            page: page.page,
            pages: page.pages(total),
            rows_per_page: page.rows_per_page,
            total,
        }
    }
}

pub fn query(req: &actix_web::HttpRequest) -> Params {
    Params::from_query(req.query_string())
}
