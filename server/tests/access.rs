//! The access-control matrix: every REST route and socket, called by each of five callers —
//! anonymous, the candidate who owns the session, another candidate, the recruiter who owns the
//! test, another recruiter — gets exactly the status in one table. The table is checked against
//! the API's OpenAPI document (built from the same annotations as its router), so a new route
//! without a row fails this test, and so does a status the document does not list.

mod common;

use common::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The callers, in the order of every row's expectations.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    OwnerCandidate,
    OtherCandidate,
    OwnerRecruiter,
    OtherRecruiter,
}

/// Owners go last: a state-changing call by the owner (ending, archiving) must not change what
/// the others' calls meet.
const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::OtherCandidate,
    Caller::OtherRecruiter,
    Caller::OwnerRecruiter,
    Caller::OwnerCandidate,
];

enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

/// One route: its method and path as declared (`{…}` placeholders), the path with ids filled in
/// from the world, a body per caller, and the status each caller must get, in the order
/// anonymous, owner candidate, other candidate, owner recruiter, other recruiter.
struct Row {
    method: &'static str,
    declared: &'static str,
    path: fn(&World) -> String,
    body: fn(&World, Caller) -> Body,
    expect: [u16; 5],
}

fn no_body(_: &World, _: Caller) -> Body {
    Body::None
}

fn template_body(_: &World, _: Caller) -> Body {
    Body::Json(test_template("Edited"))
}

fn test_template(title: &str) -> Value {
    json!({
        "title": title,
        "questions": [{ "id": "add", "type": "coding", "prompt": "Write add(a, b).",
            "function_name": "add", "test_cases": [{ "input": [1, 2], "expected": 3 }],
            "examples": [{ "input": [0, 0], "expected": 0 }] }]
    })
}

/// What every row runs against: a test of the owner recruiter with a session of the owner
/// candidate in progress, and a second test whose session by the owner candidate has ended.
struct World {
    app: TestApp,
    tokens: [Option<String>; 5],
    emails: [String; 5],
    template: String,
    session: String,
    ended: String,
}

fn index(caller: Caller) -> usize {
    match caller {
        Caller::Anonymous => 0,
        Caller::OwnerCandidate => 1,
        Caller::OtherCandidate => 2,
        Caller::OwnerRecruiter => 3,
        Caller::OtherRecruiter => 4,
    }
}

async fn world() -> World {
    let app = spawn_app().await;
    let mut tokens = [None, None, None, None, None];
    let emails = [
        String::new(),
        "owner-candidate@example.com".to_owned(),
        "other-candidate@example.com".to_owned(),
        "owner-recruiter@example.com".to_owned(),
        "other-recruiter@example.com".to_owned(),
    ];
    for (i, role) in [
        (1, "candidate"),
        (2, "candidate"),
        (3, "recruiter"),
        (4, "recruiter"),
    ] {
        app.register(role, &emails[i]).await;
        tokens[i] = Some(app.token(role, &emails[i]).await);
    }
    let (recruiter, candidate) = (
        tokens[3].clone().expect("recruiter"),
        tokens[1].clone().expect("candidate"),
    );
    let template = app.publish(&recruiter, &test_template("Live")).await;
    let session = app.start(&candidate, &template).await;
    let other = app.publish(&recruiter, &test_template("Done")).await;
    let ended = app.start(&candidate, &other).await;
    let end = app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/session/end/{ended}"),
            Some(&candidate),
            None,
        )
        .await;
    assert_eq!(end.status(), 200);
    World {
        app,
        tokens,
        emails,
        template,
        session,
        ended,
    }
}

