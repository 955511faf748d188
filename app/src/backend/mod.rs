//! Server-only code: configuration, storage and the services that REST handlers and server
//! functions share. Never compiled into the browser bundle.

pub mod config;
pub mod error;
pub mod store;

use axum::extract::FromRef;
use config::{Config, StorageConfig};
use leptos::config::LeptosOptions;
use std::sync::Arc;
use store::{Store, StoreResult};

/// Everything a request handler or server function needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub leptos_options: LeptosOptions,
}

impl AppState {
    /// Opens the configured store (MongoDB when `MONGO_URI` is set, SQLite otherwise).
    pub async fn open(config: Config, leptos_options: LeptosOptions) -> StoreResult<Self> {
        let store = match &config.storage {
            StorageConfig::Sqlite => Store::sqlite(&config.data_dir).await?,
            StorageConfig::Mongo { uri, db_name } => Store::mongo(uri.expose(), db_name).await?,
        };
        Ok(AppState {
            config: Arc::new(config),
            store,
            leptos_options,
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
