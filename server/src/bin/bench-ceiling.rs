//! Benchmark (#10, ceiling): the physical limit of this machine for a request that touches the
//! store — a bare axum handler doing one read (a user by id) on the same embedded SQLite store
//! the server uses, with no middleware, authentication or framework around it. The benchmark
//! suite (`server/benches/suite.rs`) loads it at the same concurrency as the API.
//!
//! Environment: `DATA_DIR` (the store to read), `LEPTOS_SITE_ADDR` (where to listen).

use app::backend::store::Store;
use app::model::Id;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::process::ExitCode;

async fn read(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    let id = Id::parse(&id).map_err(|_| StatusCode::BAD_REQUEST)?;
    match store.users.find_by_id(&id).await {
        Ok(Some(user)) => Ok(Json(
            json!({ "id": user.id, "email": user.email, "role": user.role }),
        )),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let data_dir = std::env::var("DATA_DIR").unwrap_or_else(|_| "./data".into());
    let addr = std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3002".into());
    let store = match Store::sqlite(std::path::Path::new(&data_dir)).await {
        Ok(store) => store,
        Err(err) => {
            eprintln!("cannot open the store in {data_dir}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/read/{id}", get(read))
        .with_state(store);
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Configured like the app's listener, so the two differ only in what they do per request.
    let listener = listener.tap_io(server::send_without_delay);
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server error: {err}");
            ExitCode::FAILURE
        }
    }
}
