//! The axum application: operational endpoints, the Leptos pages and server functions, and the
//! middleware around them. `main.rs` only loads configuration and serves this router.

pub mod api;
pub mod health;
mod layers;
pub mod telemetry;

use app::backend::{AppState, security};
use app::ui::{App, shell};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use std::net::SocketAddr;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;

/// How long any request may take before the server answers 408 on its behalf.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || leptos::context::provide_context(state.clone())
    };
    let leptos_options = state.leptos_options.clone();
    let (api_routes, document) = api::routes();
    // The API's description at `/api/openapi.json`, and Swagger UI (bundled in the binary, so it
    // works offline) at `/docs`, under a policy of its own: Swagger UI sets inline styles.
    let docs = Router::new()
        .merge(SwaggerUi::new("/docs").url(api::DOCUMENT_PATH, document))
        .layer(middleware::map_response(docs_policy));

    // The pages, server functions and file fallback of Leptos: the code that uses reactive owners.
    let leptos = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(middleware::from_fn(own_reactive_owner));
    let (files_path, files) = site_files(&state.leptos_options);
    Router::new()
        .nest_service(&files_path, files)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(api_routes)
        .merge(docs)
        .merge(leptos)
        // Cookie-authenticated state changes must come from our own pages (CSRF).
        .layer(layers::SameOriginLayer {
            state: state.clone(),
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors(&state))
        .layer(layers::SecurityHeadersLayer {
            state: state.clone(),
        })
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(telemetry::request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CompressionLayer::new().compress_when(streams_stay_uncompressed()))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                )),
        )
        .with_state(state)
}

/// The app's routes, listed once per process. Listing them renders the app with resource loading
/// suspended process-wide (leptos_server's `SuppressResourceLoad`), and a resource that first runs
/// in that window waits forever: a page rendered meanwhile by another router in the same process
/// (the tests run many) never finished and was answered 408.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The site's files (wasm, js, css) at `/{site_pkg_dir}`. The site build (`.ci/dev`'s
/// `build_front`) writes a Brotli copy (quality 11) and a gzip copy (zopfli) of each next to it,
/// sent to browsers that accept those: smaller than compressing each response on the fly, which is
/// what happens without them. Copies older than their file (a later build without them) would
/// serve stale code, so then none of that kind are used.
fn site_files(options: &leptos::config::LeptosOptions) -> (String, ServeDir) {
    let dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let path = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    let mut files = ServeDir::new(&dir);
    let copies = [
        (
            "br",
            "Brotli",
            ServeDir::precompressed_br as fn(ServeDir) -> ServeDir,
        ),
        ("gz", "gzip", ServeDir::precompressed_gzip),
    ];
    for (extension, kind, serve_copies) in copies {
        match stale_copy(&dir, extension) {
            None => files = serve_copies(files),
            Some(copy) => tracing::warn!(
                file = %copy.display(),
                "a {kind} copy is older than its file: those copies are not used"
            ),
        }
    }
    (path, files)
}

/// A file in `dir` with the given `extension` that is older than the file it was made from (its
/// name without that extension), or whose file is gone.
fn stale_copy(dir: &std::path::Path, extension: &str) -> Option<std::path::PathBuf> {
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .find(
            |copy| match (modified(&copy.with_extension("")), modified(copy)) {
                (Some(file), Some(copy)) => file > copy,
                _ => true,
            },
        )
}

/// Runs a request as if Leptos's current reactive owner were local to it rather than to the
/// thread. Leptos keeps that owner in a thread-local, and a page render sets it to the page's
/// root and leaves it there when it waits (e.g. on the store). leptos_axum's file and server
/// function handlers make their owner a child of whatever is current: a file served while a page
/// waited on the same thread took over that page's pending status and headers, so the page went
/// out without its Content-Security-Policy and the browser refused to run its scripts.
async fn own_reactive_owner(request: Request, next: Next) -> Response {
    use leptos::prelude::Owner;
    /// Makes `owner` the thread's current owner, or leaves it none.
    fn make_current(owner: Option<&Owner>) {
        match owner {
            Some(owner) => owner.set(),
            None => {
                if let Some(current) = Owner::current() {
                    current.unset();
                }
            }
        }
    }
    let mut response = std::pin::pin!(next.run(request));
    // The owner this request left current when it last yielded (its page's root, if any).
    let mut own: Option<Owner> = None;
    std::future::poll_fn(|cx| {
        let outer = Owner::current();
        make_current(own.as_ref());
        let poll = response.as_mut().poll(cx);
        own = Owner::current();
        make_current(outer.as_ref());
        poll
    })
    .await
}

/// Compress as tower-http does by default (which already leaves server-sent events alone),
/// except the web UI's streamed server-function replies: a compressor would hold their pieces
/// back until it had enough bytes, and the stream would stop being one.
fn streams_stay_uncompressed() -> impl Predicate {
    DefaultPredicate::new().and(NotForContentType::const_new("application/octet-stream"))
}

async fn docs_policy(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(security::DOCS_POLICY),
    );
    response
}

/// Cross-origin access for the web UI's origin when it is served elsewhere (`FRONTEND_URL`),
/// with credentials; no other origin is allowed.
fn cors(state: &AppState) -> CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let origins: Vec<HeaderValue> = state
        .config
        .frontend_url
        .iter()
        .filter_map(|url| HeaderValue::from_str(url).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("x-total-count"),
        ])
        .allow_credentials(true)
}

/// The router as a service that records each connection's peer address (used by login
/// throttling).
pub fn app_service(state: AppState) -> IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router(state).into_make_service_with_connect_info::<SocketAddr>()
}

/// For `ListenerExt::tap_io` on every accepted connection: small frames (chat lines, live events,
/// the parts of a streamed page) go out at once. With Nagle's algorithm a write that follows an
/// unacknowledged one waits for the peer's delayed ACK, ~40 ms.
pub fn send_without_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!(error = %err, "could not set TCP_NODELAY");
    }
}

/// Resolves on SIGTERM or Ctrl-C, so in-flight requests can finish before the process exits.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}
