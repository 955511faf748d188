//! Recruiters' test templates over REST: creation (seed payload and drafts), validation,
//! ownership, editing with versions, publish and archive.

mod common;

use app::model::Id;
use common::{TestApp, spawn_app};
use serde_json::{Value, json};

fn seed_payload() -> Value {
    json!({
        "title": "Two Sum",
        "default_prompt_budget": 5,
        "weights": { "accuracy": 0.5, "speed_efficiency": 0.25, "prompt_wellness": 0.25 },
        "questions": [{
            "id": "q1",
            "type": "coding",
            "prompt": "Return the indexes of the two numbers that add up to target.",
            "context": "function solution(nums, target) {\n}",
            "test_cases": [{ "input": [[2, 7, 11, 15], 9], "expected": [0, 1] }]
        }]
    })
}

async fn recruiter(app: &TestApp, email: &str) -> (String, String) {
    let account = app.register("recruiter", email).await;
    let token = app.token("recruiter", email).await;
    (account["id"].as_str().unwrap().to_owned(), token)
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app
        .send(
            reqwest::Method::POST,
            "/api/v1/recruiter/test-template",
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_seed_payload_creates_a_published_template() {
    let app = spawn_app().await;
    let (id, token) = recruiter(&app, "r@example.com").await;
    let template = create(&app, &token, &seed_payload()).await;
    assert!(Id::parse(template["id"].as_str().unwrap()).is_ok());
    assert_eq!(template["status"], "published");
    assert_eq!(template["created_by"], id.as_str());
    assert_eq!(template["version"], 1);
    // Timestamps have the one format every response uses: UTC with milliseconds.
    let created = template["created_at"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with('Z') && created.as_bytes()[19] == b'.',
        "{created}"
    );
    assert_eq!(template["default_prompt_budget"], 5);
    assert_eq!(template["time_limit_minutes"], 60);
    assert_eq!(template["questions"][0]["type"], "coding");
    assert_eq!(
        template["questions"][0]["test_cases"][0]["expected"],
        json!([0, 1])
    );

    let mut draft = seed_payload();
    draft["status"] = json!("draft");
    draft
        .as_object_mut()
        .unwrap()
        .remove("default_prompt_budget");
    let draft = create(&app, &token, &draft).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(
        draft["default_prompt_budget"], 10,
        "DEFAULT_PROMPT_BUDGET applies"
    );
}

#[tokio::test]
async fn only_recruiters_may_use_the_routes() {
    let app = spawn_app().await;
    app.register("candidate", "c@example.com").await;
    let candidate = app.token("candidate", "c@example.com").await;
    for (token, status) in [(None, 401), (Some(candidate.as_str()), 403)] {
        let post = app
            .send(
                reqwest::Method::POST,
                "/api/v1/recruiter/test-template",
                token,
                Some(&seed_payload()),
            )
            .await;
        assert_eq!(post.status(), status);
        let list = app
            .send(
                reqwest::Method::GET,
                "/api/v1/recruiter/test-templates",
                token,
                None,
            )
            .await;
        assert_eq!(list.status(), status);
    }
}

#[tokio::test]
async fn invalid_templates_are_422_naming_the_field() {
    let app = spawn_app().await;
    let (_, token) = recruiter(&app, "r@example.com").await;
    let duplicate_ids = {
        let mut p = seed_payload();
        let q = p["questions"][0].clone();
        p["questions"] = json!([q.clone(), q]);
        p
    };
    let cases = [
        (duplicate_ids, "questions[1].id"),
        (
            {
                let mut p = seed_payload();
                p["weights"]["accuracy"] = json!(0.9);
                p
            },
            "weights",
        ),
        (
            {
                let mut p = seed_payload();
                p["default_prompt_budget"] = json!(0);
                p
            },
            "default_prompt_budget",
        ),
        (
            {
                let mut p = seed_payload();
                p["default_prompt_budget"] = json!(-3);
                p
            },
            "default_prompt_budget",
        ),
        (
            {
                let mut p = seed_payload();
                p["title"] = json!("");
                p
            },
            "title",
        ),
        (
            {
                let mut p = seed_payload();
                p["questions"][0]["type"] = json!("essay");
                p
            },
            "questions",
        ),
        (
            {
                let mut p = seed_payload();
                p["questions"] = json!([]);
                p
            },
            "questions",
        ),
        (
            {
                let mut p = seed_payload();
                p["title"] = json!(7);
                p
            },
            "title",
        ),
        (
            {
                let mut p = seed_payload();
                p["status"] = json!("archived");
                p
            },
            "status",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .send(
                reqwest::Method::POST,
                "/api/v1/recruiter/test-template",
                Some(&token),
                Some(&body),
            )
            .await;
        assert_eq!(response.status(), 422, "{field}: {body}");
        let detail = response.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains(field), "{field} not in {detail:?}");
    }
    let list: Value = app
        .send(
            reqwest::Method::GET,
            "/api/v1/recruiter/test-templates",
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]), "nothing was stored");
}