fn rows() -> Vec<Row> {
    // Statuses: anonymous, owner candidate, other candidate, owner recruiter, other recruiter.
    vec![
        Row {
            method: "POST",
            declared: "/auth/{role}/register",
            path: |_| "/api/v1/auth/candidate/register".into(),
            body: |_, caller| {
                Body::Json(json!({
                    "email": format!("new-{}@example.com", index(caller)),
                    "password": "a long enough password"
                }))
            },
            expect: [201, 201, 201, 201, 201],
        },
        Row {
            method: "POST",
            declared: "/auth/{role}/login",
            path: |_| "/api/v1/auth/candidate/login".into(),
            body: |w, _| {
                Body::Form(vec![
                    ("username", w.emails[1].clone()),
                    ("password", common::PASSWORD.into()),
                ])
            },
            expect: [200, 200, 200, 200, 200],
        },
        Row {
            method: "GET",
            declared: "/auth/me",
            path: |_| "/api/v1/auth/me".into(),
            body: no_body,
            expect: [401, 200, 200, 200, 200],
        },
        Row {
            method: "POST",
            declared: "/candidate/session/start/{template_id}",
            path: |w| format!("/api/v1/candidate/session/start/{}", w.template),
            body: no_body,
            expect: [401, 200, 200, 403, 403],
        },
        Row {
            method: "POST",
            declared: "/candidate/session/submit-answer/{session_id}",
            path: |w| format!("/api/v1/candidate/session/submit-answer/{}", w.session),
            body: |_, _| Body::Json(json!({ "question_id": "add", "answer": "function add() {}" })),
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "POST",
            declared: "/candidate/session/end/{session_id}",
            path: |w| format!("/api/v1/candidate/session/end/{}", w.session),
            body: no_body,
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "GET",
            declared: "/candidate/sessions",
            path: |_| "/api/v1/candidate/sessions".into(),
            body: no_body,
            expect: [401, 200, 200, 403, 403],
        },
        Row {
            method: "GET",
            declared: "/candidate/session/{session_id}",
            path: |w| format!("/api/v1/candidate/session/{}", w.session),
            body: no_body,
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "POST",
            declared: "/candidate/session/{session_id}/integrity-event",
            path: |w| format!("/api/v1/candidate/session/{}/integrity-event", w.session),
            body: |_, _| Body::Json(json!({ "kind": "tab_hidden", "detail": "" })),
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "POST",
            declared: "/candidate/llm-prompt/{session_id}",
            path: |w| format!("/api/v1/candidate/llm-prompt/{}", w.session),
            body: |_, _| Body::Json(json!({ "prompt": "What does Array.map do?" })),
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "POST",
            declared: "/candidate/session/{session_id}/run-examples",
            path: |w| format!("/api/v1/candidate/session/{}/run-examples", w.session),
            body: |_, _| {
                Body::Json(
                    json!({ "question_id": "add", "code": "function add(a, b) { return a + b; }" }),
                )
            },
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "GET",
            declared: "/candidate/session/{session_id}/prompts",
            path: |w| format!("/api/v1/candidate/session/{}/prompts", w.session),
            body: no_body,
            expect: [401, 200, 404, 403, 403],
        },
        Row {
            method: "WS",
            declared: "/candidate/ws/chat/{session_id}",
            path: |w| format!("/api/v1/candidate/ws/chat/{}", w.session),
            body: no_body,
            // 101: the socket opened (read-only for the test's recruiter).
            expect: [401, 101, 403, 101, 403],
        },
        Row {
            method: "POST",
            declared: "/recruiter/test-template",
            path: |_| "/api/v1/recruiter/test-template".into(),
            body: template_body,
            expect: [401, 403, 403, 201, 201],
        },
        Row {
            method: "GET",
            declared: "/recruiter/test-templates",
            path: |_| "/api/v1/recruiter/test-templates".into(),
            body: no_body,
            expect: [401, 403, 403, 200, 200],
        },
        Row {
            method: "GET",
            declared: "/recruiter/test-template/{id}",
            path: |w| format!("/api/v1/recruiter/test-template/{}", w.template),
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "PUT",
            declared: "/recruiter/test-template/{id}",
            path: |w| format!("/api/v1/recruiter/test-template/{}", w.template),
            body: template_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "POST",
            declared: "/recruiter/test-template/{id}/publish",
            path: |w| format!("/api/v1/recruiter/test-template/{}/publish", w.template),
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "POST",
            declared: "/recruiter/test-template/{id}/archive",
            path: |w| format!("/api/v1/recruiter/test-template/{}/archive", w.template),
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "GET",
            declared: "/recruiter/test-template/{id}/score-distribution",
            path: |w| {
                format!(
                    "/api/v1/recruiter/test-template/{}/score-distribution",
                    w.template
                )
            },
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "GET",
            declared: "/recruiter/test-template/{id}/leaderboard",
            path: |w| format!("/api/v1/recruiter/test-template/{}/leaderboard", w.template),
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "GET",
            declared: "/recruiter/results",
            path: |_| "/api/v1/recruiter/results".into(),
            body: no_body,
            expect: [401, 403, 403, 200, 200],
        },
        Row {
            method: "GET",
            declared: "/recruiter/results.csv",
            path: |_| "/api/v1/recruiter/results.csv".into(),
            body: no_body,
            expect: [401, 403, 403, 200, 200],
        },
        Row {
            method: "GET",
            declared: "/recruiter/result/{session_id}",
            path: |w| format!("/api/v1/recruiter/result/{}", w.ended),
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "PUT",
            declared: "/recruiter/result/{session_id}/question/{question_id}/override",
            path: |w| format!("/api/v1/recruiter/result/{}/question/add/override", w.ended),
            body: |_, _| Body::Json(json!({ "score": 50, "note": "Half right." })),
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "DELETE",
            declared: "/recruiter/result/{session_id}/question/{question_id}/override",
            path: |w| format!("/api/v1/recruiter/result/{}/question/add/override", w.ended),
            body: no_body,
            expect: [401, 403, 403, 200, 404],
        },
        Row {
            method: "GET",
            declared: "/recruiter/sessions/in-progress",
            path: |_| "/api/v1/recruiter/sessions/in-progress".into(),
            body: no_body,
            expect: [401, 403, 403, 200, 200],
        },
    ]
}

