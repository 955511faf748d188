//! Grading under load and by hand: twenty hostile submissions graded at once stay inside the
//! sandbox's caps without stalling the server, and a recruiter's score overrides recompute the
//! totals (and can be taken back).

mod common;

use common::{TestApp, question_grade, spawn_app, spawn_app_configured};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn answer(app: &TestApp, token: &str, session: &str, question: &str, answer: Value) {
    let saved = app.answer(token, session, question, answer).await;
    assert_eq!(saved.status(), 200, "{question}");
}

#[tokio::test]
async fn twenty_infinite_loops_graded_at_once_are_all_stopped_and_the_server_keeps_answering() {
    // Two workers, as on the 2-core machines this runs on, whatever the host has.
    let app = spawn_app_configured(&[("GRADING_WORKERS", "2")], |_| {}).await;
    let (recruiter, candidate) = app.recruiter_and_candidate().await;
    let mut sessions = Vec::new();
    for i in 0..20 {
        let test = json!({
            "title": format!("Loop {i}"),
            "questions": [{ "id": "spin", "type": "coding", "prompt": "Return 1.",
                "function_name": "one", "test_cases": [{ "input": [], "expected": 1 }] }]
        });
        let template = app.publish(&recruiter, &test).await;
        let session = app.start(&candidate, &template).await;
        answer(
            &app,
            &candidate,
            &session,
            "spin",
            json!("function one() { while (true) {} }"),
        )
        .await;
        sessions.push(session);
    }

    let ended = Arc::new(AtomicUsize::new(0));
    let app = Arc::new(app);
    let gradings = tokio::spawn({
        let (app, candidate, sessions, ended) = (
            Arc::clone(&app),
            candidate.clone(),
            sessions.clone(),
            Arc::clone(&ended),
        );
        async move {
            join_all(sessions.iter().map(|session| {
                let (app, candidate, ended) = (&app, &candidate, &ended);
                async move {
                    let response = app.end(candidate, session).await;
                    ended.fetch_add(1, Ordering::SeqCst);
                    response
                }
            }))
            .await
        }
    });
    // While the gradings queue for the two workers, other requests are served at once.
    tokio::task::yield_now().await;
    for _ in 0..5 {
        assert_eq!(app.get("/healthz").await.status(), 200);
        let me = app
            .send(Method::GET, "/api/v1/auth/me", Some(&recruiter), None)
            .await;
        assert_eq!(me.status(), 200);
    }
    assert!(
        ended.load(Ordering::SeqCst) < 20,
        "the server answered only after every grading had finished"
    );

    for response in gradings.await.expect("gradings") {
        assert_eq!(response.status(), 200);
        let scores: Value = response.json().await.expect("json");
        assert_eq!(scores["accuracy"], 0.0, "{scores}");
    }
    for session in &sessions {
        let result = app.result(&recruiter, session).await;
        let test = &result["questions"][0]["grade"]["tests"][0];
        assert_eq!(test["passed"], false, "{result}");
        assert!(
            test["error"]
                .as_str()
                .unwrap_or_default()
                .contains("timed out"),
            "stopped by the time cap: {test}"
        );
    }
}

