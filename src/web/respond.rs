//! Building responses: JSON, or JSONP when the query asks for a `callback`, and the pagination
//! keys every Bodhi list carries.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::params::{Params, Validator};

/// Serialises `body` as JSON, or as JSONP (`/**/callback(json);`) when the query string has a
/// valid `callback`.
pub fn json<T: Serialize + ?Sized>(
    req: &HttpRequest,
    status: StatusCode,
    body: &T,
) -> HttpResponse {
    match serde_json::to_string(body) {
        Ok(text) => raw(req, status, text),
        Err(error) => {
            tracing::error!(%error, "cannot serialise a response");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Answers with JSON already serialised (or JSONP, as [`json`]).
pub fn raw(req: &HttpRequest, status: StatusCode, text: String) -> HttpResponse {
    let query = Params::from_query(req.query_string());
    match query.get("callback").filter(|c| is_callback_name(c)) {
        Some(callback) => HttpResponse::build(status)
            .content_type("application/javascript")
            .body(format!("/**/{callback}({text});")),
        None => HttpResponse::build(status)
            .content_type("application/json")
            .body(text),
    }
}

/// 200 with JSON.
pub fn ok<T: Serialize + ?Sized>(req: &HttpRequest, body: &T) -> HttpResponse {
    json(req, StatusCode::OK, body)
}

fn is_callback_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'))
}

/// The pagination parameters of a list (`page` from 1, `rows_per_page` from 1 to 1000,
/// `chrome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub rows_per_page: i64,
    pub chrome: bool,
}

pub const DEFAULT_ROWS_PER_PAGE: i64 = 20;
pub const MAX_ROWS_PER_PAGE: i64 = 1000;

impl Page {
    pub fn read(v: &mut Validator<'_>) -> Page {
        Page {
            page: v.int("page", Some(1), None).unwrap_or(1),
            rows_per_page: v
                .int("rows_per_page", Some(1), Some(MAX_ROWS_PER_PAGE))
                .unwrap_or(DEFAULT_ROWS_PER_PAGE),
            chrome: v.query_bool("chrome").unwrap_or(true),
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.rows_per_page)
    }

    /// `ceil(total / rows_per_page)`.
    pub fn pages(&self, total: i64) -> i64 {
        (total + self.rows_per_page - 1) / self.rows_per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_identifiers() {
        assert!(is_callback_name("jQuery123_456"));
        assert!(is_callback_name("ns.handle$"));
        assert!(!is_callback_name("alert(1)"));
        assert!(!is_callback_name("1abc"));
        assert!(!is_callback_name(""));
    }

    #[test]
    fn pages_round_up() {
        let page = Page {
            page: 3,
            rows_per_page: 20,
            chrome: true,
        };
        assert_eq!(page.offset(), 40);
        assert_eq!(page.pages(0), 0);
        assert_eq!(page.pages(20), 1);
        assert_eq!(page.pages(21), 2);
    }
}
