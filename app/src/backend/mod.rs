//! Server-only code: configuration, storage and the services that REST handlers and server
//! functions share. Never compiled into the browser bundle.

pub mod assistant;
pub mod auth;
pub mod chat;
pub mod config;
pub mod demo;
pub mod error;
pub mod fixed;
pub mod judge;
pub mod live;
pub mod results;
pub mod sandbox;
pub mod scoring;
pub mod security;
pub mod sessions;
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

/// Everything a request handler or server function needs: one handle to the process's
/// [`Services`], so that a clone (every middleware, extractor and server function takes one) is
/// one reference count, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

/// The services of the process, shared by every request through [`AppState`].
pub struct Services {
    pub config: Config,
    pub store: Store,
    pub leptos_options: LeptosOptions,
    /// Signs access tokens and checks them, remembering the ones already checked.
    pub tokens: auth::token::Tokens,
    pub login_throttle: LoginThrottle,
    /// Integrity events per session and minute.
    pub event_throttle: auth::throttle::Throttle,
    /// Runs of the examples per session and minute.
    pub run_throttle: auth::throttle::Throttle,
    /// Who answers candidates' prompts: the configured provider or the offline assistant.
    pub assistant: assistant::provider::Provider,
    /// Where candidates' code runs (grading and example runs).
    pub sandbox: sandbox::Pool,
    /// Who hears what happens in each session (sockets of the chat and the live view).
    pub rooms: Box<dyn live::Rooms>,
    /// What never changes in the sessions being taken, kept between their requests.
    pub fixed_sessions: fixed::FixedSessions,
}

impl Services {
    /// Opens the configured store (MongoDB when `MONGO_URI` is set, SQLite otherwise) and sets
    /// up the services around it.
    pub async fn open(config: Config, leptos_options: LeptosOptions) -> StoreResult<Self> {
        let store = match &config.storage {
            StorageConfig::Sqlite => Store::sqlite(&config.data_dir).await?,
            StorageConfig::Mongo { uri, db_name } => Store::mongo(uri.expose(), db_name).await?,
        };
        auth::password::warm_up().await;
        assistant::gatekeeper::warm_up();
        Ok(Services {
            assistant: assistant::provider::Provider::from_config(config.llm.as_ref()),
            sandbox: sandbox::Pool::new(config.grading_workers),
            tokens: auth::token::Tokens::new(&config),
            config,
            store,
            leptos_options,
            login_throttle: LoginThrottle::default(),
            event_throttle: sessions::event_throttle(),
            run_throttle: sessions::run_throttle(),
            rooms: Box::new(live::LocalRooms::default()),
            fixed_sessions: fixed::FixedSessions::default(),
        })
    }
}

impl AppState {
    /// The services of [`Services::open`], ready to share.
    pub async fn open(config: Config, leptos_options: LeptosOptions) -> StoreResult<Self> {
        Services::open(config, leptos_options).await.map(Self::from)
    }
}

impl From<Services> for AppState {
    fn from(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// What a server function works with. Take it first thing, before any `.await`: Leptos's
/// context is not guaranteed to be reachable after one (e.g. when a resource runs the function
/// during server rendering).
pub struct ServerFnContext {
    pub state: AppState,
    pub parts: Parts,
    /// Status and headers of the response being built.
    pub response: leptos_axum::ResponseOptions,
}

/// Inside a server function: the application state and the request it serves.
pub fn server_fn_context() -> Result<ServerFnContext, AppError> {
    use leptos::prelude::use_context;
    let state = use_context::<AppState>()
        .ok_or_else(|| AppError::Internal("no AppState in the server function context".into()))?;
    let parts = use_context::<Parts>().ok_or_else(|| {
        AppError::Internal("no request parts in the server function context".into())
    })?;
    let response = use_context::<leptos_axum::ResponseOptions>().unwrap_or_default();
    Ok(ServerFnContext {
        state,
        parts,
        response,
    })
}

/// A server function's context and its signed-in caller.
pub type Caller = (ServerFnContext, store::UserRecord);

/// Inside a server function: its context and the caller as extractor `T` (e.g.
/// [`auth::web::RecruiterUser`]), or the extractor's error already carrying its status.
pub async fn server_fn_caller<T>() -> Result<(ServerFnContext, T), crate::error::ApiError>
where
    T: axum::extract::FromRequestParts<AppState, Rejection = AppError>,
{
    let cx = server_fn_context()?;
    let caller = cx.extract::<T>().await.map_err(|err| cx.fail(err))?;
    Ok((cx, caller))
}

impl ServerFnContext {
    /// Runs one of the request extractors (e.g. [`auth::web::RecruiterUser`]) on the request,
    /// keeping its status-carrying error.
    pub async fn extract<T>(&self) -> Result<T, AppError>
    where
        T: axum::extract::FromRequestParts<AppState, Rejection = AppError>,
    {
        let mut parts = self.parts.clone();
        T::from_request_parts(&mut parts, &self.state).await
    }

    /// Sends `error`'s status with the response, and hands it on for the browser.
    pub fn fail(&self, error: AppError) -> crate::error::ApiError {
        self.response.set_status(error.status());
        error.into()
    }
}
