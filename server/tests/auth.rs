//! Accounts and authentication: the seed's REST contract, token checks, throttling, and the web
//! UI's cookie session with its CSRF guard.

mod common;

use app::backend::auth::token::Claims;
use app::model::{Id, Role};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{PASSWORD, TestApp, spawn_app, spawn_app_configured};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

async fn detail(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("json body");
    body["detail"].as_str().expect("detail string").to_owned()
}

#[tokio::test]
async fn register_returns_201_with_the_normalised_account_and_no_secret() {
    let app = spawn_app().await;
    for role in ["candidate", "recruiter"] {
        let response = app
            .post_json(
                &format!("/api/v1/auth/{role}/register"),
                &json!({ "email": format!("  Ada.{role}@Example.COM "), "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["email"], format!("ada.{role}@example.com"));
        assert_eq!(body["role"], role);
        assert!(Id::parse(body["id"].as_str().unwrap()).is_ok(), "{body}");
        assert_eq!(
            body.as_object().unwrap().len(),
            3,
            "only id, email, role: {body}"
        );
    }
    let stored = app
        .state
        .store
        .users
        .find_by_email("ada.candidate@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert!(!stored.password_hash.contains(PASSWORD));
}

#[tokio::test]
async fn an_email_is_taken_case_insensitively_across_roles() {
    let app = spawn_app().await;
    app.register("candidate", "grace@example.com").await;
    let response = app
        .post_json(
            "/api/v1/auth/recruiter/register",
            &json!({ "email": "GRACE@example.com", "password": "another password" }),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        detail(response).await,
        "An account with this email already exists."
    );
}

#[tokio::test]
async fn invalid_registrations_are_422_naming_the_field() {
    let app = spawn_app().await;
    let long = "x".repeat(129);
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": long }),
            "password",
        ),
        (json!({ "email": 42, "password": PASSWORD }), "email"),
        (
            json!({ "email": "a@example.com", "password": ["x"] }),
            "password",
        ),
        (json!({ "email": "a@example.com" }), "password"),
        (json!({ "password": PASSWORD }), "email"),
    ];
    for (body, field) in cases {
        let response = app
            .post_json("/api/v1/auth/candidate/register", &body)
            .await;
        assert_eq!(response.status(), 422, "{body}");
        let message = detail(response).await;
        assert!(message.contains(field), "{body} gave {message:?}");
    }
    assert!(
        app.state
            .store
            .users
            .find_by_email("a@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn malformed_or_untyped_bodies_keep_their_http_status() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/candidate/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(!detail(response).await.is_empty());
    let response = app
        .client
        .post(app.url("/api/v1/auth/candidate/register"))
        .body(r#"{"email":"a@example.com","password":"long enough"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = app
        .post_json("/api/v1/auth/admin/register", &json!({}))
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(detail(response).await, "Not Found");
}

#[tokio::test]
async fn eight_parallel_registrations_of_one_email_create_one_account() {
    let app = spawn_app().await;
    let app = &app;
    let attempts = (0..8).map(|i| async move {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        app.post_json(
            "/api/v1/auth/candidate/register",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await
    });
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        7,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn login_returns_a_bearer_token_that_identifies_the_user() {
    let app = spawn_app().await;
    let account = app.register("recruiter", "lin@example.com").await;
    let response = app
        .post_form(
            "/api/v1/auth/recruiter/login",
            &[
                ("grant_type", "password"),
                ("username", " LIN@example.com"),
                ("password", PASSWORD),
                ("scope", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["role"], "recruiter");
    assert_eq!(body["email"], "lin@example.com");
    let token = body["access_token"].as_str().unwrap();

    let me = app.get_with_token("/api/v1/auth/me", token).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap(), account);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_identically() {
    let app = spawn_app().await;
    app.register("candidate", "kim@example.com").await;
    let wrong_password = app
        .post_form(
            "/api/v1/auth/candidate/login",
            &[
                ("username", "kim@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    let unknown_email = app
        .post_form(
            "/api/v1/auth/candidate/login",
            &[("username", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    for response in [wrong_password, unknown_email] {
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "detail": "Incorrect email or password" })
        );
    }
}

#[tokio::test]
async fn the_right_credentials_on_the_other_roles_endpoint_are_403() {
    let app = spawn_app().await;
    app.register("candidate", "cand@example.com").await;
    let response = app
        .post_form(
            "/api/v1/auth/recruiter/login",
            &[("username", "cand@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(detail(response).await.contains("candidate"));
}

#[tokio::test]
async fn login_form_fields_are_required() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/api/v1/auth/candidate/login",
            &[("username", "a@example.com")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(detail(response).await.contains("password"));
}

fn sign(claims: &Claims, algorithm: Algorithm, secret: &str) -> String {
    encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims_for(id: &str, role: Role, exp_offset_secs: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: id.to_owned(),
        role,
        iat: now,
        exp: now + exp_offset_secs,
    }
}

async fn assert_rejected(app: &TestApp, authorization: Option<&str>, case: &str) {
    let mut request = app.client.get(app.url("/api/v1/auth/me"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 401, "{case}");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{case}"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "detail": "Could not validate credentials" }),
        "{case}"
    );
}

#[tokio::test]
async fn me_refuses_every_bad_token_with_401() {
    let app = spawn_app().await;
    let account = app.register("candidate", "eve@example.com").await;
    let id = account["id"].as_str().unwrap();
    let good = app.token("candidate", "eve@example.com").await;
    assert_eq!(
        app.get_with_token("/api/v1/auth/me", &good).await.status(),
        200
    );

    assert_rejected(&app, None, "no header").await;
    assert_rejected(&app, Some("Bearer"), "empty bearer").await;
    assert_rejected(&app, Some("Bearer not.a.jwt"), "garbage").await;
    assert_rejected(&app, Some(&format!("Basic {good}")), "wrong scheme").await;

    // Tampered: the payload now claims the recruiter role, the signature is the old one.
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("recruiter");
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_rejected(&app, Some(&format!("Bearer {tampered}")), "tampered").await;

    // alg: none, with no signature at all.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_rejected(&app, Some(&format!("Bearer {unsigned}")), "alg none").await;

    // Signed with our secret but another algorithm than the configured HS256.
    let other_alg = sign(
        &claims_for(id, Role::Candidate, 600),
        Algorithm::HS512,
        SECRET,
    );
    assert_rejected(&app, Some(&format!("Bearer {other_alg}")), "HS512").await;

    // Signed with another secret.
    let foreign = sign(
        &claims_for(id, Role::Candidate, 600),
        Algorithm::HS256,
        "another-secret-that-is-also-long-enough-0000",
    );
    assert_rejected(&app, Some(&format!("Bearer {foreign}")), "foreign key").await;

    // Expired a minute ago.
    let expired = sign(
        &claims_for(id, Role::Candidate, -60),
        Algorithm::HS256,
        SECRET,
    );
    assert_rejected(&app, Some(&format!("Bearer {expired}")), "expired").await;

    // A valid signature whose role disagrees with the stored account.
    let wrong_role = sign(
        &claims_for(id, Role::Recruiter, 600),
        Algorithm::HS256,
        SECRET,
    );
    assert_rejected(&app, Some(&format!("Bearer {wrong_role}")), "role mismatch").await;

    // Our own correctly signed token is accepted, as a control for the cases above.
    let control = sign(
        &claims_for(id, Role::Candidate, 600),
        Algorithm::HS256,
        SECRET,
    );
    assert_eq!(
        app.get_with_token("/api/v1/auth/me", &control)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_deleted_user_loses_access_at_once() {
    let app = spawn_app().await;
    let account = app.register("candidate", "gone@example.com").await;
    let token = app.token("candidate", "gone@example.com").await;
    let id = Id::parse(account["id"].as_str().unwrap()).unwrap();
    assert!(app.state.store.users.delete(&id).await.unwrap());
    assert_rejected(&app, Some(&format!("Bearer {token}")), "deleted user").await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after_and_success_clears_them() {
    let app = spawn_app().await;
    app.register("candidate", "max@example.com").await;
    let app = &app;
    let attempt = |password: &'static str| async move {
        app.post_form(
            "/api/v1/auth/candidate/login",
            &[("username", "max@example.com"), ("password", password)],
        )
        .await
    };
    for _ in 0..4 {
        assert_eq!(attempt("wrong password").await.status(), 400);
    }
    assert_eq!(
        attempt(PASSWORD).await.status(),
        200,
        "success clears the count"
    );
    for _ in 0..5 {
        assert_eq!(attempt("wrong password").await.status(), 400);
    }
    let locked = attempt(PASSWORD).await;
    assert_eq!(locked.status(), 429, "locked even with the right password");
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(detail(locked).await.contains("Too many attempts"));
    // Another account is not locked by this one's failures.
    app.register("candidate", "other@example.com").await;
    app.token("candidate", "other@example.com").await;
}

/// Logs in through the web UI's server function and returns the session cookie pair.
async fn web_login(app: &TestApp, email: &str) -> String {
    let response = app.web_log_in("candidate", email).await;
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    common::session_cookie(&response)
}

#[tokio::test]
async fn server_function_errors_carry_the_rest_status_and_message() {
    let app = spawn_app().await;
    app.register("candidate", "fn@example.com").await;
    let attempt = |role: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/account/log-in"))
            .header("origin", app.url(""))
            .form(&[
                ("role", role),
                ("email", "fn@example.com"),
                ("password", password),
            ])
            .send()
    };
    let wrong = attempt("candidate", "not the password").await.unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong.headers().get("set-cookie").is_none());
    let body: Value = serde_json::from_str(&wrong.text().await.unwrap()).unwrap();
    assert_eq!(body["detail"], "Incorrect email or password");
    assert_eq!(body["status"], 400);
    let other_role = attempt("recruiter", PASSWORD).await.unwrap();
    assert_eq!(other_role.status(), 403);
    let sign_up = app
        .client
        .post(app.url("/api/account/sign-up"))
        .header("origin", app.url(""))
        .form(&[
            ("role", "candidate"),
            ("email", "bad"),
            ("password", "long enough"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_up.status(), 422);
    let body: Value = serde_json::from_str(&sign_up.text().await.unwrap()).unwrap();
    assert_eq!(body["field"], "email");

    // A JSON input that does not fit is the caller's error, said as such.
    for bad in [
        r#"{"session_id": "s", "question_id": "q", "answer": [1]}"#,
        "not json",
    ] {
        let saved = app
            .client
            .post(app.url("/api/candidate/answer"))
            .header("origin", app.url(""))
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 422, "{bad}");
        let body: Value = serde_json::from_str(&saved.text().await.unwrap()).unwrap();
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("Invalid input")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_web_session_is_an_httponly_cookie_accepted_by_the_api() {
    let app = spawn_app().await;
    app.register("candidate", "web@example.com").await;
    let cookie = web_login(&app, "web@example.com").await;
    let me = app.get_with_cookie("/api/v1/auth/me", &cookie).await;
    assert_eq!(me.status(), 200);
    assert_eq!(
        me.json::<Value>().await.unwrap()["email"],
        "web@example.com"
    );

    // The SSR page knows the user from the cookie alone.
    let page = app.get_with_cookie("/candidate", &cookie).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("web@example.com"));
}

#[tokio::test]
async fn logging_out_is_a_plain_form_that_works_without_javascript() {
    let app = spawn_app().await;
    app.register("candidate", "plain@example.com").await;
    let cookie = web_login(&app, "plain@example.com").await;
    let page = app
        .get_with_cookie("/candidate", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<form method="post" action="/api/account/log-out""#),
        "the header's log-out button posts a form"
    );

    // What the browser sends when that form is submitted: it is sent home, signed out.
    let submitted = app
        .client
        .post(app.url("/api/account/log-out"))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 302);
    assert_eq!(submitted.headers()["location"], "/");
    assert!(
        submitted.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn cookie_authenticated_changes_from_another_origin_are_refused() {
    let app = spawn_app().await;
    app.register("candidate", "csrf@example.com").await;
    let cookie = web_login(&app, "csrf@example.com").await;
    let log_out = |origin: Option<&'static str>, referer: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/api/account/log-out"))
            .header("cookie", &cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        request.send()
    };
    let cross_site = log_out(Some("https://evil.example"), None).await.unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(detail(cross_site).await, "Cross-site request refused.");
    assert_eq!(log_out(Some("null"), None).await.unwrap().status(), 403);
    assert_eq!(
        log_out(None, None).await.unwrap().status(),
        403,
        "no origin at all"
    );

    let same_site = log_out(None, Some(app.url("/candidate"))).await.unwrap();
    assert_eq!(same_site.status(), 200);
    assert!(
        same_site.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );

    // API clients send neither cookies nor Origin and are unaffected.
    let api = app
        .post_json(
            "/api/v1/auth/candidate/register",
            &json!({ "email": "api@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(api.status(), 201);
}

#[tokio::test]
async fn private_pages_redirect_signed_out_visitors_and_refuse_the_other_role() {
    let app = spawn_app().await;
    let signed_out = app
        .client
        .get(app.url("/recruiter"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 302);
    assert_eq!(
        signed_out.headers()["location"],
        "/login?role=recruiter&next=/recruiter"
    );

    app.register("candidate", "nosy@example.com").await;
    let cookie = web_login(&app, "nosy@example.com").await;
    let page = app.get_with_cookie("/recruiter", &cookie).await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("Not allowed"));
}

#[tokio::test]
async fn a_separate_frontend_origin_gets_cors_csrf_clearance_and_secure_cookies() {
    const UI: &str = "https://ui.example.com";
    let app = spawn_app_configured(&[("FRONTEND_URL", UI)], |_| {}).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight(UI).await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], UI);
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    app.register("candidate", "ui@example.com").await;
    let response = app
        .client
        .post(app.url("/api/account/log-in"))
        .header("origin", UI)
        .form(&[
            ("role", "candidate"),
            ("email", "ui@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the configured origin passes the CSRF check"
    );
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}
