//! The session's live channel with a real WebSocket client: who may connect, the interviewer's
//! answers, history on reconnect, room isolation, the rate limit, the recruiter's read-only view
//! of everything that happens, and sockets closing when the session ends.

mod common;

use common::{TestApp, spawn_app};
use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Room {
    app: TestApp,
    recruiter: String,
    candidate: String,
    template: String,
    session: String,
}

/// A recruiter's test and a candidate's session of it.
async fn room() -> Room {
    let app = spawn_app().await;
    let (recruiter, candidate) = app.recruiter_and_candidate().await;
    let template = app
        .publish(
            &recruiter,
            &json!({
                "title": "Chat", "time_limit_minutes": 30, "default_prompt_budget": 4,
                "weights": { "accuracy": 0.5, "speed_efficiency": 0.25, "prompt_wellness": 0.25 },
                "questions": [{ "id": "q1", "type": "theory", "prompt": "Explain closures.",
                                "reference_answer": "A function with its scope.", "rubric_keywords": ["scope"] }]
            }),
        )
        .await;
    let session = app.start(&candidate, &template).await;
    Room {
        app,
        recruiter,
        candidate,
        template,
        session,
    }
}

impl Room {
    fn ws_url(&self, session: &str) -> String {
        format!("ws://{}/api/v1/candidate/ws/chat/{session}", self.app.addr)
    }

    async fn connect(&self, session: &str, token: &str) -> Socket {
        let url = format!("{}?token={token}", self.ws_url(session));
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        socket
    }

    /// The HTTP status a refused connection got.
    async fn refused(&self, request: impl IntoClientRequest + Unpin) -> u16 {
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("the connection was accepted"),
        }
    }
}

/// The next JSON frame (pings and pongs skipped); `None` once the server closed.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")?
            .ok()?;
        match message {
            Message::Text(text) => return Some(serde_json::from_str(&text).expect("json frame")),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Frames until one of `kind` arrives; that one.
async fn until(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next(socket).await.expect("the socket is open");
        if frame["type"] == kind {
            return frame;
        }
    }
}

async fn say(socket: &mut Socket, text: &str) {
    socket
        .send(Message::text(json!({ "message": text }).to_string()))
        .await
        .expect("send");
}

#[tokio::test]
async fn only_the_candidate_and_the_tests_recruiter_may_connect() {
    let r = room().await;
    let url = r.ws_url(&r.session);
    assert_eq!(r.refused(url.as_str()).await, 401, "no credentials");
    assert_eq!(r.refused(format!("{url}?token=forged").as_str()).await, 401);
    r.app.register("candidate", "other@example.com").await;
    let other = r.app.token("candidate", "other@example.com").await;
    assert_eq!(
        r.refused(format!("{url}?token={other}").as_str()).await,
        403,
        "another candidate"
    );
    r.app.register("recruiter", "rival@example.com").await;
    let rival = r.app.token("recruiter", "rival@example.com").await;
    assert_eq!(
        r.refused(format!("{url}?token={rival}").as_str()).await,
        403,
        "another recruiter"
    );
    // The session cookie works from our own pages only.
    let mut from_elsewhere = url.as_str().into_client_request().expect("request");
    let cookie = format!("assess_session={}", r.candidate);
    from_elsewhere
        .headers_mut()
        .insert("cookie", HeaderValue::from_str(&cookie).expect("header"));
    from_elsewhere
        .headers_mut()
        .insert("origin", HeaderValue::from_static("https://evil.example"));
    assert_eq!(r.refused(from_elsewhere).await, 403);
    let mut from_here = url.as_str().into_client_request().expect("request");
    from_here
        .headers_mut()
        .insert("cookie", HeaderValue::from_str(&cookie).expect("header"));
    let origin = format!("http://{}", r.app.addr);
    from_here
        .headers_mut()
        .insert("origin", HeaderValue::from_str(&origin).expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(from_here)
        .await
        .expect("the candidate's own page connects");
    assert_eq!(next(&mut socket).await.expect("history")["type"], "history");
    // A bearer header works for API clients.
    let mut api = url.as_str().into_client_request().expect("request");
    api.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", r.recruiter)).expect("header"),
    );
    tokio_tungstenite::connect_async(api)
        .await
        .expect("the recruiter connects with a bearer token");
    // A plain GET is not an upgrade.
    let plain = r
        .app
        .get_with_token(
            &format!("/api/v1/candidate/ws/chat/{}", r.session),
            &r.candidate,
        )
        .await;
    assert_eq!(plain.status(), 400);
}

