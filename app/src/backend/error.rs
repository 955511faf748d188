//! The HTTP-facing error of the service layer: every REST handler and server function returns it,
//! and it is turned into a response in exactly one place (`IntoResponse` below), always with the
//! REST contract's `{"detail": "..."}` body.

use super::store::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A dependency (the store) cannot serve right now; the client may retry.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A bug or an unexpected engine failure: logged in full, reported without internals.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "store unavailable");
                AppError::Unavailable(
                    "The service is temporarily unavailable. Please retry shortly.",
                )
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client sees.
    pub fn detail(&self) -> String {
        match self {
            AppError::Unavailable(message) => (*message).to_owned(),
            AppError::Internal(_) => "Internal server error.".to_owned(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        (
            self.status(),
            Json(serde_json::json!({ "detail": self.detail() })),
        )
            .into_response()
    }
}