fn mixed_test() -> Value {
    json!({
        "title": "Mixed",
        "time_limit_minutes": 30,
        "weights": { "accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2 },
        "questions": [
            { "id": "add", "type": "coding", "prompt": "Add two numbers.", "function_name": "add",
              "test_cases": [{ "input": [1, 2], "expected": 3 }, { "input": [40, 2], "expected": 4242 }] },
            { "id": "one", "type": "multiple_choice", "prompt": "Pick b.",
              "options": ["a", "b", "c"], "correct": [1] },
            { "id": "many", "type": "multiple_choice", "prompt": "Pick a and c.",
              "options": ["a", "b", "c"], "correct": [0, 2] },
            { "id": "why", "type": "theory", "prompt": "What is a closure?",
              "reference_answer": "A function with its enclosing scope.", "rubric_keywords": ["closure", "scope"] }
        ]
    })
}

fn number(value: &Value) -> f64 {
    value.as_f64().expect("number")
}

#[tokio::test]
async fn a_recruiter_overrides_a_score_with_a_note_and_the_totals_follow() {
    let app = spawn_app().await;
    let (recruiter, candidate) = app.recruiter_and_candidate().await;
    let template = app.publish(&recruiter, &mixed_test()).await;
    let session = app.start(&candidate, &template).await;
    for (question, value) in [
        ("add", json!("function add(a, b) { return a + b; }")),
        ("one", json!([1])),
        ("many", json!([0])),
        ("why", json!("A closure keeps its scope.")),
    ] {
        answer(&app, &candidate, &session, question, value).await;
    }
    let url =
        |question: &str| format!("/api/v1/recruiter/result/{session}/question/{question}/override");
    let put = |token: Option<&str>, question: &str, body: Value| {
        let (app, url, token) = (&app, url(question), token.map(str::to_owned));
        async move {
            app.send(Method::PUT, &url, token.as_deref(), Some(&body))
                .await
        }
    };
    // Not before the attempt has ended.
    let early = put(
        Some(&recruiter),
        "many",
        json!({ "score": 100, "note": "ok" }),
    )
    .await;
    assert_eq!(early.status(), 400);
    assert_eq!(app.end(&candidate, &session).await.status(), 200);

    let before = app.result(&recruiter, &session).await;
    assert_eq!(question_grade(&before, "many")["score"], 0.0);
    let accuracy = number(&before["scores"]["accuracy"]);
    let (speed, wellness) = (
        number(&before["scores"]["speed_efficiency"]),
        number(&before["scores"]["prompt_wellness"]),
    );

    let saved = put(
        Some(&recruiter),
        "many",
        json!({ "score": 100, "note": "  Both readings of the question are fair.  " }),
    )
    .await;
    assert_eq!(saved.status(), 200);
    let after: Value = saved.json().await.expect("json");
    let many = question_grade(&after, "many");
    assert_eq!(many["score"], 0.0, "the grader's score is kept beside it");
    assert_eq!(many["override"]["score"], 100.0);
    assert_eq!(
        many["override"]["note"],
        "Both readings of the question are fair."
    );
    assert_eq!(many["override"]["by"], "boss@example.com");
    let new_accuracy = number(&after["scores"]["accuracy"]);
    assert!(
        (new_accuracy - (accuracy + 25.0)).abs() <= 0.01,
        "one of four questions from 0 to 100: {accuracy} → {new_accuracy}"
    );
    let expected_total = 0.6 * new_accuracy + 0.2 * speed + 0.2 * wellness;
    assert!((number(&after["scores"]["total_score"]) - expected_total).abs() <= 0.01);
    assert_eq!(after["scores"]["speed_efficiency"], speed);
    // Stored: the detail, the results list and the candidate's own view all agree.
    assert_eq!(app.result(&recruiter, &session).await, after);
    let listed: Value = app
        .send(
            Method::GET,
            "/api/v1/recruiter/results",
            Some(&recruiter),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["scores"], after["scores"]);

    // Two overrides at once on different questions: neither is lost.
    let (a, b) = tokio::join!(
        put(
            Some(&recruiter),
            "add",
            json!({ "score": 75, "note": "Off by one only" })
        ),
        put(
            Some(&recruiter),
            "why",
            json!({ "score": 90, "note": "Good enough" })
        ),
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let both = app.result(&recruiter, &session).await;
    for (question, score) in [("add", 75.0), ("why", 90.0), ("many", 100.0)] {
        assert_eq!(
            question_grade(&both, question)["override"]["score"],
            score,
            "{question}"
        );
    }

    // Bad input names the field and changes nothing.
    for (body, field) in [
        (json!({ "score": 101, "note": "x" }), "score"),
        (json!({ "score": -0.5, "note": "x" }), "score"),
        (json!({ "score": 50, "note": "   " }), "note"),
        (json!({ "score": 50, "note": "n".repeat(1_001) }), "note"),
        (json!({ "score": "high", "note": "x" }), "score"),
        (json!({ "note": "x" }), "score"),
    ] {
        let refused = put(Some(&recruiter), "one", body.clone()).await;
        assert_eq!(refused.status(), 422, "{body}");
        let problem: Value = refused.json().await.expect("json");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{body}: {problem}"
        );
    }
    assert_eq!(
        put(Some(&recruiter), "nope", json!({ "score": 1, "note": "x" }))
            .await
            .status(),
        404
    );
    app.register("recruiter", "rival@example.com").await;
    let rival = app.token("recruiter", "rival@example.com").await;
    assert_eq!(
        put(Some(&rival), "one", json!({ "score": 1, "note": "x" }))
            .await
            .status(),
        404
    );
    assert_eq!(
        put(Some(&candidate), "one", json!({ "score": 1, "note": "x" }))
            .await
            .status(),
        403
    );
    assert_eq!(
        put(None, "one", json!({ "score": 1, "note": "x" }))
            .await
            .status(),
        401
    );
    assert_eq!(app.result(&recruiter, &session).await, both);

    // Taking the overrides back restores the graded scores exactly.
    for question in ["add", "why", "many"] {
        let removed = app
            .send(Method::DELETE, &url(question), Some(&recruiter), None)
            .await;
        assert_eq!(removed.status(), 200);
    }
    let restored = app.result(&recruiter, &session).await;
    assert_eq!(restored, before);
}
