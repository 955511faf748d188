//! The AI assistant behind the candidate's prompt budget: the gatekeeper, the providers, and the
//! one service (REST and the test page call it) that spends the budget and records every
//! exchange.
//!
//! Order of a prompt: the budget is spent with one atomic conditional update (so parallel
//! prompts can never overspend it). A prompt the gatekeeper refuses is recorded as blocked and
//! counts, as in the seed; it and the offline assistant's replies are known before the prompt is
//! paid for, so the spend and the exchange are one write. A prompt for a model is paid for first;
//! a failure or time-out of the provider gives it back before the error is reported, and a reply
//! that hands out the solution is replaced by a refusal and recorded as blocked.

pub mod gatekeeper;
pub mod provider;

use super::AppState;
use super::auth::Claimant;
use super::error::AppError;
use super::sessions::{ended, ended_or, fixed_owned, owned_question};
use super::store::{PromptBudget, PromptRecord, SpendOutcome, new_id, now, rfc3339};
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

/// A prompt whose input and session passed their checks.
struct Turn {
    session_id: Id,
    question_id: Option<String>,
    prompt: String,
    info: Option<QuestionInfo>,
}

/// A turn that was paid for, and the session's budget after it.
struct Paid {
    turn: Turn,
    budget: PromptBudget,
}

/// Where a prompt stands once its budget is dealt with.
enum Next {
    /// Settled without waiting on a provider (the gatekeeper refused it, or the offline
    /// assistant answered it), and recorded in the same write as its spend.
    Settled(PromptReply),
    /// Paid for: ask the provider, with these earlier exchanges as context.
    Ask(Paid, Vec<Exchange>),
}

