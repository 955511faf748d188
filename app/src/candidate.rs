//! Server functions for the candidate's pages. Each delegates to the same services as the REST API
//! (`/api/v1/candidate/...`).

use crate::error::ApiError;
use crate::markdown::Block;
use crate::model::Id;
use crate::session::{
    Answer, ExampleRun, IntegrityKind, PromptInput, PromptLine, PromptReply, RunInput, Scores,
    SessionSummary, SessionView,
};
use crate::wire::JsonText;
use leptos::prelude::*;
use leptos::server_fn::codec::{ByteStream, Streaming};
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

/// The candidate by their token alone, for the services that confirm the account themselves
/// (see [`crate::backend::auth::Claimant`]).
#[cfg(feature = "ssr")]
async fn candidate_claimant() -> Result<
    (
        crate::backend::ServerFnContext,
        crate::backend::auth::Claimant,
    ),
    ApiError,
> {
    let (cx, crate::backend::auth::web::CandidateClaimant(claimant)) =
        crate::backend::server_fn_caller().await?;
    Ok((cx, claimant))
}

/// Every published test.
#[server(endpoint = "candidate/tests", output = JsonText)]
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
#[server(endpoint = "candidate/sessions", output = JsonText)]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::list(&cx.state, &user.id)
        .await
        .map_err(|err| cx.fail(err))
}

/// Starts the test, or resumes the attempt in progress. Posted by the page's script, or by the
/// start button's plain form before the script runs: that post is answered with a redirect to
/// the test.
#[server(endpoint = "candidate/start", output = JsonText)]
pub async fn start_test(template_id: String) -> Result<SessionView, ApiError> {
    let (cx, claimant) = candidate_claimant().await?;
    let session = crate::backend::sessions::start(&cx.state, &claimant, &template_id)
        .await
        .map_err(|err| cx.fail(err))?;
    crate::account::redirect_plain_form(&cx.parts, &test_path(&session.session_id));
    Ok(session)
}

/// The address of a candidate's test page (the test open, or its result).
pub fn test_path(session_id: &impl std::fmt::Display) -> String {
    format!("/candidate/session/{session_id}")
}

#[server(endpoint = "candidate/session", output = JsonText)]
pub async fn session_state(session_id: String) -> Result<SessionView, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::get(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))
}

/// Saves one answer (text, or the options picked).
#[server(endpoint = "candidate/answer", input = JsonText, output = JsonText)]
pub async fn save_answer(
    session_id: String,
    question_id: String,
    answer: Answer,
) -> Result<(), ApiError> {
    let (cx, candidate) = candidate_claimant().await?;
    crate::backend::sessions::submit_answer(
        &cx.state,
        &candidate,
        &session_id,
        crate::session::AnswerInput {
            question_id,
            answer: answer.into(),
        },
    )
    .await
    .map(|_| ())
    .map_err(|err| cx.fail(err))
}

#[server(endpoint = "candidate/end", output = JsonText)]
pub async fn end_test(session_id: String) -> Result<Scores, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::end(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))
}

#[server(endpoint = "candidate/integrity", input = JsonText, output = JsonText)]
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

/// Runs the code on the question's visible examples.
#[server(endpoint = "candidate/run-examples", input = JsonText, output = JsonText)]
pub async fn run_examples(
    session_id: String,
    input: RunInput,
) -> Result<Vec<ExampleRun>, ApiError> {
    let (cx, user) = candidate().await?;
    crate::backend::sessions::run_examples(&cx.state, &user.id, &session_id, input)
        .await
        .map_err(|err| cx.fail(err))
}

/// One line (newline-delimited JSON) of the assistant's reply streamed to the test page, with
/// the Markdown already parsed by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveReply {
    /// Everything that may be shown so far.
    Partial { markdown: Vec<Block> },
    /// The reply as recorded, which replaces what was shown, and the budget.
    Done {
        reply: PromptReply,
        markdown: Vec<Block>,
    },
    /// The provider failed; the prompt was not counted.
    Failed { detail: String },
}

/// Asks the AI assistant (within the session's prompt budget, through the gatekeeper); the
/// reply streams back as [`LiveReply`] lines. Refusals before the provider is asked (budget
/// spent, session ended, bad input) are ordinary errors.
#[server(endpoint = "candidate/prompt", input = JsonText, output = Streaming)]
pub async fn ask_assistant(
    session_id: String,
    input: PromptInput,
) -> Result<ByteStream<ApiError>, ApiError> {
    use crate::session::AssistantEvent;
    use futures_util::StreamExt;
    let (cx, candidate) = candidate_claimant().await?;
    let events =
        crate::backend::assistant::ask_streaming(cx.state.clone(), &candidate, &session_id, input)
            .await
            .map_err(|err| cx.fail(err))?;
    let mut shown = String::new();
    // Pieces that arrive while the page is still reading the last one go out as one update.
    let lines = events.ready_chunks(64).map(move |batch| {
        let mut out = Vec::new();
        let mut grew = false;
        let mut last = None;
        for event in batch {
            match event {
                AssistantEvent::Delta { text } => {
                    shown.push_str(&text);
                    grew = true;
                }
                AssistantEvent::Done(reply) => {
                    last = Some(LiveReply::Done {
                        markdown: crate::markdown::parse(&reply.response),
                        reply,
                    })
                }
                AssistantEvent::Failed { detail, .. } => last = Some(LiveReply::Failed { detail }),
            }
        }
        let updates = grew
            .then(|| LiveReply::Partial {
                markdown: crate::markdown::parse(&shown),
            })
            .into_iter()
            .chain(last);
        for update in updates {
            // Serialising these plain types cannot fail; a line is skipped if it ever did.
            if let Ok(mut line) = serde_json::to_vec(&update) {
                line.push(b'\n');
                out.extend(line);
            }
        }
        Ok::<_, ApiError>(out)
    });
    Ok(ByteStream::new(lines))
}

/// An exchange with the assistant and its reply as Markdown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssistantItem {
    pub line: PromptLine,
    pub markdown: Vec<Block>,
}

/// The candidate's exchanges with the assistant in this session, oldest first.
#[server(endpoint = "candidate/prompts", output = JsonText)]
pub async fn assistant_history(session_id: String) -> Result<Vec<AssistantItem>, ApiError> {
    let (cx, user) = candidate().await?;
    let lines = crate::backend::assistant::history(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))?;
    Ok(lines
        .into_iter()
        .map(|line| AssistantItem {
            markdown: crate::markdown::parse(&line.response),
            line,
        })
        .collect())
}
