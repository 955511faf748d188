//! The AI assistant behind the candidate's prompt budget: the gatekeeper, the providers, and the
//! one service (REST and the test page call it) that spends the budget and records every
//! exchange.
//!
//! Order of a prompt: the budget is spent first, with one atomic conditional update (so parallel
//! prompts can never overspend it); a prompt the gatekeeper refuses is recorded as blocked and
//! counts, as in the seed; otherwise the provider answers, and a failure or time-out gives the
//! prompt back before the error is reported; a reply that hands out the solution is replaced by a
//! refusal and recorded as blocked.

pub mod gatekeeper;
pub mod provider;

use super::AppState;
use super::error::AppError;
use super::sessions::{ENDED, owned};
use super::store::{PromptRecord, SpendOutcome, new_id, now, rfc3339};
use crate::model::Id;
use crate::session::{MAX_PROMPT_CHARS, PromptInput, PromptLine, PromptReply, SessionStatus};
use crate::template::{Question, QuestionKind};
use gatekeeper::{Block, QuestionInfo, check_prompt, check_reply, refusal};
use provider::{Exchange, ProviderError};

pub const BUDGET_EXCEEDED: &str = "Prompt budget exceeded.";
/// Earlier exchanges about the same question sent along as context.
const HISTORY: usize = 10;

fn question_info(question: &Question) -> QuestionInfo {
    QuestionInfo {
        prompt: question.prompt.clone(),
        context: question.context.clone(),
        function_name: match &question.kind {
            QuestionKind::Coding { function_name, .. } => Some(function_name.clone()),
            _ => None,
        },
        options: match &question.kind {
            QuestionKind::MultipleChoice { options, .. } => options.clone(),
            _ => Vec::new(),
        },
    }
}

pub fn line(record: PromptRecord) -> PromptLine {
    PromptLine {
        question_id: record.question_id,
        prompt: record.prompt,
        response: record.response,
        was_blocked: record.was_blocked,
        reason: record.reason,
        provider: record.provider,
        timestamp: rfc3339(record.timestamp),
    }
}

/// Answers one prompt of the candidate's session (see the module's documentation).
pub async fn ask(
    state: &AppState,
    candidate: &Id,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<PromptReply, AppError> {
    let prompt = input.prompt.trim().to_owned();
    if prompt.is_empty() {
        return Err(AppError::invalid("prompt: must not be empty".into()));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(AppError::invalid(format!(
            "prompt: must be at most {MAX_PROMPT_CHARS} characters"
        )));
    }
    let session = owned(state, candidate, raw_session_id).await?;
    if session.status != SessionStatus::InProgress {
        return Err(AppError::BadRequest(ENDED.into()));
    }
    let question = match input.question_id.as_deref().filter(|q| !q.is_empty()) {
        None => None,
        Some(id) => Some(
            session
                .content
                .questions
                .iter()
                .find(|q| q.id == id)
                .ok_or_else(|| {
                    AppError::invalid(format!("question_id: no question `{id}` in this test"))
                })?,
        ),
    };
    let info = question.map(question_info);
    let spent = match state.store.sessions.spend_prompt(&session.id).await? {
        SpendOutcome::Spent(record) => record,
        SpendOutcome::BudgetExhausted => return Err(AppError::Forbidden(BUDGET_EXCEEDED.into())),
        SpendOutcome::NotActive => return Err(AppError::BadRequest(ENDED.into())),
        SpendOutcome::NotFound => {
            return Err(AppError::NotFound("Session not found.".into()));
        }
    };
    let provider = &state.assistant;
    let record = |response: String, block: Option<&Block>| PromptRecord {
        id: new_id(),
        session_id: session.id.clone(),
        question_id: question.map(|q| q.id.clone()),
        timestamp: now(),
        prompt: prompt.clone(),
        response,
        was_blocked: block.is_some(),
        rule: block.map(|b| b.rule.as_str().to_owned()),
        reason: block.map(|b| b.reason.clone()),
        provider: provider.name(),
    };

    let (response, block) = match check_prompt(&prompt, info.as_ref()) {
        Some(block) => (refusal(&block), Some(block)),
        None => {
            let history: Vec<Exchange> = state
                .store
                .sessions
                .prompts(&session.id)
                .await?
                .into_iter()
                .filter(|p| !p.was_blocked && p.question_id == input.question_id)
                .map(|p| Exchange {
                    prompt: p.prompt,
                    response: p.response,
                })
                .collect();
            let recent = &history[history.len().saturating_sub(HISTORY)..];
            match provider.reply(info.as_ref(), recent, &prompt).await {
                Ok(reply) => {
                    match check_reply(&reply, info.as_ref(), state.config.assistant_max_code_lines)
                    {
                        Some(block) => (refusal(&block), Some(block)),
                        None => (reply, None),
                    }
                }
                Err(err) => {
                    state.store.sessions.refund_prompt(&session.id).await?;
                    tracing::warn!(session_id = %session.id, error = %err, "AI provider failed; prompt refunded");
                    return Err(match err {
                        ProviderError::TimedOut(_) => AppError::Unavailable(
                            "The AI assistant did not answer in time. Your prompt was not counted; please try again.",
                        ),
                        ProviderError::Failed(_) => AppError::BadGateway(
                            "The AI assistant is unavailable right now. Your prompt was not counted; please try again.".into(),
                        ),
                    });
                }
            }
        }
    };
    let reason = block.as_ref().map(|b| b.reason.clone());
    if let Some(block) = &block {
        tracing::info!(session_id = %session.id, rule = block.rule.as_str(), "prompt blocked");
    }
    state
        .store
        .sessions
        .record_prompt(record(response.clone(), block.as_ref()))
        .await?;
    Ok(PromptReply {
        response,
        was_blocked: block.is_some(),
        reason,
        used_prompts: spent.used_prompts,
        prompt_budget: spent.prompt_budget,
        provider: provider.name(),
    })
}

/// The candidate's own exchanges with the assistant in this session, oldest first.
pub async fn history(
    state: &AppState,
    candidate: &Id,
    raw_session_id: &str,
) -> Result<Vec<PromptLine>, AppError> {
    let session = owned(state, candidate, raw_session_id).await?;
    Ok(state
        .store
        .sessions
        .prompts(&session.id)
        .await?
        .into_iter()
        .map(line)
        .collect())
}
