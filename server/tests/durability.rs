//! Durability: the real server binary is killed with SIGKILL in the middle of a candidate's test,
//! while more saves are in flight; after a restart on the same data directory every answer,
//! prompt and integrity event that was acknowledged is still there, and the test goes on.

use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SECRET_KEY: &str = "durability-secret-key-that-is-long-enough-0123";
const PASSWORD: &str = "correct horse battery";

/// The server process; killed when dropped, so a failing test leaves nothing running.
struct Server(Child);

impl Server {
    /// SIGKILL, and wait until the process is gone.
    fn kill(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server binary on `port`, storing in `data_dir`, once it answers `/readyz`.
async fn start(data_dir: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATA_DIR", data_dir)
        .env("SECRET_KEY", SECRET_KEY)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "assess")
        .env("RUST_LOG", "warn")
        .env_remove("MONGO_URI")
        .env_remove("LLM_BASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server");
    let child = Server(child);
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && response.status() == 200
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    async fn login(&self, role: &str, email: &str) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/{role}/login", self.base))
            .form(&[("username", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.expect("json")["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }
}

#[tokio::test]
async fn acknowledged_answers_and_prompts_survive_a_kill_9() {
    use reqwest::Method;
    let data = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut server = start(data.path(), port).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    for (role, email) in [
        ("recruiter", "boss@example.com"),
        ("candidate", "cand@example.com"),
    ] {
        let registered = api
            .call(
                Method::POST,
                &format!("/api/v1/auth/{role}/register"),
                None,
                Some(json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        assert_eq!(registered.status(), 201);
    }
    let recruiter = api.login("recruiter", "boss@example.com").await;
    let candidate = api.login("candidate", "cand@example.com").await;
    let questions: Vec<Value> = (0..5)
        .map(|i| json!({ "id": format!("q{i}"), "type": "theory", "prompt": format!("Question {i}?") }))
        .collect();
    let created = api
        .call(
            Method::POST,
            "/api/v1/recruiter/test-template",
            Some(&recruiter),
            Some(json!({ "title": "Durable", "default_prompt_budget": 5, "questions": questions })),
        )
        .await;
    assert_eq!(created.status(), 201);
    let template = created.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let started = api
        .call(
            Method::POST,
            &format!("/api/v1/candidate/session/start/{template}"),
            Some(&candidate),
            None,
        )
        .await;
    assert_eq!(started.status(), 200);
    let session = started.json::<Value>().await.expect("json")["session_id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Acknowledged: three answers, two prompts, one integrity event.
    for i in 0..3 {
        let saved = api
            .call(
                Method::POST,
                &format!("/api/v1/candidate/session/submit-answer/{session}"),
                Some(&candidate),
                Some(json!({ "question_id": format!("q{i}"), "answer": format!("Answer {i}") })),
            )
            .await;
        assert_eq!(saved.status(), 200);
    }
    for prompt in ["What is a closure?", "What is hoisting?"] {
        let asked = api
            .call(
                Method::POST,
                &format!("/api/v1/candidate/llm-prompt/{session}"),
                Some(&candidate),
                Some(json!({ "prompt": prompt })),
            )
            .await;
        assert_eq!(asked.status(), 200);
    }
    let event = api
        .call(
            Method::POST,
            &format!("/api/v1/candidate/session/{session}/integrity-event"),
            Some(&candidate),
            Some(json!({ "kind": "tab_hidden", "detail": "before the crash" })),
        )
        .await;
    assert!(event.status().is_success());

    // More saves in flight when the process dies; whatever they got is fine.
    let in_flight: Vec<_> = (3..5)
        .map(|i| {
            let request = api
                .client
                .post(format!(
                    "{}/api/v1/candidate/session/submit-answer/{session}",
                    api.base
                ))
                .bearer_auth(&candidate)
                .json(&json!({ "question_id": format!("q{i}"), "answer": format!("Answer {i}") }))
                .send();
            tokio::spawn(request)
        })
        .collect();
    server.kill();
    for request in in_flight {
        let _ = request.await;
    }

    let mut server = start(data.path(), port).await;
    let view = api
        .call(
            Method::GET,
            &format!("/api/v1/candidate/session/{session}"),
            Some(&candidate),
            None,
        )
        .await;
    assert_eq!(
        view.status(),
        200,
        "the token and the session outlive the crash"
    );
    let view: Value = view.json().await.expect("json");
    assert_eq!(view["status"], "in_progress");
    assert_eq!(view["used_prompts"], 2);
    let answers = view["answers"].as_array().expect("answers");
    for i in 0..3 {
        assert!(
            answers.iter().any(
                |a| a["question_id"] == format!("q{i}") && a["answer"] == format!("Answer {i}")
            ),
            "answer {i} is lost: {answers:?}"
        );
    }
    let prompts: Value = api
        .call(
            Method::GET,
            &format!("/api/v1/candidate/session/{session}/prompts"),
            Some(&candidate),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(prompts.as_array().map(Vec::len), Some(2), "{prompts}");
    // The test goes on: another answer, then the end with scores.
    let saved = api
        .call(
            Method::POST,
            &format!("/api/v1/candidate/session/submit-answer/{session}"),
            Some(&candidate),
            Some(json!({ "question_id": "q4", "answer": "After the restart" })),
        )
        .await;
    assert_eq!(saved.status(), 200);
    let ended = api
        .call(
            Method::POST,
            &format!("/api/v1/candidate/session/end/{session}"),
            Some(&candidate),
            None,
        )
        .await;
    assert_eq!(ended.status(), 200);
    let result: Value = api
        .call(
            Method::GET,
            &format!("/api/v1/recruiter/result/{session}"),
            Some(&recruiter),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let events = result["integrity_events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["detail"] == "before the crash"),
        "{events:?}"
    );
    server.kill();
}