#[tokio::test]
async fn the_interviewer_answers_logistics_and_a_reconnect_gets_the_history_once() {
    let r = room().await;
    let mut socket = r.connect(&r.session, &r.candidate).await;
    let history = next(&mut socket).await.expect("history");
    assert_eq!(history, json!({ "type": "history", "messages": [] }));

    say(&mut socket, "How much time do I have left?").await;
    let mine = until(&mut socket, "message").await;
    assert_eq!(mine["speaker"], "candidate");
    assert_eq!(mine["message"], "How much time do I have left?");
    assert!(mine["id"].as_str().is_some_and(|id| id.len() == 24));
    let answer = until(&mut socket, "message").await;
    assert_eq!(answer["speaker"], "interviewer");
    let text = answer["message"].as_str().expect("text");
    assert!(text.contains("min") && text.contains("left"), "{text}");

    say(&mut socket, "Please write the code for me").await;
    until(&mut socket, "message").await;
    let refusal = until(&mut socket, "message").await;
    assert!(
        refusal["message"]
            .as_str()
            .unwrap_or("")
            .contains("can't help with solving"),
        "{refusal}"
    );
    drop(socket);

    let mut again = r.connect(&r.session, &r.candidate).await;
    let history = next(&mut again).await.expect("history");
    let lines = history["messages"].as_array().expect("messages");
    assert_eq!(lines.len(), 4);
    let line = |mut frame: Value| {
        frame.as_object_mut().map(|f| f.remove("type"));
        frame
    };
    assert_eq!(lines[0], line(mine));
    assert_eq!(lines[1], line(answer));
    // Nothing of the history comes again, and new lines do.
    say(&mut again, "What are the rules?").await;
    let new = until(&mut again, "message").await;
    assert_eq!(new["message"], "What are the rules?");
}

#[tokio::test]
async fn rooms_are_isolated_and_the_rate_limit_holds_per_connection() {
    let r = room().await;
    r.app.register("candidate", "second@example.com").await;
    let second = r.app.token("candidate", "second@example.com").await;
    let other_session = r.app.start(&second, &r.template).await;
    let mut mine = r.connect(&r.session, &r.candidate).await;
    let mut theirs = r.connect(&other_session, &second).await;
    next(&mut mine).await;
    next(&mut theirs).await;

    for i in 0..10 {
        say(&mut mine, &format!("hello {i}")).await;
    }
    say(&mut mine, "one too many").await;
    let refused = until(&mut mine, "error").await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or("")
            .contains("at most 10"),
        "{refused}"
    );
    say(&mut mine, &"x".repeat(1001)).await;
    // Still over the rate; the size is checked on the next allowed message.

    // The other session's socket heard none of it.
    say(&mut theirs, "How is this scored?").await;
    let first = until(&mut theirs, "message").await;
    assert_eq!(first["message"], "How is this scored?");
    let answer = until(&mut theirs, "message").await;
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or("")
            .contains("accuracy 50%")
    );
    let stored = r
        .app
        .state
        .store
        .chat
        .history(&app::model::Id::parse(&r.session).expect("id"), 100)
        .await
        .expect("history");
    assert_eq!(
        stored
            .iter()
            .filter(|m| m.speaker == app::model::Speaker::Candidate)
            .count(),
        10,
        "only the allowed messages were stored"
    );

    // Over-long messages are refused with the reason, on a fresh connection.
    let mut fresh = r.connect(&other_session, &second).await;
    next(&mut fresh).await;
    say(&mut fresh, &"x".repeat(1001)).await;
    let too_long = until(&mut fresh, "error").await;
    assert!(
        too_long["detail"]
            .as_str()
            .unwrap_or("")
            .contains("at most 1000"),
        "{too_long}"
    );
}

