//! The error type of services and the web layer. It knows nothing of HTTP: the web layer maps
//! each kind to a status code and Bodhi's envelope
//! `{"status": "error", "errors": [{"location", "name", "description"}]}`.

use serde::Serialize;

/// One entry of Bodhi's error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where the bad value came from: `body`, `querystring`, `url`, `cookies` or `header`.
    pub location: String,
    pub name: String,
    pub description: String,
}

impl FieldError {
    pub fn new(
        location: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        FieldError {
            location: location.into(),
            name: name.into(),
            description: description.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The object does not exist (HTTP 404).
    #[error("{}", .0.description)]
    NotFound(FieldError),
    /// The credentials given are not valid (HTTP 401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this (HTTP 403).
    #[error("{}", .0.description)]
    Forbidden(FieldError),
    /// The input is wrong (HTTP 400); several fields may be wrong at once.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The request conflicts with the current state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// A service we depend on is not reachable (HTTP 503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (HTTP 500).
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.name, e.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn invalid(
        location: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        AppError::Invalid(vec![FieldError::new(location, name, description)])
    }

    pub fn not_found(
        location: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        AppError::NotFound(FieldError::new(location, name, description))
    }

    pub fn forbidden(
        location: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        AppError::Forbidden(FieldError::new(location, name, description))
    }

    /// The entries of the error envelope for this error.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::NotFound(e) | AppError::Forbidden(e) => vec![e.clone()],
            AppError::Invalid(errors) => errors.clone(),
            AppError::Unauthorized(d) => vec![FieldError::new("header", "Authorization", d)],
            AppError::Conflict(d) => vec![FieldError::new("body", "request", d)],
            AppError::Unavailable(d) => vec![FieldError::new("body", "Unavailable", d)],
            AppError::Internal(d) => vec![FieldError::new("body", "Internal", d)],
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => AppError::not_found("url", "id", "No such object"),
            other => AppError::Internal(format!("database error: {other}")),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        AppError::Internal(format!("{error:#}"))
    }
}
