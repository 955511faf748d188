//! Hostile shapes of input on every kind of endpoint: bodies nested thousands deep, operator
//! objects where strings belong, and oversized bodies are refused with a 4xx naming the
//! problem — never a 5xx, never a query — and the server goes on answering.

mod common;

use common::spawn_app;
use reqwest::Method;
use serde_json::{Value, json};

/// `depth` arrays inside each other, as raw JSON text.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn deep_nesting_operator_objects_and_huge_bodies_are_refused_cleanly() {
    let app = spawn_app().await;
    let (recruiter, candidate) = app.recruiter_and_candidate().await;
    let template = app
        .publish(
            &recruiter,
            &json!({ "title": "T", "questions": [{ "id": "q", "type": "theory", "prompt": "Why?" }] }),
        )
        .await;
    let session = app.start(&candidate, &template).await;

    let endpoints = [
        ("/api/v1/auth/candidate/register".to_owned(), None),
        (
            "/api/v1/recruiter/test-template".to_owned(),
            Some(&recruiter),
        ),
        (
            format!("/api/v1/candidate/session/submit-answer/{session}"),
            Some(&candidate),
        ),
        (
            format!("/api/v1/candidate/llm-prompt/{session}"),
            Some(&candidate),
        ),
    ];
    for (path, token) in &endpoints {
        for body in [
            nested(50_000),
            format!("{{\"title\": {}}}", nested(5_000)),
            format!("{{\"answer\": {}, \"question_id\": \"q\"}}", nested(5_000)),
        ] {
            let mut request = app
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .body(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{path}: {status}");
            let problem: Value = response.json().await.expect("a JSON problem");
            assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
        let mut huge = app
            .client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024)));
        if let Some(token) = token {
            huge = huge.bearer_auth(token);
        }
        let huge = huge.send().await.expect("request");
        assert_eq!(huge.status(), 413, "{path}");
    }

    // Operator objects where strings belong are 422 naming the field, never a query.
    let register = app
        .post_json(
            "/api/v1/auth/candidate/register",
            &json!({ "email": { "$ne": "" }, "password": "long enough password" }),
        )
        .await;
    assert_eq!(register.status(), 422);
    let problem: Value = register.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("email"),
        "{problem}"
    );
    let asked = app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/llm-prompt/{session}"),
            Some(&candidate),
            Some(&json!({ "prompt": "hi", "question_id": { "$gt": "" } })),
        )
        .await;
    assert_eq!(asked.status(), 422);

    // Still serving, and nothing was spent or stored by the refusals.
    let view: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/candidate/session/{session}"),
            Some(&candidate),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["used_prompts"], 0);
    assert_eq!(view["answers"], json!([]));
}
