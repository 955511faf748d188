//! The interviewer chat: who may join a session's channel, the candidate's messages, and the
//! interviewer's answers — logistics and clarifications (time and prompts left, rules, how the
//! test is scored), never help with the solution. With a model connected the interviewer is
//! the model under an interviewer system prompt fed the live session state; offline (or when
//! the model fails) it answers those logistics from the session state itself.

use super::AppState;
use super::assistant::gatekeeper::{check_prompt, check_reply};
use super::assistant::provider::Exchange;
use super::error::AppError;
use super::sessions::{ENDED, settle};
use super::store::{ChatMessage, SessionRecord, UserRecord, now, rfc3339};
use super::templates::parse_id;
use crate::live::{LiveEvent, MAX_CHAT_CHARS};
use crate::model::{Id, Role, Speaker};
use crate::session::{SessionStatus, TranscriptLine};
use chrono::{DateTime, Utc};

/// Chat lines sent on connecting (the newest ones).
pub const HISTORY_LIMIT: u32 = 500;
/// Earlier lines the model sees.
const CONTEXT_LINES: usize = 12;

/// How one joined the session's channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seat {
    /// The candidate taking the test: may write.
    Candidate,
    /// A recruiter who owns the test: reads everything, writes nothing.
    Observer,
}

pub fn transcript_line(message: ChatMessage) -> TranscriptLine {
    TranscriptLine {
        id: message.id,
        speaker: message.speaker,
        message: message.message,
        timestamp: rfc3339(message.timestamp),
    }
}

/// Whether `user` may join the session's channel, and how. A session past its deadline is
/// ended first.
pub async fn join(
    state: &AppState,
    user: &UserRecord,
    raw_session_id: &str,
) -> Result<(SessionRecord, Seat), AppError> {
    let id = parse_id(raw_session_id)?;
    let session = state
        .store
        .sessions
        .find(&id)
        .await?
        .ok_or_else(|| AppError::NotFound("Session not found.".into()))?;
    let seat = match user.role {
        Role::Candidate if session.candidate_id == user.id => Seat::Candidate,
        Role::Recruiter if session.recruiter_id == user.id => Seat::Observer,
        _ => {
            return Err(AppError::Forbidden(
                "You may not join this session's channel.".into(),
            ));
        }
    };
    Ok((settle(state, session).await?, seat))
}

/// The session's chat, oldest first.
pub async fn history(
    state: &AppState,
    session: &SessionRecord,
) -> Result<Vec<TranscriptLine>, AppError> {
    Ok(state
        .store
        .chat
        .history(&session.id, HISTORY_LIMIT)
        .await?
        .into_iter()
        .map(transcript_line)
        .collect())
}

/// Stores the candidate's message and publishes it, then answers it as the interviewer on a
/// task of its own (the socket goes on meanwhile).
pub async fn say(state: &AppState, session: &SessionRecord, text: &str) -> Result<(), AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid("message: must not be empty".into()));
    }
    if text.chars().count() > MAX_CHAT_CHARS {
        return Err(AppError::invalid(format!(
            "message: must be at most {MAX_CHAT_CHARS} characters"
        )));
    }
    // No store read on the line's path: the deadline is known, and a session ended otherwise
    // tells its room, whose events a socket handles before the next line it reads.
    if session.status != SessionStatus::InProgress || now() >= session.deadline {
        return Err(AppError::BadRequest(ENDED.into()));
    }
    let line = post(state, session, Speaker::Candidate, text).await?;
    let (state, session) = (state.clone(), session.clone());
    let text = text.to_owned();
    tokio::spawn(async move {
        let answer = interviewer_answer(&state, &session, &line, &text).await;
        if let Err(err) = post(&state, &session, Speaker::Interviewer, &answer).await {
            tracing::warn!(session_id = %session.id, error = %err, "the interviewer's answer was lost");
        }
    });
    Ok(())
}

/// Stores a line and publishes it to the session's room; its id.
async fn post(
    state: &AppState,
    session: &SessionRecord,
    speaker: Speaker,
    text: &str,
) -> Result<Id, AppError> {
    let message = state.store.chat.append(&session.id, speaker, text).await?;
    let id = message.id.clone();
    state
        .rooms
        .publish(&session.id, LiveEvent::Message(transcript_line(message)));
    Ok(id)
}

