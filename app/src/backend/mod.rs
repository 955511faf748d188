//! Server-only code: configuration, storage and the services that REST handlers and server
//! functions share. Never compiled into the browser bundle.

pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod store;
pub mod templates;

use auth::throttle::LoginThrottle;
use axum::extract::FromRef;
use axum::http::request::Parts;
use config::{Config, StorageConfig};
use error::AppError;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use store::{Store, StoreResult};

/// Everything a request handler or server function needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub leptos_options: LeptosOptions,
    pub login_throttle: Arc<LoginThrottle>,
}

impl AppState {
    /// Opens the configured store (MongoDB when `MONGO_URI` is set, SQLite otherwise).
    pub async fn open(config: Config, leptos_options: LeptosOptions) -> StoreResult<Self> {
        let store = match &config.storage {
            StorageConfig::Sqlite => Store::sqlite(&config.data_dir).await?,
            StorageConfig::Mongo { uri, db_name } => Store::mongo(uri.expose(), db_name).await?,
        };
        auth::password::warm_up().await;
        Ok(AppState {
            config: Arc::new(config),
            store,
            leptos_options,
            login_throttle: Arc::new(LoginThrottle::default()),
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Inside a server function: the application state and the parts of the request it serves.
pub fn server_fn_context() -> Result<(AppState, Parts), AppError> {
    let state = leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::Internal("no AppState in the server function context".into()))?;
    let parts = leptos::prelude::use_context::<Parts>().ok_or_else(|| {
        AppError::Internal("no request parts in the server function context".into())
    })?;
    Ok((state, parts))
}

/// Inside a server function: runs one of the request extractors (e.g.
/// [`auth::web::CandidateUser`]) on the request being served, keeping its status-carrying error.
pub async fn server_fn_extract<T>() -> Result<T, AppError>
where
    T: axum::extract::FromRequestParts<AppState, Rejection = AppError>,
{
    let (state, mut parts) = server_fn_context()?;
    T::from_request_parts(&mut parts, &state).await
}
