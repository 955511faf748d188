//! No secret ever reaches the logs: every log line written while accounts register and log in
//! (right and wrong passwords), tokens are used in headers, cookies and `?token=`, the assistant
//! calls a provider with an API key and fails, is captured and searched for each secret.

mod common;

use axum::routing::post;
use axum::{Json, Router};
use common::{PASSWORD, spawn_app_configured};
use futures::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where the subscriber writes: one buffer for the whole test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

const API_KEY: &str = "sk-test-NEVER-LOG-THIS-KEY-0123456789";
const SECRET_KEY: &str = "test-secret-key-that-is-long-enough-0123456789";
const WRONG_PASSWORD: &str = "wrong-password-NEVER-LOGGED";

/// A provider that fails every request, so the failure path (which logs) runs too.
async fn failing_provider() -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|Json(_): Json<Value>| async {
            (
                axum::http::StatusCode::UNAUTHORIZED,
                Json(json!({ "error": { "message": "invalid api key", "type": "auth" } })),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn tokens_passwords_and_keys_never_appear_in_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug,hyper=info,hyper_util=info,reqwest=info,h2=info,rustls=info")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let provider = failing_provider().await;
    let app = spawn_app_configured(
        &[
            ("LLM_BASE_URL", &provider),
            ("LLM_API_KEY", API_KEY),
            ("LLM_TIMEOUT_SECONDS", "2"),
        ],
        |_| {},
    )
    .await;
    let (recruiter, candidate) = app.recruiter_and_candidate().await;
    let wrong = app
        .post_form(
            "/api/v1/auth/candidate/login",
            &[
                ("username", "cand@example.com"),
                ("password", WRONG_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 400);
    let template = app
        .publish(
            &recruiter,
            &json!({ "title": "Logs", "questions": [{ "id": "q", "type": "theory",
                "prompt": "Why?", "reference_answer": "Because." }] }),
        )
        .await;
    let session = app.start(&candidate, &template).await;
    // The provider refuses: the assistant answers 502 and logs why.
    let asked = app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/llm-prompt/{session}"),
            Some(&candidate),
            Some(&json!({ "prompt": "What is a closure?" })),
        )
        .await;
    assert_eq!(asked.status(), 502);
    // A token in a cookie, in the query string of the socket, and a tampered one.
    let me = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", format!("assess_session={candidate}"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);
    let url = format!(
        "ws://{}/api/v1/candidate/ws/chat/{session}?token={candidate}",
        app.addr
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            json!({ "message": "How long do I have?" }).to_string(),
        ))
        .await
        .expect("send");
    let tampered = format!("{}x", &candidate[..candidate.len() - 1]);
    let refused = app
        .send(Method::GET, "/api/v1/auth/me", Some(&tampered), None)
        .await;
    assert_eq!(refused.status(), 401);
    assert_eq!(app.end(&candidate, &session).await.status(), 200);
    drop(socket);

    let logs = captured.text();
    assert!(
        logs.contains("request") && logs.contains("/api/v1/auth/me"),
        "the capture works: {logs}"
    );
    assert!(logs.contains("session graded"), "{logs}");
    let signature = |token: &str| token.rsplit('.').next().unwrap_or_default().to_owned();
    for (name, secret) in [
        ("password", PASSWORD.to_owned()),
        ("wrong password", WRONG_PASSWORD.to_owned()),
        ("API key", API_KEY.to_owned()),
        ("signing key", SECRET_KEY.to_owned()),
        ("candidate token", candidate.clone()),
        ("recruiter token", recruiter.clone()),
        ("token signature", signature(&candidate)),
        ("tampered token", tampered.clone()),
    ] {
        assert!(
            !logs.contains(&secret),
            "the {name} appears in the logs:\n{logs}"
        );
    }
}