/// The lines before `line`, the newest [`CONTEXT_LINES`] of them, as the model's context. Read
/// after the candidate's line went out, so the line never waits for it.
async fn earlier_lines(state: &AppState, session: &SessionRecord, line: &Id) -> Vec<ChatMessage> {
    match state
        .store
        .chat
        .history(&session.id, CONTEXT_LINES as u32 + 1)
        .await
    {
        Ok(mut lines) => {
            lines.retain(|earlier| &earlier.id != line);
            let skip = lines.len().saturating_sub(CONTEXT_LINES);
            lines.split_off(skip)
        }
        Err(err) => {
            tracing::warn!(session_id = %session.id, error = %err, "the interviewer answers without the earlier lines");
            Vec::new()
        }
    }
}

async fn interviewer_answer(
    state: &AppState,
    session: &SessionRecord,
    line: &Id,
    text: &str,
) -> String {
    let facts = Facts::of(session, now());
    if check_prompt(text, None).is_some() {
        return REFUSAL.to_owned();
    }
    if state.assistant.is_offline() {
        return facts.answer(text);
    }
    let history = exchanges(&earlier_lines(state, session, line).await);
    match state
        .assistant
        .complete(facts.system_prompt(), &history, text)
        .await
    {
        None => facts.answer(text),
        Some(Ok(reply)) => {
            // The interviewer never shows code, not even a line.
            if check_reply(&reply, None, 0).is_some() {
                REFUSAL.to_owned()
            } else {
                reply
            }
        }
        Some(Err(err)) => {
            tracing::warn!(session_id = %session.id, error = %err, "the interviewer's model failed; answering from the session state");
            facts.answer(text)
        }
    }
}

/// Candidate lines paired with the interviewer's answers, as model context.
fn exchanges(context: &[ChatMessage]) -> Vec<Exchange> {
    context
        .windows(2)
        .filter(|pair| {
            pair[0].speaker == Speaker::Candidate && pair[1].speaker == Speaker::Interviewer
        })
        .map(|pair| Exchange {
            prompt: pair[0].message.clone(),
            response: pair[1].message.clone(),
        })
        .collect()
}

const REFUSAL: &str = "I can't help with solving the questions — that is what the test measures. \
I can tell you how much time and how many assistant prompts you have left, what the rules are and \
how the test is scored.";

/// What the interviewer knows about the session.
struct Facts {
    seconds_left: i64,
    deadline: DateTime<Utc>,
    questions: usize,
    answered: usize,
    prompt_budget: u32,
    used_prompts: u32,
    block_copy_paste: bool,
    weights: (f64, f64, f64),
}

impl Facts {
    fn of(session: &SessionRecord, at: DateTime<Utc>) -> Facts {
        let w = &session.content.weights;
        Facts {
            seconds_left: (session.deadline - at).num_seconds().max(0),
            deadline: session.deadline,
            questions: session.content.questions.len(),
            answered: session.answers.len(),
            prompt_budget: session.prompt_budget,
            used_prompts: session.used_prompts,
            block_copy_paste: session.content.block_copy_paste,
            weights: (w.accuracy, w.speed_efficiency, w.prompt_wellness),
        }
    }

    fn time_left(&self) -> String {
        let (m, s) = (self.seconds_left / 60, self.seconds_left % 60);
        format!(
            "You have {m} min {s:02} s left; the test ends at {} UTC.",
            self.deadline.format("%H:%M")
        )
    }

    fn prompts(&self) -> String {
        let left = self.prompt_budget.saturating_sub(self.used_prompts);
        format!(
            "You have used {} of your {} AI assistant prompts ({left} left). Requests for a solution are refused and still count.",
            self.used_prompts, self.prompt_budget
        )
    }

    fn rules(&self) -> String {
        format!(
            "You may use the AI assistant within its prompt budget; it gives hints, not solutions. {} Leaving the tab or the window and leaving full screen are recorded for the recruiter. Your answers are saved as you type.",
            if self.block_copy_paste {
                "Copy and paste are turned off in this test."
            } else {
                "Copy and paste are allowed, and recorded."
            }
        )
    }

