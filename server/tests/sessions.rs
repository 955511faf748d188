//! Candidates taking tests over REST, and recruiters reading the results: every status, ownership,
//! resume, deadlines, idempotent ends, integrity events, pagination and CSV.

mod common;

use app::backend::store::{NewSession, StartOutcome, now};
use app::model::Id;
use common::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

fn mixed_test() -> Value {
    json!({
        "title": "Mixed",
        "time_limit_minutes": 30,
        "default_prompt_budget": 4,
        "weights": { "accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2 },
        "questions": [
            { "id": "add", "type": "coding", "prompt": "Add two numbers.",
              "context": "function add(a, b) {\n}", "function_name": "add",
              "test_cases": [{ "input": [1, 2], "expected": 3 }, { "input": [40, 2], "expected": 4242 }],
              "examples": [{ "input": [0, 0], "expected": 0 }] },
            { "id": "one", "type": "multiple_choice", "prompt": "Pick b.",
              "options": ["a", "b", "c"], "correct": [1] },
            { "id": "many", "type": "multiple_choice", "prompt": "Pick a and c.",
              "options": ["a", "b", "c"], "correct": [0, 2] },
            { "id": "why", "type": "theory", "prompt": "What is a closure?",
              "reference_answer": "HIDDEN-REFERENCE closure", "rubric_keywords": ["closure", "scope"] }
        ]
    })
}

struct World {
    app: TestApp,
    recruiter: String,
    candidate: String,
    candidate_id: String,
    template_id: String,
}

async fn world_with(test: Value) -> World {
    let app = spawn_app().await;
    app.register("recruiter", "boss@example.com").await;
    let recruiter = app.token("recruiter", "boss@example.com").await;
    let account = app.register("candidate", "cand@example.com").await;
    let candidate = app.token("candidate", "cand@example.com").await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/recruiter/test-template",
            Some(&recruiter),
            Some(&test),
        )
        .await;
    assert_eq!(created.status(), 201);
    let template: Value = created.json().await.unwrap();
    World {
        app,
        recruiter,
        candidate,
        candidate_id: account["id"].as_str().unwrap().to_owned(),
        template_id: template["id"].as_str().unwrap().to_owned(),
    }
}

