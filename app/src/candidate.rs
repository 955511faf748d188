//! Server functions for the candidate's pages. Each delegates to the same services as the REST API
//! (`/api/v1/candidate/...`).

use crate::error::ApiError;
use crate::model::Id;
use crate::session::{
    IntegrityKind, PromptInput, PromptLine, PromptReply, Scores, SessionSummary, SessionView,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// A published test, as a candidate may see it before starting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AvailableTest {
    pub id: Id,
    pub title: String,
    pub description: String,
    pub questions: usize,
    pub time_limit_minutes: u32,
    pub prompt_budget: u32,
}

#[cfg(feature = "ssr")]
async fn candidate() -> Result<crate::backend::Caller, ApiError> {
    let (cx, crate::backend::auth::web::CandidateUser(user)) =
        crate::backend::server_fn_caller().await?;
    Ok((cx, user))
}

/// Every published test.
#[server(endpoint = "candidate/tests")]
pub async fn available_tests() -> Result<Vec<AvailableTest>, ApiError> {
    let (cx, _) = candidate().await?;
    let published = crate::backend::templates::published(&cx.state)
        .await
        .map_err(|err| cx.fail(err))?;
    Ok(published
        .into_iter()
        .map(|t| AvailableTest {
            id: t.id,
            title: t.content.title,
            description: t.content.description,
            questions: t.content.questions.len(),
            time_limit_minutes: t.content.time_limit_minutes,
            prompt_budget: t.content.default_prompt_budget,
        })
        .collect())
}

/// The candidate's attempts, newest first.
#[server(endpoint = "candidate/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::list(&cx.state, &user.id)
        .await
        .map_err(|err| cx.fail(err))
}

/// Starts the test, or resumes the attempt in progress.
#[server(endpoint = "candidate/start")]
pub async fn start_test(template_id: String) -> Result<SessionView, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::start(&cx.state, &user.id, &user.email, &template_id)
        .await
        .map_err(|err| cx.fail(err))
}

#[server(endpoint = "candidate/session")]
pub async fn session_state(session_id: String) -> Result<SessionView, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::get(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))
}

/// Saves one answer (text, or a list of option indexes).
#[server(endpoint = "candidate/answer", input = Json)]
pub async fn save_answer(
    session_id: String,
    question_id: String,
    answer: serde_json::Value,
) -> Result<(), ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::submit_answer(
        &cx.state,
        &user.id,
        &session_id,
        crate::session::AnswerInput {
            question_id,
            answer,
        },
    )
    .await
    .map(|_| ())
    .map_err(|err| cx.fail(err))
}

#[server(endpoint = "candidate/end")]
pub async fn end_test(session_id: String) -> Result<Scores, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::end(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))
}

#[server(endpoint = "candidate/integrity", input = Json)]
pub async fn report_event(
    session_id: String,
    kind: IntegrityKind,
    detail: Option<String>,
) -> Result<(), ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::record_event(
        &cx.state,
        &user.id,
        &session_id,
        crate::session::IntegrityInput { kind, detail },
    )
    .await
    .map(|_| ())
    .map_err(|err| cx.fail(err))
}

/// Asks the AI assistant (within the session's prompt budget, through the gatekeeper).
#[server(endpoint = "candidate/prompt", input = Json)]
pub async fn ask_assistant(
    session_id: String,
    input: PromptInput,
) -> Result<PromptReply, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::assistant::ask(&cx.state, &user.id, &session_id, input)
        .await
        .map_err(|err| cx.fail(err))
}

/// The candidate's exchanges with the assistant in this session, oldest first.
#[server(endpoint = "candidate/prompts")]
pub async fn assistant_history(session_id: String) -> Result<Vec<PromptLine>, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::assistant::history(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))
}
