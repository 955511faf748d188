use app::backend::AppState;
use app::backend::config::Config;
use axum::serve::ListenerExt;
use std::process::ExitCode;
use std::time::Duration;

/// How often sessions past their deadline are ended and graded (they also are on any access).
const SWEEP_EVERY: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    keep_large_allocations_out_of_arenas();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(serve()),
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold each time a large block is freed, after which large blocks
/// (every login's 19 MiB argon2id buffer, on whichever blocking thread runs it) come from
/// per-thread arenas that keep the memory: measured with the benchmark suite, the server held
/// 5 GB after a few hundred logins. A fixed threshold keeps blocks of 1 MiB and more in their own
/// mappings, given back to the system when freed (figures in docs/BENCHMARKS.md).
fn keep_large_allocations_out_of_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

async fn serve() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("warning: ignoring .env: {err}");
    }
    server::telemetry::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let (config, warnings) = Config::from_env().map_err(|e| format!("configuration error: {e}"))?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let mut leptos_options = leptos::config::get_configuration(None)
        .map_err(|e| format!("configuration error (LEPTOS_*): {e}"))?
        .leptos_options;
    if leptos_options.output_name.is_empty() {
        leptos_options.output_name = "assess".into();
    }
    leptos_options.site_addr = config.site_addr;
    let addr = config.site_addr;

    let state = AppState::open(config, leptos_options)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    app::backend::demo::seed_if_empty(&state)
        .await
        .map_err(|e| format!("cannot create the demo data: {e}"))?;
    app::backend::sessions::spawn_sweeper(state.clone(), SWEEP_EVERY);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (LEPTOS_SITE_ADDR): {e}"))?;
    tracing::info!(%addr, store = state.store.engine, "listening on http://{addr}");

    let listener = listener.tap_io(server::send_without_delay);
    axum::serve(listener, server::app_service(state))
        .with_graceful_shutdown(server::shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}
