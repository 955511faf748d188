//! `GET /api/v1/candidate/ws/chat/{session_id}`: the session's live channel over a WebSocket.
//! The candidate who owns the session chats with the interviewer; a recruiter who owns the test
//! joins read-only and sees everything that happens in the session. Everyone else is refused
//! before the upgrade (401 without credentials, 403 with someone else's).
//!
//! On connecting a client first receives the chat so far (`history`), then every new event of
//! its room; lines already in the history are never sent twice, so a reconnect loses and
//! duplicates nothing. Limits: frames of at most 16 KiB, messages of at most
//! [`MAX_CHAT_CHARS`](app::live::MAX_CHAT_CHARS) characters and
//! [`CHAT_MESSAGES_PER_MINUTE`] per connection, a ping every 20 s and a close after 60 s without
//! a sign of life; a session that ends closes its sockets.

use app::backend::AppState;
use app::backend::auth::authenticate;
use app::backend::auth::web::{check_same_origin, presented_token};
use app::backend::chat::{self, Seat};
use app::backend::error::AppError;
use app::backend::store::{SessionRecord, now, rfc3339};
use app::live::{CHAT_MESSAGES_PER_MINUTE, ChatInput, LiveEvent};
use app::model::Id;
use app::session::SessionStatus;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const MAX_FRAME_BYTES: usize = 16 * 1024;
const PING_EVERY: Duration = Duration::from_secs(20);
const IDLE_AFTER: Duration = Duration::from_secs(60);

/// Close codes (RFC 6455).
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
const TRY_AGAIN_LATER: u16 = 1013;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(connect))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    /// The bearer token, for clients that cannot set headers on a WebSocket (browsers).
    token: Option<String>,
}

/// The session's live channel (a WebSocket; frames are JSON `LiveEvent`s, the candidate sends
/// `ChatInput`s). The token may come as a bearer header, `?token=`, or the web UI's cookie.
#[utoipa::path(
    get,
    path = "/candidate/ws/chat/{session_id}",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session"), TokenQuery),
    responses(
        (status = SWITCHING_PROTOCOLS, description = "Upgraded: the socket first receives `history`", body = LiveEvent),
        (status = BAD_REQUEST, description = "Not a WebSocket upgrade request, or the session has ended", body = super::ErrorBody),
    ),
)]
async fn connect(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let from_query = query.ok().and_then(|Query(q)| q.token);
    let token = match from_query {
        Some(token) => token,
        None => {
            let token = presented_token(&headers)?.ok_or(AppError::Unauthorized)?;
            // A browser sends the cookie on any page's socket: only our own pages may use it.
            if headers.get(header::AUTHORIZATION).is_none() {
                check_same_origin(&state, &headers)?;
            }
            token
        }
    };
    let user = authenticate(&state, &token).await?;
    let (session, seat) = chat::join(&state, &user, &session_id).await?;
    let upgrade = upgrade.map_err(|rejection| {
        AppError::BadRequest(format!("A WebSocket upgrade is required: {rejection}"))
    })?;
    Ok(upgrade
        // Frames are small: a 4 KiB read buffer instead of tungstenite's 128 KiB keeps 1,000
        // idle sockets from costing 130 MB.
        .read_buffer_size(4 * 1024)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let session_id = session.id.clone();
            if let Err(err) = run(state, session, seat, socket).await {
                tracing::debug!(%session_id, error = %err, "chat socket ended with an error");
            }
        }))
}