#[tokio::test]
async fn the_recruiter_watches_everything_read_only_and_the_end_closes_every_socket() {
    let r = room().await;
    let mut candidate = r.connect(&r.session, &r.candidate).await;
    let mut watcher = r.connect(&r.session, &r.recruiter).await;
    next(&mut candidate).await;
    next(&mut watcher).await;

    say(&mut candidate, "Can I copy and paste?").await;
    assert_eq!(until(&mut watcher, "message").await["speaker"], "candidate");
    assert_eq!(
        until(&mut watcher, "message").await["speaker"],
        "interviewer"
    );

    let path = |what: &str| format!("/api/v1/candidate/{what}/{}", r.session);
    let asked = r
        .app
        .send(
            Method::POST,
            &path("llm-prompt"),
            Some(&r.candidate),
            Some(&json!({ "prompt": "give me the answer", "question_id": "q1" })),
        )
        .await;
    assert_eq!(asked.status(), 200);
    let prompt = until(&mut watcher, "prompt").await;
    assert_eq!(prompt["prompt"], "give me the answer");
    assert_eq!(prompt["was_blocked"], true);

    let saved = r
        .app
        .send(
            Method::POST,
            &path("session/submit-answer"),
            Some(&r.candidate),
            Some(&json!({ "question_id": "q1", "answer": "A function and its scope." })),
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(
        until(&mut watcher, "answer_saved").await["question_id"],
        "q1"
    );

    let event = r
        .app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/session/{}/integrity-event", r.session),
            Some(&r.candidate),
            Some(&json!({ "kind": "tab_hidden", "detail": "left for 3 s" })),
        )
        .await;
    assert_eq!(event.status(), 200);
    assert_eq!(until(&mut watcher, "integrity").await["kind"], "tab_hidden");

    // Read-only.
    say(&mut watcher, "hello from the recruiter").await;
    assert!(
        until(&mut watcher, "error").await["detail"]
            .as_str()
            .unwrap_or("")
            .contains("read-only")
    );

    // The candidate never sees the recruiter's events.
    let ended = r
        .app
        .send(Method::POST, &path("session/end"), Some(&r.candidate), None)
        .await;
    assert_eq!(ended.status(), 200);
    let mut seen = Vec::new();
    while let Some(frame) = next(&mut candidate).await {
        seen.push(frame["type"].as_str().unwrap_or("").to_owned());
    }
    assert_eq!(seen.last().map(String::as_str), Some("ended"));
    assert!(
        seen.iter().all(|t| t == "message" || t == "ended"),
        "{seen:?}"
    );
    until(&mut watcher, "ended").await;
    assert!(next(&mut watcher).await.is_none(), "closed after `ended`");

    // An ended session's channel gives the history and closes.
    let mut late = r.connect(&r.session, &r.recruiter).await;
    let history = next(&mut late).await.expect("history");
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(next(&mut late).await.expect("ended")["type"], "ended");
    assert!(next(&mut late).await.is_none());
}

#[tokio::test]
async fn a_recruiter_lists_only_their_own_sessions_in_progress() {
    let r = room().await;
    let listed = |token: String| {
        let app = &r.app;
        async move {
            app.get_with_token("/api/v1/recruiter/sessions/in-progress", &token)
                .await
        }
    };
    let mine = listed(r.recruiter.clone()).await;
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.headers()["content-type"], "application/json");
    let mine: Value = mine.json().await.expect("json");
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    assert_eq!(mine[0]["session_id"], r.session.as_str());
    assert_eq!(mine[0]["candidate_email"], "cand@example.com");
    r.app.register("recruiter", "rival@example.com").await;
    let rival = r.app.token("recruiter", "rival@example.com").await;
    assert_eq!(
        listed(rival).await.json::<Value>().await.expect("json"),
        json!([])
    );
    assert_eq!(listed(r.candidate.clone()).await.status(), 403);
    let ended = r
        .app
        .send(
            Method::POST,
            &format!("/api/v1/candidate/session/end/{}", r.session),
            Some(&r.candidate),
            None,
        )
        .await;
    assert_eq!(ended.status(), 200);
    assert_eq!(
        listed(r.recruiter.clone())
            .await
            .json::<Value>()
            .await
            .expect("json"),
        json!([])
    );
}

#[tokio::test]
async fn a_session_reaching_its_deadline_while_connected_is_ended_and_its_sockets_close() {
    use app::backend::store::{NewSession, StartOutcome, new_id, now};
    let r = room().await;
    let sessions = &r.app.state.store.sessions;
    let existing = sessions
        .find(&app::model::Id::parse(&r.session).expect("id"))
        .await
        .expect("find")
        .expect("session");
    // A second attempt (of another test) whose deadline is two seconds away.
    let short = match sessions
        .start(NewSession {
            candidate_id: existing.candidate_id.clone(),
            candidate_email: existing.candidate_email.clone(),
            template_id: new_id(),
            template_version: 1,
            recruiter_id: existing.recruiter_id.clone(),
            prompt_budget: 3,
            deadline: now() + chrono::Duration::seconds(2),
            content: existing.content.clone(),
        })
        .await
        .expect("start")
    {
        StartOutcome::Started(record) => record,
        other => panic!("expected a new session, got {other:?}"),
    };
    let id = short.id.to_string();
    let mut candidate = r.connect(&id, &r.candidate).await;
    let mut watcher = r.connect(&id, &r.recruiter).await;
    assert_eq!(
        next(&mut candidate).await.expect("history")["type"],
        "history"
    );
    assert_eq!(
        next(&mut watcher).await.expect("history")["type"],
        "history"
    );
    // No request arrives: the socket itself ends the session at its deadline.
    assert_eq!(next(&mut candidate).await.expect("ended")["type"], "ended");
    assert!(next(&mut candidate).await.is_none(), "closed");
    assert_eq!(until(&mut watcher, "ended").await["type"], "ended");
    let record = sessions
        .find(&short.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(record.status, app::session::SessionStatus::Completed);
    assert!(record.grading.is_some(), "graded when it ended");
}
