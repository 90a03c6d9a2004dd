//! Turns `AppError` into an HTTP response with Bodhi's error envelope.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::{AppError, FieldError};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
        envelope(self.status_code(), &self.field_errors())
    }
}

/// `{"status": "error", "errors": [...]}` with the given status.
pub fn envelope(status: StatusCode, errors: &[FieldError]) -> HttpResponse {
    HttpResponse::build(status).json(json!({"status": "error", "errors": errors}))
}