    fn scoring(&self) -> String {
        let pct = |w: f64| (w * 100.0).round();
        format!(
            "Your score weighs accuracy {}%, speed {}% and prompt wellness {}%. Coding answers run against hidden tests; multiple choice must match exactly; written answers are compared with a reference. Fewer, well-aimed prompts score better on wellness.",
            pct(self.weights.0),
            pct(self.weights.1),
            pct(self.weights.2)
        )
    }

    fn progress(&self) -> String {
        format!(
            "The test has {} questions; you have answered {} so far. Press \"End test\" when you are done — it cannot be undone, and the test ends by itself at the deadline.",
            self.questions, self.answered
        )
    }

    /// The answer from the session state alone: every topic the message asks about.
    fn answer(&self, text: &str) -> String {
        let words = super::assistant::gatekeeper::normalize(text);
        let padded = format!(" {words} ");
        let asks = |keys: &[&str]| keys.iter().any(|k| padded.contains(&format!(" {k}")));
        let mut parts = Vec::new();
        if asks(&[
            "time", "minute", "long", "left", "remain", "deadline", "clock", "hurry",
        ]) {
            parts.push(self.time_left());
        }
        if asks(&["prompt", "assistant", "budget", "ai ", "llm", "chatgpt"]) {
            parts.push(self.prompts());
        }
        if asks(&[
            "rule",
            "allowed",
            "copy",
            "paste",
            "tab",
            "cheat",
            "full screen",
            "fullscreen",
            "google",
            "internet",
        ]) {
            parts.push(self.rules());
        }
        if asks(&[
            "score", "scoring", "grade", "graded", "weight", "rubric", "mark", "points", "evaluat",
        ]) {
            parts.push(self.scoring());
        }
        if asks(&[
            "question", "how many", "answered", "finish", "end ", "submit", "done",
        ]) {
            parts.push(self.progress());
        }
        if parts.is_empty() {
            parts.push(
                "I'm the interviewer: ask me about the time left, your assistant prompts, the rules or how the test is scored. For help with the questions themselves, use the AI assistant."
                    .to_owned(),
            );
        }
        parts.join("\n\n")
    }

    /// What the model is told before answering as the interviewer.
    fn system_prompt(&self) -> String {
        format!(
            "You are the interviewer of a timed technical assessment, chatting with the candidate. \
             Answer only logistics and clarifications: time left, prompts left, the rules, and how \
             the test is scored at a high level. Never help with solving a question: no code, no \
             answers, no hints about the content — refer the candidate to the AI assistant for \
             concepts. Be brief and friendly.\n\nLive session state:\n- {}\n- {}\n- {}\n- {}\n- {}",
            self.time_left(),
            self.prompts(),
            self.rules(),
            self.scoring(),
            self.progress()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn facts() -> Facts {
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        Facts {
            seconds_left: 754,
            deadline: at + Duration::seconds(754),
            questions: 4,
            answered: 1,
            prompt_budget: 5,
            used_prompts: 2,
            block_copy_paste: true,
            weights: (0.6, 0.2, 0.2),
        }
    }

    #[test]
    fn logistics_come_from_the_session_state() {
        let f = facts();
        assert_eq!(
            f.answer("How much time do I have left?"),
            "You have 12 min 34 s left; the test ends at 10:12 UTC."
        );
        assert!(
            f.answer("how many prompts remain?")
                .contains("used 2 of your 5")
        );
        assert!(f.answer("Can I copy and paste?").contains("turned off"));
        assert!(f.answer("How is this graded?").contains("accuracy 60%"));
        let both = f.answer("what's the scoring and how long is left");
        assert!(both.contains("accuracy 60%") && both.contains("12 min"));
        assert!(f.answer("hello").contains("I'm the interviewer"));
    }

    #[test]
    fn the_system_prompt_carries_the_state_and_forbids_help() {
        let prompt = facts().system_prompt();
        assert!(prompt.contains("Never help with solving"));
        assert!(prompt.contains("12 min 34 s"));
        assert!(prompt.contains("used 2 of your 5"));
    }
}