/// Every `(METHOD, path)` the API serves, with the statuses its OpenAPI document lists. The
/// document is built from the same `#[utoipa::path]` annotations as the router, so this is the
/// set of routes that exist.
fn documented_routes() -> BTreeMap<(String, String), BTreeSet<u16>> {
    let (_, document) = server::api::routes();
    let document = serde_json::to_value(&document).expect("the document is JSON");
    let mut routes = BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let path = path
            .strip_prefix(server::api::PREFIX)
            .expect("under the API prefix");
        for (method, operation) in item.as_object().expect("a path item") {
            let statuses = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|status| status.parse().expect("a numeric status"))
                .collect();
            routes.insert((method.to_uppercase(), path.to_owned()), statuses);
        }
    }
    routes
}

async fn call(world: &World, row: &Row, caller: Caller) -> u16 {
    let token = world.tokens[index(caller)].as_deref();
    let path = (row.path)(world);
    if row.method == "WS" {
        let mut url = format!("ws://{}{path}", world.app.addr);
        if let Some(token) = token {
            url.push_str(&format!("?token={token}"));
        }
        return match tokio_tungstenite::connect_async(url).await {
            Ok((_, response)) => response.status().as_u16(),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(other) => panic!("{path}: {other}"),
        };
    }
    let method = Method::from_bytes(row.method.as_bytes()).expect("method");
    let mut request = world.app.client.request(method, world.app.url(&path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match (row.body)(world, caller) {
        Body::None => request,
        Body::Json(body) => request.json(&body),
        Body::Form(form) => request.form(&form),
    };
    request.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn every_route_and_socket_answers_each_caller_exactly_as_the_table_says() {
    let table = rows();
    let listed: BTreeSet<(String, String)> = table
        .iter()
        .map(|row| {
            let method = if row.method == "WS" {
                "GET"
            } else {
                row.method
            };
            (method.to_owned(), row.declared.to_owned())
        })
        .collect();
    let documented = documented_routes();
    assert_eq!(
        listed,
        documented.keys().cloned().collect(),
        "every route has exactly one row here (and no row names a route that is gone)"
    );
    for row in &table {
        let method = if row.method == "WS" {
            "GET"
        } else {
            row.method
        };
        let statuses = &documented[&(method.to_owned(), row.declared.to_owned())];
        for status in row.expect {
            assert!(
                statuses.contains(&status),
                "{} {}: {status} is answered but not in the OpenAPI document ({statuses:?})",
                row.method,
                row.declared
            );
        }
    }

    let mut wrong = Vec::new();
    for row in &table {
        // A fresh world per route: one route's effects never reach another's.
        let world = world().await;
        for caller in CALLERS {
            let got = call(&world, row, caller).await;
            let want = row.expect[index(caller)];
            if got != want {
                wrong.push(format!(
                    "{} {} as {caller:?}: {got}, expected {want}",
                    row.method, row.declared
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_deleted_account_is_refused_on_every_route_as_if_signed_out() {
    let world = world().await;
    // The owner candidate answers and prompts first, so that the session's test is held in
    // memory by the time the account is gone: those two routes do not read the account first.
    for row in rows()
        .iter()
        .filter(|row| row.declared.contains("submit-answer") || row.declared.contains("llm-prompt"))
    {
        assert_eq!(call(&world, row, Caller::OwnerCandidate).await, 200);
    }
    for owner in [Caller::OwnerCandidate, Caller::OwnerRecruiter] {
        let store = &world.app.state.store;
        let email = &world.emails[index(owner)];
        let account = store
            .users
            .find_by_email(email)
            .await
            .expect("find")
            .expect("account");
        assert!(store.users.delete(&account.id).await.expect("delete"));
    }
    let mut wrong = Vec::new();
    for row in rows()
        .iter()
        .filter(|row| row.expect[index(Caller::Anonymous)] == 401)
    {
        for owner in [Caller::OwnerCandidate, Caller::OwnerRecruiter] {
            let got = call(&world, row, owner).await;
            if got != 401 {
                wrong.push(format!(
                    "{} {} as the deleted {owner:?}: {got}",
                    row.method, row.declared
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// One page of the web UI: its declared route, the address with ids filled in, and the status
/// each caller gets (same order as the API rows).
struct PageRow {
    declared: &'static str,
    path: fn(&World) -> String,
    expect: [u16; 5],
}

fn pages() -> Vec<PageRow> {
    vec![
        PageRow {
            declared: "/",
            path: |_| "/".into(),
            expect: [200, 200, 200, 200, 200],
        },
        PageRow {
            declared: "/login",
            path: |_| "/login".into(),
            expect: [200, 200, 200, 200, 200],
        },
        PageRow {
            declared: "/signup",
            path: |_| "/signup".into(),
            expect: [200, 200, 200, 200, 200],
        },
        PageRow {
            declared: "/candidate",
            path: |_| "/candidate".into(),
            expect: [302, 200, 200, 403, 403],
        },
        PageRow {
            declared: "/candidate/session/{id}",
            path: |w| format!("/candidate/session/{}", w.session),
            expect: [302, 200, 404, 403, 403],
        },
        PageRow {
            declared: "/recruiter",
            path: |_| "/recruiter".into(),
            expect: [302, 403, 403, 200, 200],
        },
        PageRow {
            declared: "/recruiter/templates/{id}",
            path: |w| format!("/recruiter/templates/{}", w.template),
            expect: [302, 403, 403, 200, 404],
        },
        PageRow {
            declared: "/recruiter/results",
            path: |_| "/recruiter/results".into(),
            expect: [302, 403, 403, 200, 200],
        },
        PageRow {
            declared: "/recruiter/results/{id}",
            path: |w| format!("/recruiter/results/{}", w.ended),
            expect: [302, 403, 403, 200, 404],
        },
        PageRow {
            declared: "/recruiter/live/{id}",
            path: |w| format!("/recruiter/live/{}", w.session),
            expect: [302, 403, 403, 200, 404],
        },
    ]
}

#[tokio::test]
async fn every_page_answers_each_caller_exactly_as_the_table_says() {
    let table = pages();
    let listed: BTreeSet<String> = table.iter().map(|p| p.declared.to_owned()).collect();
    let declared: BTreeSet<String> = leptos_axum::generate_route_list(app::ui::App)
        .iter()
        .map(|route| route.path().to_owned())
        .collect();
    assert_eq!(listed, declared, "every page has exactly one row here");

    let world = world().await;
    // As a browser: asks for HTML, sends the session cookie, does not follow redirects.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut wrong = Vec::new();
    for page in &table {
        for caller in CALLERS {
            let path = (page.path)(&world);
            let mut request = browser
                .get(world.app.url(&path))
                .header("accept", "text/html");
            if let Some(token) = &world.tokens[index(caller)] {
                request = request.header("cookie", format!("assess_session={token}"));
            }
            let response = request.send().await.expect("request");
            let got = response.status().as_u16();
            let want = page.expect[index(caller)];
            if got != want {
                wrong.push(format!("{path} as {caller:?}: {got}, expected {want}"));
            }
            if got == 302 {
                let location = response.headers()["location"].to_str().unwrap_or_default();
                assert!(
                    location.starts_with("/login?role=") && location.contains("next="),
                    "{path}: {location}"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
