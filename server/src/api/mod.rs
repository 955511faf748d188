//! The REST API under `/api/v1`: the seed backend's contract, served by the same services as the
//! web UI's server functions. Handlers only translate HTTP to service calls and back.

mod auth;
mod candidate;
mod chat;
mod recruiter;

use app::backend::AppState;
use app::backend::error::AppError;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(candidate::routes())
        .merge(chat::routes())
        .merge(recruiter::routes())
        .fallback(|| async { AppError::NotFound("Not Found".into()) })
}
