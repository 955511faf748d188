//! `/api/v1/candidate/...`: taking a test (candidates only: a recruiter gets 403, anyone signed
//! out 401).

use app::backend::AppState;
use app::backend::auth::web::CandidateUser;
use app::backend::error::AppError;
use app::backend::{assistant, sessions};
use app::session::{
    AnswerInput, AssistantEvent, ExampleRun, IntegrityInput, Message, PromptInput, PromptLine,
    RunInput, Scores, SessionSummary, SessionView,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/candidate/session/start/{template_id}", post(start))
        .route(
            "/candidate/session/submit-answer/{session_id}",
            post(submit_answer),
        )
        .route("/candidate/session/end/{session_id}", post(end))
        .route("/candidate/sessions", get(list))
        .route("/candidate/session/{session_id}", get(show))
        .route(
            "/candidate/session/{session_id}/integrity-event",
            post(integrity_event),
        )
        .route("/candidate/llm-prompt/{session_id}", post(llm_prompt))
        .route(
            "/candidate/session/{session_id}/run-examples",
            post(run_examples),
        )
        .route("/candidate/session/{session_id}/prompts", get(prompts))
}

/// JSON by default; with `Accept: text/event-stream` the reply streams as server-sent events
/// `delta`, then `done` or `error` (see [`AssistantEvent`]).
async fn llm_prompt(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PromptInput>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(input) = body?;
    let streaming = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"));
    if !streaming {
        return Ok(
            Json(assistant::ask(&state, &user.id, &session_id, input).await?).into_response(),
        );
    }
    let events = assistant::ask_streaming(state, &user.id, &session_id, input).await?;
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

async fn prompts(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
) -> Result<Json<Vec<PromptLine>>, AppError> {
    Ok(Json(
        assistant::history(&state, &user.id, &session_id).await?,
    ))
}

async fn start(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(template_id): Path<String>,
) -> Result<Json<SessionView>, AppError> {
    Ok(Json(
        sessions::start(&state, &user.id, &user.email, &template_id).await?,
    ))
}

async fn submit_answer(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
    body: Result<Json<AnswerInput>, JsonRejection>,
) -> Result<Json<Message>, AppError> {
    let Json(input) = body?;
    Ok(Json(
        sessions::submit_answer(&state, &user.id, &session_id, input).await?,
    ))
}

async fn end(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
) -> Result<Json<Scores>, AppError> {
    Ok(Json(sessions::end(&state, &user.id, &session_id).await?))
}

async fn list(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
) -> Result<Json<Vec<SessionSummary>>, AppError> {
    Ok(Json(sessions::list(&state, &user.id).await?))
}

async fn show(
    State(state): State<AppState>,
    CandidateUser(user): CandidateUser,
    Path(session_id): Path<String>,
) -> Result<Json<SessionView>, AppError> {
    Ok(Json(sessions::get(&state, &user.id, &session_id).await?))
}

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