fn frame(event: &LiveEvent) -> Message {
    // Serialising these plain types cannot fail.
    Message::Text(serde_json::to_string(event).unwrap_or_default().into())
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

async fn run(
    state: AppState,
    session: SessionRecord,
    seat: Seat,
    socket: WebSocket,
) -> Result<(), axum::Error> {
    let (mut sink, mut stream) = socket.split();
    // Join the room before reading the history, so nothing falls between the two.
    let mut room = state.rooms.subscribe(&session.id);
    let history = match chat::history(&state, &session).await {
        Ok(history) => history,
        Err(_) => {
            sink.send(close(TRY_AGAIN_LATER, "history unavailable"))
                .await?;
            return Ok(());
        }
    };
    let seen: HashSet<Id> = history.iter().map(|line| line.id.clone()).collect();
    sink.send(frame(&LiveEvent::History { messages: history }))
        .await?;
    if session.status != SessionStatus::InProgress {
        let ended_at = session.ended_at.unwrap_or(session.deadline);
        sink.send(frame(&LiveEvent::Ended {
            ended_at: rfc3339(ended_at),
        }))
        .await?;
        sink.send(close(NORMAL, "session ended")).await?;
        return Ok(());
    }

    let mut sent: VecDeque<Instant> = VecDeque::new();
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    // At the deadline the session is ended (which tells every socket of it).
    let deadline = Instant::now()
        + (session.deadline - now())
            .to_std()
            .unwrap_or(Duration::ZERO)
        + Duration::from_secs(1);
    let expiry = tokio::time::sleep_until(deadline);
    tokio::pin!(expiry);
    let mut expired = false;

    loop {
        tokio::select! {
            // Room events first: a session that ended is seen before any later line is read.
            biased;
            event = room.recv() => match event {
                Ok(event) => {
                    if let LiveEvent::Message(line) = event.as_ref()
                        && seen.contains(&line.id)
                    {
                        continue;
                    }
                    if seat == Seat::Observer || event.for_candidate() {
                        sink.send(frame(&event)).await?;
                    }
                    if matches!(event.as_ref(), LiveEvent::Ended { .. }) {
                        sink.send(close(NORMAL, "session ended")).await?;
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    sink.send(close(TRY_AGAIN_LATER, "fell behind; reconnect")).await?;
                    break;
                }
                Err(RecvError::Closed) => break,
            },
            incoming = stream.next() => {
                let Some(Ok(message)) = incoming else { break };
                last_heard = Instant::now();
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(_) => break,
                    Message::Binary(_) => {
                        sink.send(frame(&LiveEvent::Error { detail: "Send JSON text frames.".into() })).await?;
                        continue;
                    }
                    // Pings are answered by the library; pongs only show the client is alive.
                    _ => continue,
                };
                if seat == Seat::Observer {
                    sink.send(frame(&LiveEvent::Error { detail: "This view is read-only.".into() })).await?;
                    continue;
                }
                let now_ = Instant::now();
                while sent.front().is_some_and(|t| now_.duration_since(*t) >= Duration::from_secs(60)) {
                    sent.pop_front();
                }
                if sent.len() >= CHAT_MESSAGES_PER_MINUTE {
                    sink.send(frame(&LiveEvent::Error {
                        detail: format!("Slow down: at most {CHAT_MESSAGES_PER_MINUTE} messages a minute."),
                    })).await?;
                    continue;
                }
                let input = match serde_json::from_str::<ChatInput>(&text) {
                    Ok(input) => input,
                    Err(_) => {
                        sink.send(frame(&LiveEvent::Error { detail: "Send {\"message\": \"...\"}.".into() })).await?;
                        continue;
                    }
                };
                sent.push_back(now_);
                if let Err(err) = chat::say(&state, &session, &input.message).await {
                    // An ended session tells every socket itself; other refusals go to this one.
                    sink.send(frame(&LiveEvent::Error { detail: err.detail() })).await?;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= IDLE_AFTER {
                    sink.send(close(GOING_AWAY, "idle")).await?;
                    break;
                }
                sink.send(Message::Ping(Default::default())).await?;
            }
            () = &mut expiry, if !expired => {
                expired = true;
                // Ends and grades it; the room then hears `ended`.
                if let Err(err) = app::backend::sessions::expire(&state, &session.id).await {
                    tracing::warn!(session_id = %session.id, error = %err, "could not end the session at its deadline");
                    sink.send(close(TRY_AGAIN_LATER, "could not end the session")).await?;
                    break;
                }
            }
        }
    }
    Ok(())
}