impl World {
    async fn start(&self) -> Value {
        let response = self
            .app
            .send(
                Method::POST,
                &format!("/api/v1/candidate/session/start/{}", self.template_id),
                Some(&self.candidate),
                None,
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn answer(
        &self,
        token: &str,
        session: &str,
        question: &str,
        answer: Value,
    ) -> reqwest::Response {
        self.app
            .send(
                Method::POST,
                &format!("/api/v1/candidate/session/submit-answer/{session}"),
                Some(token),
                Some(&json!({ "question_id": question, "answer": answer })),
            )
            .await
    }

    /// The candidate's GET of `path`, as JSON.
    async fn get(&self, path: &str) -> Value {
        let response = self
            .app
            .send(Method::GET, path, Some(&self.candidate), None)
            .await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    async fn end(&self, token: &str, session: &str) -> reqwest::Response {
        self.app
            .send(
                Method::POST,
                &format!("/api/v1/candidate/session/end/{session}"),
                Some(token),
                None,
            )
            .await
    }

    /// The candidate's test page for `session` as the web UI gets it; `query` is appended to
    /// its address.
    async fn test_page(&self, session: &str, query: &str) -> String {
        let path = format!("/candidate/session/{session}{query}");
        self.page(&self.candidate, &path).await
    }

    /// Page `path` as the web UI gets it, signed in by the session cookie holding `token`.
    async fn page(&self, token: &str, path: &str) -> String {
        let cookie = format!("{}={token}", app::backend::auth::web::SESSION_COOKIE);
        let response = self.app.get_with_cookie(path, &cookie).await;
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }
}

#[tokio::test]
async fn a_candidate_takes_a_test_from_start_to_scores_and_the_recruiter_sees_the_result() {
    let w = world_with(mixed_test()).await;
    let started = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/session/start/{}", w.template_id),
            Some(&w.candidate),
            None,
        )
        .await;
    assert_eq!(started.status(), 200);
    let text = started.text().await.unwrap();
    for hidden in [
        "test_cases",
        "4242",
        "correct",
        "HIDDEN-REFERENCE",
        "rubric_keywords",
    ] {
        assert!(
            !text.contains(hidden),
            "`{hidden}` sent to the candidate: {text}"
        );
    }
    let session: Value = serde_json::from_str(&text).unwrap();
    let id = session["session_id"].as_str().unwrap().to_owned();
    assert_eq!(session["prompt_budget"], 4);
    assert_eq!(session["resumed"], false);
    assert_eq!(session["time_limit_minutes"], 30);
    assert!(session["start_time"].is_string() && session["deadline"].is_string());
    let questions = session["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 4);
    assert_eq!(questions[0]["type"], "coding");
    assert_eq!(questions[0]["context"], "function add(a, b) {\n}");
    assert_eq!(questions[0]["examples"][0]["expected"], 0);
    assert_eq!(questions[1]["options"], json!(["a", "b", "c"]));
    assert_eq!(questions[1]["multiple"], false);
    assert_eq!(questions[2]["multiple"], true);
    assert_eq!(questions[3]["type"], "theory");

    let c = &w.candidate;
    for (question, answer) in [
        ("add", json!("function add(a, b) { return a + b; }")),
        ("one", json!(1)),
        ("many", json!([2, 0])),
        (
            "why",
            json!("A closure keeps the variables of its enclosing scope."),
        ),
    ] {
        let response = w.answer(c, &id, question, answer).await;
        assert_eq!(response.status(), 200, "{question}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "message": "Answer submitted successfully" }));
    }
    // A later save replaces the earlier one.
    assert_eq!(w.answer(c, &id, "one", json!([0])).await.status(), 200);
    assert_eq!(w.answer(c, &id, "one", json!(1)).await.status(), 200);

    let resumed: Value = w
        .app
        .send(
            Method::GET,
            &format!("/api/v1/candidate/session/{id}"),
            Some(c),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["answers"].as_array().unwrap().len(), 4);
    let saved_one = resumed["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["question_id"] == "one")
        .unwrap();
    assert_eq!(saved_one["answer"], json!([1]));
    assert!(resumed["time_left_seconds"].as_i64().unwrap() > 29 * 60);
    assert_eq!(resumed["status"], "in_progress");

    let ended = w.end(c, &id).await;
    assert_eq!(ended.status(), 200);
    let scores: Value = ended.json().await.unwrap();
    // Coding passes 1 of 2 hidden tests (the second expects 4242): 50. Both choices: 100 each.
    // Theory covers both keywords (0.7) and 1 of the reference's 3 words (0.3 / 3): 80.
    assert_eq!(scores["accuracy"], 82.5, "{scores}");
    assert_eq!(scores["prompt_wellness"], 100.0);
    assert!(
        scores["speed_efficiency"].as_f64().unwrap() > 99.0,
        "{scores}"
    );
    let expected_total =
        0.6 * 82.5 + 0.2 * scores["speed_efficiency"].as_f64().unwrap() + 0.2 * 100.0;
    assert!(
        (scores["total_score"].as_f64().unwrap() - expected_total).abs() < 0.011,
        "{scores}"
    );
    let again: Value = w.end(c, &id).await.json().await.unwrap();
    assert_eq!(again, scores, "ending again returns the same scores");

    // The session's test is in memory from the answers above; its end is still seen.
    let late = w.answer(c, &id, "one", json!(0)).await;
    assert_eq!(late.status(), 400);
    let body: Value = late.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("ended"), "{body}");
    // An ended session says so before it finds fault with the answer, …
    let late_and_wrong = w.answer(c, &id, "one", json!("text")).await;
    assert_eq!(late_and_wrong.status(), 400);
    // … but not before it finds that the question is not in the test.
    assert_eq!(w.answer(c, &id, "nope", json!(0)).await.status(), 404);

    let mine: Value = w
        .app
        .send(Method::GET, "/api/v1/candidate/sessions", Some(c), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["status"], "completed");
    assert_eq!(mine[0]["scores"], scores);
    assert_eq!(mine[0]["title"], "Mixed");

    let results = w
        .app
        .send(
            Method::GET,
            "/api/v1/recruiter/results",
            Some(&w.recruiter),
            None,
        )
        .await;
    assert_eq!(results.status(), 200);
    assert_eq!(results.headers()["x-total-count"], "1");
    let results: Value = results.json().await.unwrap();
    assert_eq!(results[0]["session_id"], id.as_str());
    assert_eq!(results[0]["candidate_email"], "cand@example.com");
    assert_eq!(results[0]["scores"], scores);

    let detail: Value = w
        .app
        .send(
            Method::GET,
            &format!("/api/v1/recruiter/result/{id}"),
            Some(&w.recruiter),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let coding = &detail["questions"][0];
    assert_eq!(
        coding["question"]["test_cases"][1]["expected"], 4242,
        "the recruiter sees hidden tests"
    );
    assert_eq!(coding["grade"]["score"], 50.0);
    assert_eq!(coding["grade"]["tests"][0]["passed"], true);
    assert_eq!(coding["grade"]["tests"][1]["passed"], false);
    assert_eq!(
        coding["grade"]["tests"][1]["error"],
        "expected 4242, got 42"
    );
    assert_eq!(detail["questions"][1]["answer"]["answer"], json!([1]));
    assert_eq!(detail["status"], "completed");

    let csv = w
        .app
        .send(
            Method::GET,
            &format!(
                "/api/v1/recruiter/results.csv?template_id={}",
                w.template_id
            ),
            Some(&w.recruiter),
            None,
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("session_id,template,candidate_email,"));
    assert!(
        lines[1].contains("cand@example.com") && lines[1].contains(",82.50,"),
        "{csv}"
    );
}

#[tokio::test]
async fn starting_checks_role_id_and_publication_and_resumes_an_attempt_in_progress() {
    let w = world_with(mixed_test()).await;
    let path = format!("/api/v1/candidate/session/start/{}", w.template_id);
    assert_eq!(
        w.app.send(Method::POST, &path, None, None).await.status(),
        401
    );
    assert_eq!(
        w.app
            .send(Method::POST, &path, Some(&w.recruiter), None)
            .await
            .status(),
        403
    );
    let malformed = w
        .app
        .send(
            Method::POST,
            "/api/v1/candidate/session/start/nope",
            Some(&w.candidate),
            None,
        )
        .await;
    assert_eq!(malformed.status(), 400);
    let unknown = format!(
        "/api/v1/candidate/session/start/{}",
        app::backend::store::new_id()
    );
    assert_eq!(
        w.app
            .send(Method::POST, &unknown, Some(&w.candidate), None)
            .await
            .status(),
        404
    );

    let mut draft = mixed_test();
    draft["status"] = json!("draft");
    let draft: Value = w
        .app
        .send(
            Method::POST,
            "/api/v1/recruiter/test-template",
            Some(&w.recruiter),
            Some(&draft),
        )
        .await
        .json()
        .await
        .unwrap();
    let draft_path = format!(
        "/api/v1/candidate/session/start/{}",
        draft["id"].as_str().unwrap()
    );
    assert_eq!(
        w.app
            .send(Method::POST, &draft_path, Some(&w.candidate), None)
            .await
            .status(),
        404
    );

    let first = w.start().await;
    let second = w.start().await;
    assert_eq!(first["session_id"], second["session_id"]);
    assert_eq!(second["resumed"], true);

    // Archiving the template does not disturb the attempt in progress.
    w.app
        .send(
            Method::POST,
            &format!("/api/v1/recruiter/test-template/{}/archive", w.template_id),
            Some(&w.recruiter),
            None,
        )
        .await;
    let id = first["session_id"].as_str().unwrap();
    assert_eq!(
        w.answer(&w.candidate, id, "one", json!(1)).await.status(),
        200
    );
    assert_eq!(
        w.app
            .send(Method::POST, &path, Some(&w.candidate), None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn answers_are_checked_and_other_candidates_cannot_touch_a_session() {
    let w = world_with(mixed_test()).await;
    let session = w.start().await;
    let id = session["session_id"].as_str().unwrap();
    let c = &w.candidate;

    assert_eq!(w.answer(c, id, "nope", json!("x")).await.status(), 404);
    assert_eq!(
        w.answer(
            c,
            &app::backend::store::new_id().to_string(),
            "one",
            json!(1)
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        w.answer(c, "not-an-id", "one", json!(1)).await.status(),
        400
    );
    for (question, answer, field_hint) in [
        ("one", json!("b"), "option index"),
        ("one", json!(7), "numbered 0 to 2"),
        ("one", json!([0, 1]), "single option"),
        ("add", json!(42), "text"),
        ("add", json!({ "$ne": "" }), "text"),
        ("why", json!("x".repeat(50_001)), "at most 50000"),
    ] {
        let response = w.answer(c, id, question, answer).await;
        assert_eq!(response.status(), 422, "{question}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(field_hint),
            "{body}"
        );
    }
    let huge = w.answer(c, id, "why", json!("x".repeat(1_100_000))).await;
    assert_eq!(huge.status(), 413);
    let missing = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/session/submit-answer/{id}"),
            Some(c),
            Some(&json!({ "answer": "x" })),
        )
        .await;
    assert_eq!(missing.status(), 422);

    w.app.register("candidate", "other@example.com").await;
    let other = w.app.token("candidate", "other@example.com").await;
    assert_eq!(w.answer(&other, id, "one", json!(1)).await.status(), 404);
    assert_eq!(w.end(&other, id).await.status(), 404);
    let read = w
        .app
        .send(
            Method::GET,
            &format!("/api/v1/candidate/session/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(read.status(), 404);
    let event = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/session/{id}/integrity-event"),
            Some(&other),
            Some(&json!({ "kind": "paste" })),
        )
        .await;
    assert_eq!(event.status(), 404);
    let theirs: Value = w
        .app
        .send(
            Method::GET,
            "/api/v1/candidate/sessions",
            Some(&other),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, json!([]));
    // The recruiter cannot use candidate routes at all.
    assert_eq!(
        w.answer(&w.recruiter, id, "one", json!(1)).await.status(),
        403
    );
    assert_eq!(w.end(&w.recruiter, id).await.status(), 403);
}

/// A session of the world's template, started by the candidate with a deadline already passed.
async fn overdue_session(w: &World) -> Id {
    let template = w
        .app
        .state
        .store
        .templates
        .find(&Id::parse(&w.template_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let outcome = w
        .app
        .state
        .store
        .sessions
        .start(NewSession {
            candidate_id: Id::parse(&w.candidate_id).unwrap(),
            candidate_email: "cand@example.com".into(),
            template_id: template.id.clone(),
            template_version: template.version,
            recruiter_id: template.owner_id.clone(),
            prompt_budget: 4,
            deadline: now() - chrono::Duration::seconds(1),
            content: template.content,
        })
        .await
        .unwrap();
    match outcome {
        StartOutcome::Started(s) => s.id,
        StartOutcome::Existing(s) => panic!("already running: {}", s.id),
    }
}

#[tokio::test]
async fn a_resumed_start_returns_the_attempt_as_it_stands() {
    let w = world_with(mixed_test()).await;
    let first = w.start().await;
    let id = first["session_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/candidate/session/{id}");
    let same_as_its_state = |resumed: &Value, state: &Value| {
        assert_eq!(resumed["resumed"], true);
        for field in [
            "session_id",
            "template_id",
            "title",
            "description",
            "status",
            "start_time",
            "deadline",
            "ended_at",
            "time_limit_minutes",
            "prompt_budget",
            "used_prompts",
            "block_copy_paste",
            "questions",
            "answers",
            "scores",
            "assistant",
        ] {
            assert_eq!(resumed[field], state[field], "{field}");
        }
        assert!(resumed["time_left_seconds"].as_i64().unwrap() > 29 * 60);
    };
    // Resumed before anything else read the session, then after an answer was saved.
    let resumed = w.start().await;
    same_as_its_state(&resumed, &w.get(&path).await);
    assert_eq!(resumed["questions"], first["questions"]);
    assert_eq!(
        w.answer(&w.candidate, &id, "one", json!(1)).await.status(),
        200
    );
    let resumed = w.start().await;
    same_as_its_state(&resumed, &w.get(&path).await);
    assert_eq!(resumed["answers"][0]["question_id"], "one");
    assert_eq!(resumed["answers"][0]["answer"], json!([1]));
}

#[tokio::test]
async fn starting_over_an_overdue_attempt_scores_it_and_begins_a_fresh_one() {
    let w = world_with(mixed_test()).await;
    let id = overdue_session(&w).await;
    let fresh = w.start().await;
    assert_ne!(fresh["session_id"], id.as_str());
    assert_eq!(fresh["resumed"], false);
    assert_eq!(fresh["status"], "in_progress");
    // The start ended and graded the overdue attempt itself.
    let overdue = w.app.state.store.sessions.find(&id).await.unwrap().unwrap();
    assert_eq!(overdue.status, app::session::SessionStatus::Completed);
    assert!(overdue.grading.is_some(), "graded");
}

#[tokio::test]
async fn past_the_deadline_nothing_is_accepted_and_the_session_is_scored() {
    let w = world_with(mixed_test()).await;
    let id = overdue_session(&w).await;
    let late = w.answer(&w.candidate, id.as_str(), "one", json!(1)).await;
    assert_eq!(late.status(), 400);
    let body: Value = late.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("ended"), "{body}");
    let state: Value = w
        .app
        .send(
            Method::GET,
            &format!("/api/v1/candidate/session/{id}"),
            Some(&w.candidate),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["status"], "completed", "ended lazily on access");
    assert_eq!(state["time_left_seconds"], 0);
    assert_eq!(state["scores"]["accuracy"], 0.0, "nothing was answered");
    let ended: Value = w.end(&w.candidate, id.as_str()).await.json().await.unwrap();
    assert_eq!(ended, state["scores"]);

    // Starting again after an expired attempt begins a fresh one.
    let fresh = w.start().await;
    assert_ne!(fresh["session_id"], id.as_str());
    assert_eq!(fresh["resumed"], false);
}

#[tokio::test]
async fn the_sweep_ends_and_scores_sessions_nobody_touches() {
    let w = world_with(mixed_test()).await;
    let id = overdue_session(&w).await;
    let settled = app::backend::sessions::sweep(&w.app.state).await.unwrap();
    assert_eq!(settled, 1);
    let stored = w.app.state.store.sessions.find(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, app::session::SessionStatus::Completed);
    assert!(
        stored.ended_at.unwrap() <= stored.deadline,
        "ended at the deadline, not at the sweep"
    );
    assert!(stored.grading.is_some());
    assert_eq!(
        app::backend::sessions::sweep(&w.app.state).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn integrity_events_are_recorded_limited_and_shown_to_the_recruiter() {
    let w = world_with(mixed_test()).await;
    let session = w.start().await;
    let id = session["session_id"].as_str().unwrap();
    let path = format!("/api/v1/candidate/session/{id}/integrity-event");
    for body in [
        json!({ "kind": "tab_hidden" }),
        json!({ "kind": "paste", "detail": "120 characters" }),
    ] {
        let response = w
            .app
            .send(Method::POST, &path, Some(&w.candidate), Some(&body))
            .await;
        assert_eq!(response.status(), 200);
    }
    let bad = w
        .app
        .send(
            Method::POST,
            &path,
            Some(&w.candidate),
            Some(&json!({ "kind": "screenshot" })),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let long = json!({ "kind": "copy", "detail": "x".repeat(501) });
    assert_eq!(
        w.app
            .send(Method::POST, &path, Some(&w.candidate), Some(&long))
            .await
            .status(),
        422
    );

    let mut limited = None;
    for _ in 0..70 {
        let response = w
            .app
            .send(
                Method::POST,
                &path,
                Some(&w.candidate),
                Some(&json!({ "kind": "window_blur" })),
            )
            .await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let limited = limited.expect("rate limited within 70 events");
    assert!(limited.headers().contains_key("retry-after"));

    w.end(&w.candidate, id).await;
    let after = w
        .app
        .send(
            Method::POST,
            &path,
            Some(&w.candidate),
            Some(&json!({ "kind": "copy" })),
        )
        .await;
    assert_eq!(after.status(), 400);
    let detail: Value = w
        .app
        .send(
            Method::GET,
            &format!("/api/v1/recruiter/result/{id}"),
            Some(&w.recruiter),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let events = detail["integrity_events"].as_array().unwrap();
    assert_eq!(events.len(), 60, "the 60 accepted events");
    assert_eq!(events[0]["kind"], "tab_hidden");
    assert_eq!(events[1]["kind"], "paste");
    assert_eq!(events[1]["detail"], "120 characters");
    assert!(events[0]["timestamp"].is_string());
}

#[tokio::test]
async fn results_are_private_to_the_template_owner_and_paginated() {
    let w = world_with(mixed_test()).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let session = w.start().await;
        let id = session["session_id"].as_str().unwrap().to_owned();
        assert_eq!(w.end(&w.candidate, &id).await.status(), 200);
        ids.push(id);
    }
    let page = |query: &'static str, token: String| {
        let app = &w.app;
        async move {
            app.send(
                Method::GET,
                &format!("/api/v1/recruiter/results{query}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    let second = page("?page=2&per_page=2", w.recruiter.clone()).await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["x-total-count"], "3");
    assert_eq!(second.headers()["content-type"], "application/json");
    let second: Value = second.json().await.unwrap();
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert_eq!(
        second[0]["session_id"],
        ids[0].as_str(),
        "newest first: the oldest is last"
    );
    for (bad, field) in [
        ("?per_page=0", "per_page"),
        ("?per_page=101", "per_page"),
        ("?page=0", "page"),
        ("?page=1000001", "page"),
        ("?page=abc", "page"),
        // A malformed filter is an invalid parameter like the others (not a malformed path).
        ("?template_id=zzz", "template_id"),
    ] {
        let response = page(bad, w.recruiter.clone()).await;
        assert_eq!(response.status(), 422, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().starts_with(field),
            "{bad}: {body}"
        );
    }
    let filtered = page("?template_id=65a1b2c3d4e5f60718293a4b", w.recruiter.clone()).await;
    assert_eq!(filtered.headers()["x-total-count"], "0");

    w.app.register("recruiter", "rival@example.com").await;
    let rival = w.app.token("recruiter", "rival@example.com").await;
    let theirs = page("", rival.clone()).await;
    assert_eq!(theirs.headers()["x-total-count"], "0");
    assert_eq!(theirs.json::<Value>().await.unwrap(), json!([]));
    let detail = w
        .app
        .send(
            Method::GET,
            &format!("/api/v1/recruiter/result/{}", ids[0]),
            Some(&rival),
            None,
        )
        .await;
    assert_eq!(detail.status(), 404);
    let malformed = w
        .app
        .send(
            Method::GET,
            "/api/v1/recruiter/result/xyz",
            Some(&w.recruiter),
            None,
        )
        .await;
    assert_eq!(malformed.status(), 400);
    let csv = w
        .app
        .send(
            Method::GET,
            "/api/v1/recruiter/results.csv",
            Some(&rival),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    assert_eq!(page("", w.candidate.clone()).await.status(), 403);
    assert_eq!(
        w.app
            .send(Method::GET, "/api/v1/recruiter/results", None, None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn results_sort_and_filter_and_the_score_distribution_is_the_owners() {
    let w = world_with(mixed_test()).await;
    // Two attempts by the same candidate: a correct `add` scores higher than an empty attempt.
    let strong = w.start().await["session_id"].as_str().unwrap().to_owned();
    let code = json!("function add(a, b) { return a + b; }");
    assert_eq!(
        w.answer(&w.candidate, &strong, "add", code).await.status(),
        200
    );
    assert_eq!(w.end(&w.candidate, &strong).await.status(), 200);
    let weak = w.start().await["session_id"].as_str().unwrap().to_owned();
    assert_eq!(w.end(&w.candidate, &weak).await.status(), 200);

    let get = |path: String, token: String| {
        let app = &w.app;
        async move { app.send(Method::GET, &path, Some(&token), None).await }
    };
    let order = |query: &str| {
        let get = &get;
        let token = w.recruiter.clone();
        let query = query.to_owned();
        async move {
            let response = get(format!("/api/v1/recruiter/results{query}"), token).await;
            assert_eq!(response.status(), 200, "{query}");
            let total = response.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .to_owned();
            let items: Value = response.json().await.unwrap();
            let ids: Vec<String> = items
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["session_id"].as_str().unwrap().to_owned())
                .collect();
            (total, ids)
        }
    };
    assert_eq!(
        order("?sort=score_desc").await.1,
        vec![strong.clone(), weak.clone()]
    );
    assert_eq!(
        order("?sort=score_asc").await.1,
        vec![weak.clone(), strong.clone()]
    );
    assert_eq!(
        order("?sort=oldest").await.1,
        vec![strong.clone(), weak.clone()]
    );
    assert_eq!(order("?candidate=CAND@").await.0, "2");
    assert_eq!(order("?candidate=nobody").await, ("0".to_owned(), vec![]));
    // Every filter and the page at once.
    assert_eq!(
        order(&format!(
            "?template_id={}&candidate=cand&sort=score_desc&per_page=1&page=2",
            w.template_id
        ))
        .await,
        ("2".to_owned(), vec![weak.clone()])
    );
    let bad = get(
        "/api/v1/recruiter/results?sort=best".into(),
        w.recruiter.clone(),
    )
    .await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .starts_with("sort: must be one of newest, oldest, score_desc")
    );
    // One template's results carry leaderboard ranks; the leaderboard lists them in order.
    let ranked: Value = get(
        format!(
            "/api/v1/recruiter/results?template_id={}&sort=oldest",
            w.template_id
        ),
        w.recruiter.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (ranked[0]["rank"].clone(), ranked[1]["rank"].clone()),
        (json!(1), json!(2))
    );
    let all: Value = get("/api/v1/recruiter/results".into(), w.recruiter.clone())
        .await
        .json()
        .await
        .unwrap();
    assert!(all[0].get("rank").is_none(), "no rank across templates");
    let board = get(
        format!(
            "/api/v1/recruiter/test-template/{}/leaderboard",
            w.template_id
        ),
        w.recruiter.clone(),
    )
    .await;
    assert_eq!(board.status(), 200);
    assert_eq!(board.headers()["x-total-count"], "2");
    let board: Value = board.json().await.unwrap();
    assert_eq!(board[0]["session_id"], strong.as_str());
    assert_eq!(board[0]["rank"], 1);
    assert!(board[0]["scores"]["accuracy"].is_number());

    let long = format!("/api/v1/recruiter/results?candidate={}", "a".repeat(255));
    assert_eq!(get(long, w.recruiter.clone()).await.status(), 422);

    let path = format!(
        "/api/v1/recruiter/test-template/{}/score-distribution",
        w.template_id
    );
    let distribution = get(path.clone(), w.recruiter.clone()).await;
    assert_eq!(distribution.status(), 200);
    let distribution: Value = distribution.json().await.unwrap();
    assert_eq!(distribution["count"], 2);
    let buckets: Vec<u64> = distribution["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert_eq!(buckets.iter().sum::<u64>(), 2);
    assert!(distribution["mean"].as_f64().unwrap() > 0.0);

    w.app.register("recruiter", "rival@example.com").await;
    let rival = w.app.token("recruiter", "rival@example.com").await;
    assert_eq!(get(path.clone(), rival.clone()).await.status(), 404);
    let rival_board = format!(
        "/api/v1/recruiter/test-template/{}/leaderboard",
        w.template_id
    );
    assert_eq!(get(rival_board, rival).await.status(), 404);
    assert_eq!(get(path, w.candidate.clone()).await.status(), 403);
    let malformed = get(
        "/api/v1/recruiter/test-template/nope/score-distribution".into(),
        w.recruiter.clone(),
    )
    .await;
    assert_eq!(malformed.status(), 400);
}

#[tokio::test]
async fn run_examples_runs_only_the_visible_examples_and_is_rate_limited() {
    let mut test = mixed_test();
    test["questions"][0]["examples"] = json!([
        { "input": [0, 0], "expected": 0 },
        { "input": [2, 3], "expected": 5 }
    ]);
    let w = world_with(test).await;
    let session = w.start().await["session_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/candidate/session/{session}/run-examples");
    let run = |token: String, question: &'static str, code: &'static str| {
        let (app, path) = (&w.app, path.clone());
        async move {
            app.send(
                Method::POST,
                &path,
                Some(&token),
                Some(&json!({ "question_id": question, "code": code })),
            )
            .await
        }
    };
    let me = || w.candidate.clone();

    let right = run(
        me(),
        "add",
        "function add(a, b) { console.log('adding', a, b); return a + b; }",
    )
    .await;
    assert_eq!(right.status(), 200);
    let right: Value = right.json().await.unwrap();
    let runs = right.as_array().expect("runs");
    assert_eq!(runs.len(), 2, "the examples, not the hidden tests");
    assert_eq!(runs[1]["input"], json!([2, 3]));
    assert_eq!(runs[1]["expected"], 5);
    assert!(runs.iter().all(|r| r["passed"] == true), "{right}");
    assert_eq!(runs[0]["output"], json!(["adding 0 0"]));

    let wrong = run(me(), "add", "function add(a, b) { return a - b; }").await;
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong[0]["passed"], true);
    assert_eq!(wrong[1]["passed"], false);
    assert_eq!(wrong[1]["error"], "expected 5, got -1");

    let endless = run(me(), "add", "function add() { while (true) {} }").await;
    let endless: Value = endless.json().await.unwrap();
    assert!(
        endless[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("timed out"),
        "{endless}"
    );
    for body in [&right, &wrong, &endless] {
        assert!(!body.to_string().contains("4242"), "a hidden test leaked");
    }

    // Refusals that do not count against the rate.
    assert_eq!(run(me(), "one", "x").await.status(), 422);
    assert_eq!(run(me(), "nope", "x").await.status(), 404);
    w.app.register("candidate", "other@example.com").await;
    let other = w.app.token("candidate", "other@example.com").await;
    assert_eq!(run(other, "add", "x").await.status(), 404);
    assert_eq!(run(w.recruiter.clone(), "add", "x").await.status(), 403);

    // Ten runs a minute: three so far.
    for _ in 0..7 {
        assert_eq!(
            run(me(), "add", "function add(a, b) { return a + b; }")
                .await
                .status(),
            200
        );
    }
    let limited = run(me(), "add", "function add(a, b) { return a + b; }").await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));

    assert_eq!(w.end(&w.candidate, &session).await.status(), 200);
    assert_eq!(run(me(), "add", "x").await.status(), 400);
}

#[tokio::test]
async fn a_start_button_clicked_before_the_page_script_runs_still_starts_the_test() {
    let w = world_with(mixed_test()).await;
    let home = w.page(&w.candidate, "/candidate").await;
    assert!(
        home.contains(r#"<form method="post" action="/api/candidate/start""#),
        "each start button is a plain form"
    );
    assert!(home.contains(&format!(
        r#"<input type="hidden" name="template_id" value="{}""#,
        w.template_id
    )));

    // What the browser sends when that form is submitted: it is sent on to the test.
    let cookie = format!(
        "{}={}",
        app::backend::auth::web::SESSION_COOKIE,
        w.candidate
    );
    let post_form = |accept: Option<&str>| {
        let mut request = w
            .app
            .client
            .post(w.app.url("/api/candidate/start"))
            .header("cookie", &cookie)
            .header("origin", w.app.url(""))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("template_id={}", w.template_id));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request.send()
    };
    let submitted = post_form(Some("text/html,application/xhtml+xml"))
        .await
        .unwrap();
    assert_eq!(submitted.status(), 302);
    let location = submitted.headers()["location"].to_str().unwrap().to_owned();
    let resumed = w.start().await;
    assert_eq!(
        location,
        format!(
            "/candidate/session/{}",
            resumed["session_id"].as_str().unwrap()
        ),
        "the attempt it started, which the API resumes"
    );
    let room = w.page(&w.candidate, &location).await;
    assert!(room.contains("data-room="), "the test room");

    // The page's script posts the same form and gets the session, not a redirect.
    let scripted = post_form(None).await.unwrap();
    assert_eq!(scripted.status(), 200);
    let session: Value = scripted.json().await.unwrap();
    assert_eq!(session["session_id"], resumed["session_id"]);
}

#[tokio::test]
async fn the_test_page_is_rendered_with_the_saved_answers_and_the_panels_closed() {
    let w = world_with(mixed_test()).await;
    let id = w.start().await["session_id"].as_str().unwrap().to_owned();
    let code = "function add(a, b) {\n  return a < b ? b + a : a + b;\n}";
    assert_eq!(
        w.answer(&w.candidate, &id, "add", json!(code))
            .await
            .status(),
        200
    );
    assert_eq!(
        w.answer(&w.candidate, &id, "many", json!([0, 2]))
            .await
            .status(),
        200
    );

    // Before any WebAssembly runs, the editor shows the saved code (as text), not the starter.
    let first = w.test_page(&id, "?q=1").await;
    assert!(
        first.contains("return a &lt; b ? b + a : a + b;"),
        "the saved code is in the editor"
    );
    assert!(
        !first.contains("function add(a, b) {\n}"),
        "not the starter"
    );
    // The assistant and the chat wait, closed, to be opened.
    assert!(first.contains("Open the assistant") && first.contains("Open the chat"));
    assert!(first.contains("4 of 4 prompts left"));

    // An answer is text in its editor, never markup, even one that tries to end the editor.
    let sneaky = "</textarea><em>loud</em>";
    assert_eq!(
        w.answer(&w.candidate, &id, "why", json!(sneaky))
            .await
            .status(),
        200
    );
    let fourth = w.test_page(&id, "?q=4").await;
    assert!(fourth.contains("&lt;/textarea&gt;&lt;em&gt;loud&lt;/em&gt;</textarea>"));
    assert!(!fourth.contains("<em>loud"));

    // The saved options are ticked as rendered.
    let third = w.test_page(&id, "?q=3").await;
    let ticked = |i: usize| {
        let at = third
            .find(&format!(r#"id="choice-many-{i}""#))
            .unwrap_or_else(|| panic!("option {i} is on the page"));
        let tag = &third[at..at + third[at..].find('>').unwrap()];
        tag.contains(" checked")
    };
    assert_eq!((ticked(0), ticked(1), ticked(2)), (true, false, true));

    // Every question's panel is on the page; only the open one is shown.
    let panel_hidden = |page: &str, question: &str| {
        let at = page
            .find(&format!(r#"data-question="{question}""#))
            .unwrap_or_else(|| panic!("question {question} has its panel"));
        let start = page[..at].rfind("<article").expect("a panel is an article");
        page[start..at].contains(" hidden")
    };
    assert!(!panel_hidden(&first, "add") && panel_hidden(&first, "many"));
    assert!(panel_hidden(&third, "add") && !panel_hidden(&third, "many"));
}

#[tokio::test]
async fn an_open_test_is_an_island_and_a_finished_one_plain_html_with_its_result() {
    let w = world_with(mixed_test()).await;
    let id = w.start().await["session_id"].as_str().unwrap().to_owned();
    let island = r#"data-component="RoomScript_"#;

    let open = w.test_page(&id, "").await;
    assert!(open.contains(island), "the room has its script");
    assert!(!open.contains(r#"data-testid="result""#));

    assert_eq!(w.end(&w.candidate, &id).await.status(), 200);
    let finished = w.test_page(&id, "").await;
    assert!(
        finished.contains(r#"data-testid="result""#)
            && finished.contains(r#"data-testid="total-score""#),
        "the result is shown"
    );
    assert!(
        !finished.contains(island) && !finished.contains("<leptos-island"),
        "and needs no WebAssembly"
    );
}

#[tokio::test]
async fn the_builder_shows_a_question_as_text_in_its_editor_even_one_that_tries_to_end_it() {
    let mut test = mixed_test();
    test["questions"][3]["prompt"] = json!("</textarea><em>loud</em>");
    let w = world_with(test).await;
    let html = w
        .page(
            &w.recruiter,
            &format!("/recruiter/templates/{}", w.template_id),
        )
        .await;
    assert!(html.contains("&lt;/textarea&gt;&lt;em&gt;loud&lt;/em&gt;</textarea>"));
    assert!(!html.contains("<em>loud"));
}
