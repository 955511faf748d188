//! `spawn_app()`: the whole server on a random port with a fresh SQLite store, and a real HTTP
//! client. Every test gets its own, so tests are independent.
#![allow(dead_code)]

use app::backend::config::Config;
use app::backend::{AppState, Services};
use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::net::SocketAddr;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// Where this app's SQLite store lives.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust its state (e.g. swap a repository for a faulty one).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Services)) -> TestApp {
    spawn_app_configured(&[], adjust).await
}

/// Spawns the app with extra environment variables (on top of a test key and data dir).
pub async fn spawn_app_configured(
    env: &[(&'static str, &str)],
    adjust: impl FnOnce(&mut Services),
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATA_DIR", data_dir.path().display().to_string()),
        (
            "SECRET_KEY",
            "test-secret-key-that-is-long-enough-0123456789".to_owned(),
        ),
    ]);
    vars.extend(env.iter().map(|(name, value)| (*name, (*value).to_owned())));
    let (config, _) = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
    let options = LeptosOptions::builder()
        .output_name("assess")
        .site_root("target/site")
        .build();
    let mut services = Services::open(config, options).await.expect("open store");
    adjust(&mut services);
    let state = AppState::from(services);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let service = server::app_service(state.clone());
    // Accepted like the binary accepts them.
    let listener = axum::serve::ListenerExt::tap_io(listener, server::send_without_delay);
    tokio::spawn(async move { axum::serve(listener, service).await.expect("serve") });

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        addr,
        client,
        state,
        _data_dir: data_dir,
    }
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Registers an account of `role` ("candidate" or "recruiter") with [`PASSWORD`].
    pub async fn register(&self, role: &str, email: &str) -> serde_json::Value {
        let response = self
            .post_json(
                &format!("/api/v1/auth/{role}/register"),
                &serde_json::json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), 201, "registering {email}");
        response.json().await.expect("json")
    }

    /// Logs in as the web UI's log-in form does (a same-origin form post); the server's answer,
    /// which sets the session cookie.
    pub async fn web_log_in(&self, role: &str, email: &str) -> reqwest::Response {
        let response = self
            .client
            .post(self.url("/api/account/log-in"))
            .header("origin", self.url(""))
            .form(&[("role", role), ("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "web log-in of {email}");
        response
    }

    /// Logs in through the REST API and returns the access token.
    pub async fn token(&self, role: &str, email: &str) -> String {
        let response = self
            .post_form(
                &format!("/api/v1/auth/{role}/login"),
                &[("username", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 200, "logging in {email}");
        let body: serde_json::Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// Any request, with an optional Bearer token and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// A GET as the web UI's browser sends it: with the session `cookie`.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request")
    }

    /// Creates (published) the test `body` as the recruiter; its id.
    pub async fn publish(&self, recruiter: &str, body: &serde_json::Value) -> String {
        let created = self
            .send(
                reqwest::Method::POST,
                "/api/v1/recruiter/test-template",
                Some(recruiter),
                Some(body),
            )
            .await;
        assert_eq!(created.status(), 201);
        let template: serde_json::Value = created.json().await.expect("json");
        template["id"].as_str().expect("id").to_owned()
    }

    /// Starts the test as the candidate; the session's id.
    pub async fn start(&self, candidate: &str, template_id: &str) -> String {
        let started = self
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/candidate/session/start/{template_id}"),
                Some(candidate),
                None,
            )
            .await;
        assert_eq!(started.status(), 200);
        let session: serde_json::Value = started.json().await.expect("json");
        session["session_id"].as_str().expect("id").to_owned()
    }

    /// Registers and logs in the usual pair, `boss@example.com` (recruiter) and
    /// `cand@example.com` (candidate); their tokens, recruiter first.
    pub async fn recruiter_and_candidate(&self) -> (String, String) {
        self.register("recruiter", "boss@example.com").await;
        let recruiter = self.token("recruiter", "boss@example.com").await;
        self.register("candidate", "cand@example.com").await;
        let candidate = self.token("candidate", "cand@example.com").await;
        (recruiter, candidate)
    }

    /// Saves `answer` to `question` of the session as the candidate.
    pub async fn answer(
        &self,
        candidate: &str,
        session: &str,
        question: &str,
        answer: serde_json::Value,
    ) -> reqwest::Response {
        self.send(
            reqwest::Method::POST,
            &format!("/api/v1/candidate/session/submit-answer/{session}"),
            Some(candidate),
            Some(&serde_json::json!({ "question_id": question, "answer": answer })),
        )
        .await
    }

    /// Ends the session as the candidate.
    pub async fn end(&self, candidate: &str, session: &str) -> reqwest::Response {
        self.send(
            reqwest::Method::POST,
            &format!("/api/v1/candidate/session/end/{session}"),
            Some(candidate),
            None,
        )
        .await
    }

    /// The recruiter's view of the session's result (which must be found).
    pub async fn result(&self, recruiter: &str, session: &str) -> serde_json::Value {
        let response = self
            .send(
                reqwest::Method::GET,
                &format!("/api/v1/recruiter/result/{session}"),
                Some(recruiter),
                None,
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }
}

/// The grade of `question` in a recruiter's result.
pub fn question_grade<'a>(result: &'a serde_json::Value, question: &str) -> &'a serde_json::Value {
    result["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| q["question"]["id"] == question)
        .map(|q| &q["grade"])
        .expect("question")
}

/// The `name=value` part of the response's `Set-Cookie`.
pub fn session_cookie(response: &reqwest::Response) -> String {
    let set_cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}
