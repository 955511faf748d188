//! The error the browser sees from a server function. The service layer's `AppError` (server
//! only) converts into it in one place, so a page gets the same status and message an API client
//! would, plus the offending field for inline form errors.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{detail}")]
pub struct ApiError {
    /// The HTTP status the REST API gives for the same failure (0: the server was not reached).
    pub status: u16,
    /// A message fit to show to the user.
    pub detail: String,
    /// The input field at fault, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            field: None,
        }
    }

    /// The error of one input field, as the UI reports it before asking the server.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status: 422,
            detail: detail.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

impl FromServerFnError for ApiError {
    type Encoder = crate::wire::JsonTextEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => ApiError::new(
                0,
                "Cannot reach the server. Check your connection and try again.",
            ),
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                invalid_input(message)
            }
            // On the server, what fails to deserialize is the request's body (a JSON input); in
            // the browser it is the server's answer, which is our fault, not the user's.
            ServerFnErrorErr::Deserialization(message) if cfg!(feature = "ssr") => {
                invalid_input(message)
            }
            other => ApiError::new(500, format!("Something went wrong: {other}")),
        }
    }
}

/// A server function's input that it cannot read. On the server, the response says so with its
/// status too (the function never ran, so nothing else sets it, and the default is 500).
fn invalid_input(message: String) -> ApiError {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
    ApiError::new(422, format!("Invalid input: {message}"))
}
