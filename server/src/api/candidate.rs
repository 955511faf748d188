//! `/api/v1/candidate/...`: taking a test (candidates only: a recruiter gets 403, anyone signed
//! out 401).

use app::backend::AppState;
use app::backend::auth::web::{CandidateClaimant, CandidateUser};
use app::backend::error::AppError;
use app::backend::{assistant, sessions};
use app::model::Id;
use app::session::{
    AnswerInput, AssistantEvent, ExampleRun, IntegrityInput, Message, PromptInput, PromptLine,
    PromptReply, RunInput, Scores, SessionSummary, SessionView,
};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(submit_answer))
        .routes(routes!(end))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(integrity_event))
        .routes(routes!(llm_prompt))
        .routes(routes!(run_examples))
        .routes(routes!(prompts))
}

/// JSON by default; with `Accept: text/event-stream` the reply streams as server-sent events
/// `delta`, then `done` or `error` (see [`AssistantEvent`]).
#[utoipa::path(
    post,
    path = "/candidate/llm-prompt/{session_id}",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    request_body = PromptInput,
    responses(
        (status = OK, description = "The assistant's reply (or its refusal) and the budget left; with `Accept: text/event-stream`, events `delta`, then `done` or `error`", content(
            (PromptReply = "application/json"),
            (AssistantEvent = "text/event-stream"),
        )),
        (status = BAD_REQUEST, description = "The session has ended, or its time is up", body = super::ErrorBody),
        (status = FORBIDDEN, description = "The prompt budget is spent, or this is not a candidate account", body = super::ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Prompts too fast; see `Retry-After`", body = super::ErrorBody),
        (status = BAD_GATEWAY, description = "The assistant's provider failed; the prompt was not counted", body = super::ErrorBody),
    ),
)]
async fn llm_prompt(
    State(state): State<AppState>,
    CandidateClaimant(candidate): CandidateClaimant,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PromptInput>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(input) = candidate
        .confirm(&state, body.map_err(AppError::from))
        .await?;
    let streaming = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"));
    if !streaming {
        return Ok(
            Json(assistant::ask(&state, &candidate, &session_id, input).await?).into_response(),
        );
    }
    let events = assistant::ask_streaming(state, &candidate, &session_id, input).await?;
    let events = events.map(|event| {
        let name = match &event {
            AssistantEvent::Delta { .. } => "delta",
            AssistantEvent::Done(_) => "done",
            AssistantEvent::Failed { .. } => "error",
        };
        Event::default().event(name).json_data(&event)
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[utoipa::path(
    post,
    path = "/candidate/session/{session_id}/run-examples",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    request_body = RunInput,
    responses(
        (status = OK, description = "Each visible example, run against the code", body = Vec<ExampleRun>),
        (status = BAD_REQUEST, description = "The session has ended, or its time is up", body = super::ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Runs too fast; see `Retry-After`", body = super::ErrorBody),
    ),
)]
async fn run_examples(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
    body: Result<Json<RunInput>, JsonRejection>,
) -> Result<Json<Vec<ExampleRun>>, AppError> {
    let Json(input) = body?;
    Ok(Json(
        sessions::run_examples(&state, &user.id, &session_id, input).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/candidate/session/{session_id}/prompts",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    responses(
        (status = OK, description = "The session's prompts and replies, oldest first", body = Vec<PromptLine>),
    ),
)]
async fn prompts(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
) -> Result<Json<Vec<PromptLine>>, AppError> {
    Ok(Json(
        assistant::history(&state, &user.id, &session_id).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/candidate/session/start/{template_id}",
    tag = "candidate",
    security(("bearer" = [])),
    params(("template_id" = Id, Path, description = "A published template")),
    responses(
        (status = OK, description = "The new session, or the one in progress on this template (`resumed`)", body = SessionView),
    ),
)]
async fn start(
    State(state): State<AppState>,
    CandidateClaimant(candidate): CandidateClaimant,
    Path(template_id): Path<String>,
) -> Result<Json<SessionView>, AppError> {
    Ok(Json(
        sessions::start(&state, &candidate, &template_id).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/candidate/session/submit-answer/{session_id}",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    request_body = AnswerInput,
    responses(
        (status = OK, description = "Saved (the latest answer to a question replaces earlier ones)", body = Message),
        (status = BAD_REQUEST, description = "The session has ended, or its time is up", body = super::ErrorBody),
    ),
)]
async fn submit_answer(
    State(state): State<AppState>,
    CandidateClaimant(candidate): CandidateClaimant,
    Path(session_id): Path<String>,
    body: Result<Json<AnswerInput>, JsonRejection>,
) -> Result<Json<Message>, AppError> {
    let Json(input) = candidate
        .confirm(&state, body.map_err(AppError::from))
        .await?;
    Ok(Json(
        sessions::submit_answer(&state, &candidate, &session_id, input).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/candidate/session/end/{session_id}",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    responses(
        (status = OK, description = "Ended and graded; ending again returns the same scores", body = Scores),
    ),
)]
async fn end(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
) -> Result<Json<Scores>, AppError> {
    Ok(Json(sessions::end(&state, &user.id, &session_id).await?))
}

#[utoipa::path(
    get,
    path = "/candidate/sessions",
    tag = "candidate",
    security(("bearer" = [])),
    responses(
        (status = OK, description = "The candidate's sessions, newest first", body = Vec<SessionSummary>),
    ),
)]
async fn list(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
) -> Result<Json<Vec<SessionSummary>>, AppError> {
    Ok(Json(sessions::list(&state, &user.id).await?))
}

#[utoipa::path(
    get,
    path = "/candidate/session/{session_id}",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    responses(
        (status = OK, description = "The session as the candidate sees it (no hidden parts)", body = SessionView),
    ),
)]
async fn show(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
) -> Result<Json<SessionView>, AppError> {
    Ok(Json(sessions::get(&state, &user.id, &session_id).await?))
}

#[utoipa::path(
    post,
    path = "/candidate/session/{session_id}/integrity-event",
    tag = "candidate",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    request_body = IntegrityInput,
    responses(
        (status = OK, description = "Recorded", body = Message),
        (status = BAD_REQUEST, description = "The session has ended, or its time is up", body = super::ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Too many events for this session", body = super::ErrorBody),
    ),
)]
async fn integrity_event(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
    body: Result<Json<IntegrityInput>, JsonRejection>,
) -> Result<Json<Message>, AppError> {
    let Json(input) = body?;
    Ok(Json(
        sessions::record_event(&state, &user.id, &session_id, input).await?,
    ))
}
