//! The errors of the on-demand compose API, one per HTTP status ODCS answers with; the web
//! layer turns them into ODCS's envelope `{"status", "error", "message"}`.

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdcsError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
}

pub type OdcsResult<T> = Result<T, OdcsError>;

impl OdcsError {
    pub fn bad(message: impl Into<String>) -> OdcsError {
        OdcsError::BadRequest(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> OdcsError {
        OdcsError::Forbidden(message.into())
    }
}

impl From<diesel::result::Error> for OdcsError {
    fn from(error: diesel::result::Error) -> Self {
        OdcsError::Internal(format!("database error: {error}"))
    }
}

impl From<AppError> for OdcsError {
    fn from(error: AppError) -> Self {
        let message = error.to_string();
        match error {
            AppError::NotFound(_) => OdcsError::NotFound(message),
            AppError::Unauthorized(_) => OdcsError::Unauthorized(message),
            AppError::Forbidden(_) => OdcsError::Forbidden(message),
            AppError::Invalid(_) | AppError::Conflict(_) => OdcsError::BadRequest(message),
            AppError::Unavailable(_) | AppError::Internal(_) => OdcsError::Internal(message),
        }
    }
}