/// Checks the input and the session, then settles or pays for the prompt. The candidate's
/// account is not read first: the spend checks it, and a refusal confirms it.
async fn begin(
    state: &AppState,
    candidate: &Claimant,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<Next, AppError> {
    let begun = settle_or_pay(state, &candidate.id, raw_session_id, input).await;
    candidate.confirm(state, begun).await
}

async fn settle_or_pay(
    state: &AppState,
    candidate: &Id,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<Next, AppError> {
    let turn = checked_turn(state, candidate, raw_session_id, input).await?;
    if let Some((response, block)) = turn.settled(state) {
        let exchange = turn.exchange(state, response, block);
        let outcome = state
            .store
            .sessions
            .spend_and_record(candidate, exchange.clone())
            .await?;
        let budget = paid(state, &exchange.session_id, outcome).await?;
        return Ok(Next::Settled(replied(state, exchange, budget)));
    }
    let outcome = state
        .store
        .sessions
        .spend_prompt(&turn.session_id, candidate)
        .await?;
    let budget = paid(state, &turn.session_id, outcome).await?;
    let recent: Vec<Exchange> = state
        .store
        .sessions
        .recent_exchanges(&turn.session_id, turn.question_id.as_deref(), HISTORY)
        .await?
        .into_iter()
        .map(|p| Exchange {
            prompt: p.prompt,
            response: p.response,
        })
        .collect();
    Ok(Next::Ask(Paid { turn, budget }, recent))
}

/// The prompt's input and session, checked.
async fn checked_turn(
    state: &AppState,
    candidate: &Id,
    raw_session_id: &str,
    input: PromptInput,
) -> Result<Turn, AppError> {
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
    Ok(Turn {
        session_id: session.id.clone(),
        question_id: question.map(|q| q.id.clone()),
        info: question.map(question_info),
        prompt,
    })
}

/// The budget after a spend, or why nothing was spent.
async fn paid(
    state: &AppState,
    session_id: &Id,
    outcome: SpendOutcome,
) -> Result<PromptBudget, AppError> {
    match outcome {
        SpendOutcome::Spent(budget) => Ok(budget),
        SpendOutcome::BudgetExhausted => Err(AppError::Forbidden(BUDGET_EXCEEDED.into())),
        SpendOutcome::NotActive => Err(ended(state, session_id).await),
        SpendOutcome::NotFound => Err(AppError::NotFound("Session not found.".into())),
    }
}

/// A refused prompt's or reply's stand-in, and why.
fn blocked(block: Block) -> (String, Option<Block>) {
    (refusal(&block), Some(block))
}

/// The candidate's reply to a recorded exchange; the session's watchers see the exchange.
fn replied(state: &AppState, exchange: PromptRecord, budget: PromptBudget) -> PromptReply {
    if let Some(rule) = &exchange.rule {
        tracing::info!(session_id = %exchange.session_id, rule = %rule, "prompt blocked");
    }
    let reply = PromptReply {
        response: exchange.response.clone(),
        was_blocked: exchange.was_blocked,
        reason: exchange.reason.clone(),
        used_prompts: budget.used_prompts,
        prompt_budget: budget.prompt_budget,
        provider: exchange.provider.clone(),
    };
    let session_id = exchange.session_id.clone();
    state
        .rooms
        .publish(&session_id, LiveEvent::Prompt(line(exchange)));
    reply
}

impl Turn {
    /// What the prompt comes to without a provider: the gatekeeper's refusal, or the offline
    /// assistant's checked reply. `None` when a model must be asked.
    fn settled(&self, state: &AppState) -> Option<(String, Option<Block>)> {
        if let Some(block) = check_prompt(&self.prompt, self.info.as_ref()) {
            return Some(blocked(block));
        }
        let reply = state.assistant.offline(self.info.as_ref(), &self.prompt)?;
        Some(self.checked(state, reply))
    }

    /// A reply as it may be shown: as it is, or the refusal that replaces it.
    fn checked(&self, state: &AppState, reply: String) -> (String, Option<Block>) {
        match check_reply(
            &reply,
            self.info.as_ref(),
            state.config.assistant_max_code_lines,
        ) {
            Some(block) => blocked(block),
            None => (reply, None),
        }
    }

    /// The exchange as it is recorded.
    fn exchange(self, state: &AppState, response: String, block: Option<Block>) -> PromptRecord {
        PromptRecord {
            id: new_id(),
            session_id: self.session_id,
            question_id: self.question_id,
            timestamp: now(),
            prompt: self.prompt,
            response,
            was_blocked: block.is_some(),
            rule: block.as_ref().map(|b| b.rule.as_str().to_owned()),
            reason: block.map(|b| b.reason),
            provider: state.assistant.name(),
        }
    }
}

impl Paid {
    /// Checks the provider's complete reply and records the exchange.
    async fn reply(self, state: &AppState, reply: String) -> Result<PromptReply, AppError> {
        let (response, block) = self.turn.checked(state, reply);
        let exchange = self.turn.exchange(state, response, block);
        state.store.sessions.record_prompt(exchange.clone()).await?;
        Ok(replied(state, exchange, self.budget))
    }

    /// The provider failed: the prompt is given back and the failure explained.
    async fn fail(self, state: &AppState, err: ProviderError) -> AppError {
        let session_id = &self.turn.session_id;
        if let Err(refund) = state.store.sessions.refund_prompt(session_id).await {
            return refund.into();
        }
        tracing::warn!(session_id = %session_id, error = %err, "AI provider failed; prompt refunded");
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
    let (paid, history) = match begin(state, candidate, raw_session_id, input).await? {
        Next::Settled(reply) => return Ok(reply),
        Next::Ask(paid, history) => (paid, history),
    };
    let turn = &paid.turn;
    match state
        .assistant
        .reply(turn.info.as_ref(), &history, &turn.prompt)
        .await
    {
        Ok(reply) => paid.reply(state, reply).await,
        Err(err) => Err(paid.fail(state, err).await),
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
    let (events, received) = tokio::sync::mpsc::channel(32);
    match begin(&state, candidate, raw_session_id, input).await? {
        Next::Settled(reply) => {
            // Already checked and recorded: shown whole, unless it is a refusal.
            if !reply.was_blocked {
                let text = reply.response.clone();
                let _ = events.send(AssistantEvent::Delta { text }).await;
            }
            let _ = events.send(AssistantEvent::Done(reply)).await;
        }
        Next::Ask(paid, history) => {
            tokio::spawn(async move {
                let last = match stream_reply(&state, paid, &history, &events).await {
                    Ok(reply) => AssistantEvent::Done(reply),
                    Err(err) => AssistantEvent::Failed {
                        status: err.status().as_u16(),
                        detail: err.detail(),
                    },
                };
                // The client may be gone; the exchange is recorded all the same.
                let _ = events.send(last).await;
            });
        }
    }
    Ok(futures_util::stream::unfold(
        received,
        |mut received| async move { received.recv().await.map(|event| (event, received)) },
    ))
}

async fn stream_reply(
    state: &AppState,
    paid: Paid,
    history: &[Exchange],
    events: &tokio::sync::mpsc::Sender<AssistantEvent>,
) -> Result<PromptReply, AppError> {
    let turn = &paid.turn;
    let mut pieces = match state
        .assistant
        .reply_stream(turn.info.as_ref(), history, &turn.prompt)
        .await
    {
        Ok(pieces) => pieces,
        Err(err) => return Err(paid.fail(state, err).await),
    };
    let mut reply = String::new();
    let mut holdback = Holdback::new(turn.info.as_ref());
    while let Some(piece) = pieces.next().await {
        match piece {
            Ok(piece) => reply.push_str(&piece),
            Err(err) => return Err(paid.fail(state, err).await),
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
        return Err(paid
            .fail(state, ProviderError::Failed("the reply was empty".into()))
            .await);
    }
    let reply = paid.reply(state, reply).await?;
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
