//! Operational endpoints for load balancers and orchestrators.

use app::backend::AppState;
use app::backend::error::AppError;
use app::backend::store::StoreError;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::time::Duration;

/// A readiness check must answer quickly even when the store hangs.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// The process is up and serving requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The store answers: 200 when it does, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(
            json!({ "status": "ready", "store": state.store.engine }),
        )),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => Err(StoreError::Unavailable("ping timed out".into()).into()),
    }
}