#[tokio::test]
async fn recruiters_only_ever_see_their_own_templates() {
    let app = spawn_app().await;
    let (_, alice) = recruiter(&app, "alice@example.com").await;
    let (_, bob) = recruiter(&app, "bob@example.com").await;
    let first = create(&app, &alice, &seed_payload()).await;
    let mut second = seed_payload();
    second["title"] = json!("Second");
    let second = create(&app, &alice, &second).await;

    let listed: Value = app
        .send(
            reqwest::Method::GET,
            "/api/v1/recruiter/test-templates",
            Some(&alice),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["id"])
        .collect();
    assert_eq!(
        ids,
        [&second["id"], &first["id"]],
        "own templates, newest first"
    );
    let bobs: Value = app
        .send(
            reqwest::Method::GET,
            "/api/v1/recruiter/test-templates",
            Some(&bob),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs, json!([]));

    let path = format!(
        "/api/v1/recruiter/test-template/{}",
        first["id"].as_str().unwrap()
    );
    assert_eq!(
        app.send(reqwest::Method::GET, &path, Some(&alice), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.send(reqwest::Method::GET, &path, Some(&bob), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.send(
            reqwest::Method::PUT,
            &path,
            Some(&bob),
            Some(&seed_payload())
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.send(
            reqwest::Method::POST,
            &format!("{path}/archive"),
            Some(&bob),
            None
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.send(
            reqwest::Method::GET,
            "/api/v1/recruiter/test-template/not-an-id",
            Some(&alice),
            None
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        app.send(
            reqwest::Method::GET,
            "/api/v1/recruiter/test-template/65a1b2c3d4e5f60718293a4b",
            Some(&alice),
            None
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn edits_are_in_place_until_a_session_starts_then_versioned() {
    let app = spawn_app().await;
    let (_, token) = recruiter(&app, "r@example.com").await;
    let mut draft = seed_payload();
    draft["status"] = json!("draft");
    let template = create(&app, &token, &draft).await;
    let id = template["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/recruiter/test-template/{id}");

    let mut edit = seed_payload();
    edit["title"] = json!("Two Sum, revised");
    edit.as_object_mut()
        .unwrap()
        .remove("default_prompt_budget");
    let edited: Value = app
        .send(reqwest::Method::PUT, &path, Some(&token), Some(&edit))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["title"], "Two Sum, revised");
    assert_eq!(edited["version"], 1, "no session yet: edited in place");
    assert_eq!(
        edited["status"], "draft",
        "no status in the edit: unchanged"
    );
    assert_eq!(
        edited["default_prompt_budget"], 5,
        "an edit without a budget keeps the old one"
    );

    let mut bad = edit.clone();
    bad["weights"] = json!({ "accuracy": 1.0, "speed_efficiency": 1.0, "prompt_wellness": 1.0 });
    assert_eq!(
        app.send(reqwest::Method::PUT, &path, Some(&token), Some(&bad))
            .await
            .status(),
        422
    );

    let published: Value = app
        .send(
            reqwest::Method::POST,
            &format!("{path}/publish"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published["status"], "published");

    app.register("candidate", "taker@example.com").await;
    let candidate = app.token("candidate", "taker@example.com").await;
    let started = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/candidate/session/start/{id}"),
            Some(&candidate),
            None,
        )
        .await;
    assert_eq!(started.status(), 200);
    edit["title"] = json!("Two Sum v2");
    let versioned: Value = app
        .send(reqwest::Method::PUT, &path, Some(&token), Some(&edit))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        versioned["version"], 2,
        "a session exists: the edit makes a new version"
    );
    assert_eq!(versioned["status"], "published");

    let archived: Value = app
        .send(
            reqwest::Method::POST,
            &format!("{path}/archive"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archived["status"], "archived");
    let fetched: Value = app
        .send(reqwest::Method::GET, &path, Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, archived);
}
