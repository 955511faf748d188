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
