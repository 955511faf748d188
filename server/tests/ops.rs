//! Operations: health, readiness, request ids, compression, the page shell and 404s.

mod common;

use app::backend::store::{Health, StoreError, StoreResult};
use async_trait::async_trait;
use common::{spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test]
async fn healthz_says_the_process_is_up() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
}

#[tokio::test]
async fn readyz_is_200_when_the_store_answers() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ready", "store": "sqlite" })
    );
}

struct Unreachable;

#[async_trait]
impl Health for Unreachable {
    async fn ping(&self) -> StoreResult<()> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

struct Hangs;

#[async_trait]
impl Health for Hangs {
    async fn ping(&self) -> StoreResult<()> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn readyz_is_503_with_a_detail_when_the_store_fails_or_hangs() {
    let failing = spawn_app_with(|state| state.store.health = Arc::new(Unreachable)).await;
    let hanging = spawn_app_with(|state| state.store.health = Arc::new(Hangs)).await;
    for app in [failing, hanging] {
        let response = app.get("/readyz").await;
        assert_eq!(response.status(), 503);
        let body: Value = response.json().await.unwrap();
        let detail = body["detail"].as_str().expect("detail");
        assert!(detail.contains("temporarily unavailable"), "{detail}");
        assert!(
            !detail.contains("connection refused"),
            "internals stay in the logs: {detail}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_client_supplied_one() {
    let app = spawn_app().await;
    let generated = app.get("/healthz").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let other = app.get("/healthz").await;
    assert_ne!(
        other.headers()["x-request-id"].to_str().unwrap(),
        id,
        "a new id per request"
    );

    let supplied = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(supplied.headers()["x-request-id"], "trace-me-123");
}

#[tokio::test]
async fn the_home_page_is_server_rendered_with_the_hydration_bundle() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Technical assessments where AI is allowed"),
        "landing copy"
    );
    assert!(html.contains("/pkg/assess.js"), "hydration script");
    assert!(html.contains("/pkg/assess.css"), "stylesheet");
    assert!(
        html.contains("5 of 5 prompts left"),
        "the meter renders on the server too"
    );
    assert!(
        html.contains(r#"<leptos-island data-component="PromptMeterPreview_"#),
        "the meter is the page's one island"
    );
    assert_eq!(html.matches("<leptos-island").count(), 1);
}

#[tokio::test]
async fn unknown_pages_render_the_not_found_page_with_404() {
    let app = spawn_app().await;
    let response = app.get("/definitely/not/here").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    for encoding in ["gzip", "br"] {
        let response = app
            .client
            .get(app.url("/"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding);
    }
}

/// Every `nonce="…"` attribute in the page.
fn nonces(html: &str) -> Vec<&str> {
    html.split("nonce=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_every_response_the_protective_headers() {
    let app = spawn_app().await;
    let first = app.get("/").await;
    let policy = first.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for header in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(first.headers()[header.0], header.1, "{}", header.0);
    }
    assert!(
        first.headers().get("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
    let html = first.text().await.unwrap();
    let found = nonces(&html);
    assert!(!found.is_empty(), "the inline hydration script has a nonce");
    let nonce = found[0];
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(found.iter().all(|n| *n == nonce), "{found:?}");
    assert!(
        policy.contains(&format!(
            "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval';"
        )),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("'unsafe-eval'") && !policy.contains("'unsafe-inline'"));
    // A new nonce for every response.
    let again = app.get("/").await;
    let status = again.status();
    let again = again.text().await.unwrap();
    let again_nonces = nonces(&again);
    assert!(
        status == 200 && !again_nonces.is_empty(),
        "a second page load answered {status}: {again}"
    );
    assert_ne!(again_nonces[0], nonce);

    // Not a page: nothing may run or frame it.
    for path in ["/api/v1/auth/me", "/healthz", "/api/v1/no-such-route"] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }

    // Behind an https proxy, HSTS.
    let proxied = app
        .client
        .get(app.url("/healthz"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        proxied.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

/// A site root for a test app: `files` (path, content) written under a temporary directory.
fn site_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = site.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    site
}

async fn spawn_app_serving(site: &tempfile::TempDir) -> common::TestApp {
    let root = site.path().display().to_string();
    spawn_app_with(|state| state.leptos_options.site_root = root.into()).await
}

/// A page that waits on the store and the files the browser fetches meanwhile, all served on one
/// thread (`#[tokio::test]` runs one): each response keeps its own headers. Leptos leaves a
/// waiting page's reactive owner as the thread's current one, and its file handler (which serves
/// what is outside `/pkg`) used to adopt it and carry off the page's pending headers, so the page
/// went out without its policy and the browser refused to run its scripts.
#[tokio::test]
async fn files_served_while_a_page_renders_leave_the_page_its_own_headers() {
    let css: &[u8] = b"main { margin: 0 }";
    let robots: &[u8] = b"User-agent: *";
    let site = site_with(&[("pkg/probe.css", css), ("robots.txt", robots)]);
    let app = spawn_app_serving(&site).await;
    app.register("candidate", "pages@example.com").await;
    let token = app.token("candidate", "pages@example.com").await;
    let cookie = format!("assess_session={token}");

    for round in 0..10 {
        let page = app.get_with_cookie("/candidate", &cookie);
        let files = futures::future::join_all(
            ["/pkg/probe.css", "/robots.txt"]
                .into_iter()
                .cycle()
                .take(6)
                .map(|path| app.get(path)),
        );
        let (page, files) = tokio::join!(page, files);
        assert_eq!(page.status(), 200, "round {round}");
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let html = page.text().await.unwrap();
        assert!(html.contains("pages@example.com"), "round {round}: {html}");
        let nonce = nonces(&html)
            .first()
            .copied()
            .unwrap_or_default()
            .to_owned();
        assert!(
            !nonce.is_empty() && policy.contains(&format!("'nonce-{nonce}'")),
            "round {round}: the page's policy {policy:?} admits its scripts ({nonce:?})"
        );
        for file in files {
            assert_eq!(file.status(), 200, "round {round}");
            assert_eq!(
                file.headers()["content-security-policy"],
                "default-src 'none'; frame-ancestors 'none'",
                "round {round}: a file carries no page's policy"
            );
            let body = file.bytes().await.unwrap();
            assert!(body == css || body == robots, "round {round}: {body:?}");
        }
    }
}

/// The site build writes a Brotli and a gzip copy of each site file: browsers get the copy of an
/// encoding they accept, and a file without copies is compressed on the fly. Copies older than
/// their file (the site rebuilt without them) would be stale code: then none are used.
#[tokio::test]
async fn site_files_come_from_their_compressed_copies_only_while_these_are_fresh() {
    let script = "let answer = 42;\n".repeat(200);
    let brotli_copy: &[u8] = b"the brotli copy";
    let gzip_copy: &[u8] = b"the gzip copy";
    let site = site_with(&[
        ("pkg/app.js", script.as_bytes()),
        ("pkg/app.js.br", brotli_copy),
        ("pkg/app.js.gz", gzip_copy),
        ("pkg/other.js", script.as_bytes()),
    ]);
    let fetch = |app: &common::TestApp, path: &'static str, encoding: &'static str| {
        app.client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
    };
    /// The response's encoding and body, which must be `script` compressed on the fly (not a copy).
    async fn on_the_fly(response: reqwest::Response, script: &str) -> String {
        assert_eq!(response.status(), 200);
        let encoding = response.headers()["content-encoding"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = response.bytes().await.unwrap();
        assert!(!body.is_empty() && body.len() < script.len(), "{body:?}");
        assert!(!body.starts_with(b"the "), "{body:?}");
        encoding
    }

    let app = spawn_app_serving(&site).await;
    for (encoding, served, copy) in [("gzip, br", "br", brotli_copy), ("gzip", "gzip", gzip_copy)] {
        let response = fetch(&app, "/pkg/app.js", encoding).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], served);
        assert_eq!(response.bytes().await.unwrap(), copy);
    }
    let plain = fetch(&app, "/pkg/app.js", "identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), script);
    // A file without copies.
    let gzip = fetch(&app, "/pkg/other.js", "gzip").await.unwrap();
    assert_eq!(on_the_fly(gzip, &script).await, "gzip");

    // The file rebuilt after its copies were made.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(site.path().join("pkg/app.js"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let app = spawn_app_serving(&site).await;
    let brotli = fetch(&app, "/pkg/app.js", "br").await.unwrap();
    assert_eq!(on_the_fly(brotli, &script).await, "br");
    let gzip = fetch(&app, "/pkg/app.js", "gzip").await.unwrap();
    assert_eq!(on_the_fly(gzip, &script).await, "gzip");
}

#[tokio::test]
async fn with_the_store_locked_away_readiness_and_writes_are_503_and_recover_without_a_restart() {
    use rusqlite::Connection;
    let app = common::spawn_app().await;
    let register = |email: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/auth/candidate/register",
                &json!({ "email": email, "password": common::PASSWORD }),
            )
            .await
        }
    };
    assert_eq!(register("first@example.com").await.status(), 201);

    // Another process holds the database's write lock (as a stuck maintenance job would):
    // every write of the server waits out its busy time-out, then gives up.
    let intruder = Connection::open(app.data_dir().join("assess.db")).expect("open");
    intruder.execute_batch("BEGIN EXCLUSIVE;").expect("lock");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    let refused = register("second@example.com").await;
    assert_eq!(refused.status(), 503);
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("temporarily unavailable"),
        "{problem}"
    );
    // Meanwhile the process is up and reads are served.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let token = app.token("candidate", "first@example.com").await;
    assert_eq!(
        app.get_with_token("/api/v1/auth/me", &token).await.status(),
        200
    );

    intruder.execute_batch("ROLLBACK;").expect("unlock");
    drop(intruder);
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(
        register("second@example.com").await.status(),
        201,
        "recovered without a restart, and the refused attempt left nothing behind"
    );
}
