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
use super::auth::Claimant;
use super::error::AppError;
use super::sessions::{ended, ended_or, fixed_owned, owned_question};
use super::store::{PromptRecord, SpendOutcome, new_id, now, rfc3339};
use crate::live::LiveEvent;
use crate::model::Id;
use crate::session::{AssistantEvent, MAX_PROMPT_CHARS, PromptInput, PromptLine, PromptReply};
use crate::template::{Question, QuestionKind};
use futures_util::{Stream, StreamExt};
use gatekeeper::{Block, Holdback, QuestionInfo, check_prompt, check_reply, refusal};
use provider::{Exchange, ProviderError};

pub const BUDGET_EXCEEDED: &str = "Prompt budget exceeded.";
/// Earlier exchanges about the same question sent along as context.
const HISTORY: u32 = 10;

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

/// A prompt that was accepted and paid for.
struct Turn {
    session_id: Id,
    question_id: Option<String>,
    prompt: String,
    info: Option<QuestionInfo>,
    used_prompts: u32,
    prompt_budget: u32,
}

/// What to do with a paid prompt.
enum Next {
    /// The gatekeeper refused it.
    Refuse(Block),
    /// Ask the provider, with these earlier exchanges as context.
    Ask(Vec<Exchange>),
}

/// Checks the input and the session, spends one prompt and runs the gatekeeper on it. The
/// candidate's account is not read first: the spend checks it, and a refusal confirms it.
async fn begin(
    state: &AppState,
    candidate: &Claimant,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<(Turn, Next), AppError> {
    let begun = spend(state, &candidate.id, raw_session_id, input).await;
    candidate.confirm(state, begun).await
}

async fn spend(
    state: &AppState,
    candidate: &Id,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<(Turn, Next), AppError> {
    let prompt = input.prompt.trim().to_owned();
    if prompt.is_empty() {
        return Err(AppError::invalid("prompt: must not be empty".into()));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(AppError::invalid(format!(
            "prompt: must be at most {MAX_PROMPT_CHARS} characters"
        )));
    }
    let question_id = input.question_id.as_deref().filter(|q| !q.is_empty());
    let session = fixed_owned(state, candidate, raw_session_id).await?;
    if now() >= session.deadline {
        return Err(ended(state, &session.id).await);
    }
    let question = match question_id {
        None => None,
        Some(id) => match session.question(id) {
            Some(question) => Some(question),
            None => {
                let unknown =
                    AppError::invalid(format!("question_id: no question `{id}` in this test"));
                return Err(ended_or(state, &session.id, unknown).await);
            }
        },
    };
    let spent = match state
        .store
        .sessions
        .spend_prompt(&session.id, candidate)
        .await?
    {
        SpendOutcome::Spent(record) => record,
        SpendOutcome::BudgetExhausted => return Err(AppError::Forbidden(BUDGET_EXCEEDED.into())),
        SpendOutcome::NotActive => return Err(ended(state, &session.id).await),
        SpendOutcome::NotFound => {
            return Err(AppError::NotFound("Session not found.".into()));
        }
    };
    let turn = Turn {
        session_id: session.id.clone(),
        question_id: question.map(|q| q.id.clone()),
        info: question.map(question_info),
        prompt,
        used_prompts: spent.used_prompts,
        prompt_budget: spent.prompt_budget,
    };
    if let Some(block) = check_prompt(&turn.prompt, turn.info.as_ref()) {
        return Ok((turn, Next::Refuse(block)));
    }
    let recent: Vec<Exchange> = state
        .store
        .sessions
        .recent_exchanges(&session.id, turn.question_id.as_deref(), HISTORY)
        .await?
        .into_iter()
        .map(|p| Exchange {
            prompt: p.prompt,
            response: p.response,
        })
        .collect();
    Ok((turn, Next::Ask(recent)))
}

impl Turn {
    /// Checks the provider's complete reply and records the exchange.
    async fn reply(self, state: &AppState, reply: String) -> Result<PromptReply, AppError> {
        match check_reply(
            &reply,
            self.info.as_ref(),
            state.config.assistant_max_code_lines,
        ) {
            Some(block) => self.refuse(state, block).await,
            None => self.record(state, reply, None).await,
        }
    }

    async fn refuse(self, state: &AppState, block: Block) -> Result<PromptReply, AppError> {
        tracing::info!(session_id = %self.session_id, rule = block.rule.as_str(), "prompt blocked");
        self.record(state, refusal(&block), Some(block)).await
    }

    async fn record(
        self,
        state: &AppState,
        response: String,
        block: Option<Block>,
    ) -> Result<PromptReply, AppError> {
        let provider = state.assistant.name();
        let reason = block.as_ref().map(|b| b.reason.clone());
        let record = PromptRecord {
            id: new_id(),
            session_id: self.session_id,
            question_id: self.question_id,
            timestamp: now(),
            prompt: self.prompt,
            response: response.clone(),
            was_blocked: block.is_some(),
            rule: block.as_ref().map(|b| b.rule.as_str().to_owned()),
            reason: reason.clone(),
            provider: provider.clone(),
        };
        state.store.sessions.record_prompt(record.clone()).await?;
        let session_id = record.session_id.clone();
        state
            .rooms
            .publish(&session_id, LiveEvent::Prompt(line(record)));
        Ok(PromptReply {
            response,
            was_blocked: block.is_some(),
            reason,
            used_prompts: self.used_prompts,
            prompt_budget: self.prompt_budget,
            provider,
        })
    }

    /// The provider failed: the prompt is given back and the failure explained.
    async fn fail(self, state: &AppState, err: ProviderError) -> AppError {
        if let Err(refund) = state.store.sessions.refund_prompt(&self.session_id).await {
            return refund.into();
        }
        tracing::warn!(session_id = %self.session_id, error = %err, "AI provider failed; prompt refunded");
        match err {
            ProviderError::TimedOut(_) => AppError::Unavailable(
                "The AI assistant did not answer in time. Your prompt was not counted; please try again.",
            ),
            ProviderError::Failed(_) => AppError::BadGateway(
                "The AI assistant is unavailable right now. Your prompt was not counted; please try again.".into(),
            ),
        }
    }
}

/// Answers one prompt of the candidate's session (see the module's documentation).
pub async fn ask(
    state: &AppState,
    candidate: &Claimant,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<PromptReply, AppError> {
    let (turn, next) = begin(state, candidate, raw_session_id, input).await?;
    match next {
        Next::Refuse(block) => turn.refuse(state, block).await,
        Next::Ask(history) => {
            match state
                .assistant
                .reply(turn.info.as_ref(), &history, &turn.prompt)
                .await
            {
                Ok(reply) => turn.reply(state, reply).await,
                Err(err) => Err(turn.fail(state, err).await),
            }
        }
    }
}

/// Longest reply (in bytes) taken from a streaming provider; the rest is cut off.
const MAX_REPLY_BYTES: usize = 16_000;

/// Like [`ask`], but the reply arrives as it is generated: [`AssistantEvent::Delta`]s with the
/// parts the [`Holdback`] lets through, then one [`AssistantEvent::Done`] with the checked
/// reply (the refusal that replaced it, if it was blocked) or [`AssistantEvent::Failed`].
///
/// Everything up to the budget is checked before this returns, so those refusals keep their
/// statuses. The exchange runs on its own task: a candidate who closes the page still has it
/// recorded.
pub async fn ask_streaming(
    state: AppState,
    candidate: &Claimant,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<impl Stream<Item = AssistantEvent> + Send + 'static, AppError> {
    let (turn, next) = begin(&state, candidate, raw_session_id, input).await?;
    let (events, received) = tokio::sync::mpsc::channel(32);
    tokio::spawn(async move {
        let outcome = match next {
            Next::Refuse(block) => turn.refuse(&state, block).await,
            Next::Ask(history) => stream_reply(&state, turn, &history, &events).await,
        };
        let last = match outcome {
            Ok(reply) => AssistantEvent::Done(reply),
            Err(err) => AssistantEvent::Failed {
                status: err.status().as_u16(),
                detail: err.detail(),
            },
        };
        // The client may be gone; the exchange is recorded all the same.
        let _ = events.send(last).await;
    });
    Ok(futures_util::stream::unfold(
        received,
        |mut received| async move { received.recv().await.map(|event| (event, received)) },
    ))
}

async fn stream_reply(
    state: &AppState,
    turn: Turn,
    history: &[Exchange],
    events: &tokio::sync::mpsc::Sender<AssistantEvent>,
) -> Result<PromptReply, AppError> {
    let mut pieces = match state
        .assistant
        .reply_stream(turn.info.as_ref(), history, &turn.prompt)
        .await
    {
        Ok(pieces) => pieces,
        Err(err) => return Err(turn.fail(state, err).await),
    };
    let mut reply = String::new();
    let mut holdback = Holdback::new(turn.info.as_ref());
    while let Some(piece) = pieces.next().await {
        match piece {
            Ok(piece) => reply.push_str(&piece),
            Err(err) => return Err(turn.fail(state, err).await),
        }
        if reply.len() > MAX_REPLY_BYTES {
            let mut cut = MAX_REPLY_BYTES;
            while !reply.is_char_boundary(cut) {
                cut -= 1;
            }
            reply.truncate(cut);
            break;
        }
        let shown = holdback.release(&reply);
        if !shown.is_empty() {
            let _ = events
                .send(AssistantEvent::Delta {
                    text: shown.to_owned(),
                })
                .await;
        }
    }
    if reply.trim().is_empty() {
        return Err(turn
            .fail(state, ProviderError::Failed("the reply was empty".into()))
            .await);
    }
    let reply = turn.reply(state, reply).await?;
    if !reply.was_blocked {
        // Checked and passed: what was held back can be shown, so the deltas add up to it.
        let rest = holdback.rest(&reply.response);
        if !rest.is_empty() {
            let _ = events
                .send(AssistantEvent::Delta {
                    text: rest.to_owned(),
                })
                .await;
        }
    }
    Ok(reply)
}

/// The candidate's own exchanges with the assistant in this session, oldest first.
pub async fn history(
    state: &AppState,
    candidate: &Id,
    raw_session_id: &str,
) -> Result<Vec<PromptLine>, AppError> {
    let session = owned_question(state, candidate, raw_session_id, None).await?;
    Ok(state
        .store
        .sessions
        .prompts(&session.id)
        .await?
        .into_iter()
        .map(line)
        .collect())
}
