//! Candidate sessions: the one service behind the candidate's REST routes and test pages.
//!
//! The server owns the clock: a session accepts answers until its deadline; past it the session
//! is ended and graded on the next access to it (lazily) and by [`sweep`], which the server runs
//! periodically, whichever comes first.

use super::AppState;
use super::auth::Claimant;
use super::auth::throttle::{Throttle, ThrottlePolicy};
use super::error::AppError;
use super::fixed::FixedSession;
use super::store::{
    AnswerRecord, IntegrityRecord, NewSession, SaveOutcome, SessionOverview, SessionProgress,
    SessionQuestion, SessionRecord, StartOutcome, new_id, now, rfc3339,
};
use super::templates::parse_id;
use super::{judge, sandbox, scoring};
use crate::live::LiveEvent;
use crate::model::Id;
use crate::session::{
    AnswerInput, CandidateQuestion, EXAMPLE_RUNS_PER_MINUTE, ExampleRun, Grading, IntegrityEvent,
    IntegrityInput, MAX_ANSWER_CHARS, MAX_EVENT_DETAIL_CHARS, MAX_EVENTS_PER_SESSION, Message,
    RunInput, SavedAnswer, Scores, SessionStatus, SessionSummary, SessionView,
};
use crate::template::{QuestionKind, TemplateContent, TemplateStatus};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOT_FOUND: &str = "Session not found.";
const TEMPLATE_NOT_FOUND: &str = "Test not found.";
pub(crate) const QUESTION_NOT_FOUND: &str = "Question not found in this session.";
pub(crate) const ENDED: &str = "This session has ended; nothing more is accepted.";

/// Integrity events accepted per session and minute (a browser reports a handful at most).
pub const EVENTS_PER_MINUTE: ThrottlePolicy = ThrottlePolicy {
    max_failures: 60,
    window: Duration::from_secs(60),
    capacity: 100_000,
};

pub fn event_throttle() -> Throttle {
    Throttle::new(EVENTS_PER_MINUTE)
}

pub fn run_throttle() -> Throttle {
    Throttle::new(ThrottlePolicy {
        max_failures: EXAMPLE_RUNS_PER_MINUTE,
        window: Duration::from_secs(60),
        capacity: 100_000,
    })
}

fn view(state: &AppState, record: SessionRecord, resumed: bool) -> SessionView {
    let (content, progress, grading) = record.into_parts();
    view_of(
        state,
        &content,
        progress,
        grading.map(|g| g.scores),
        resumed,
    )
}

/// The candidate's view of a session: its test, its progress and, once graded, its scores.
fn view_of(
    state: &AppState,
    content: &TemplateContent,
    progress: SessionProgress,
    scores: Option<Scores>,
    resumed: bool,
) -> SessionView {
    let time_left = match progress.status {
        SessionStatus::InProgress => (progress.deadline - now()).num_seconds().max(0),
        SessionStatus::Completed => 0,
    };
    SessionView {
        session_id: progress.id,
        template_id: progress.template_id,
        title: content.title.clone(),
        description: content.description.clone(),
        status: progress.status,
        start_time: rfc3339(progress.started_at),
        deadline: rfc3339(progress.deadline),
        ended_at: progress.ended_at.map(rfc3339),
        time_limit_minutes: content.time_limit_minutes,
        time_left_seconds: time_left,
        prompt_budget: progress.prompt_budget,
        used_prompts: progress.used_prompts,
        block_copy_paste: content.block_copy_paste,
        questions: content
            .questions
            .iter()
            .map(CandidateQuestion::from)
            .collect(),
        answers: progress.answers.iter().map(saved_answer).collect(),
        scores,
        resumed,
        assistant: state.assistant.name(),
    }
}

pub fn integrity_event(record: IntegrityRecord) -> IntegrityEvent {
    IntegrityEvent {
        kind: record.kind,
        detail: record.detail,
        timestamp: rfc3339(record.timestamp),
    }
}

pub fn saved_answer(answer: &AnswerRecord) -> SavedAnswer {
    SavedAnswer {
        question_id: answer.question_id.clone(),
        answer: answer.answer.clone(),
        submitted_at: rfc3339(answer.submitted_at),
    }
}

fn summary(session: &SessionOverview) -> SessionSummary {
    SessionSummary {
        session_id: session.id.clone(),
        template_id: session.template_id.clone(),
        title: session.title.clone(),
        status: session.status,
        start_time: rfc3339(session.started_at),
        deadline: rfc3339(session.deadline),
        ended_at: session.ended_at.map(rfc3339),
        scores: session.scores,
    }
}

/// Ends the session (if still in progress) and makes sure it is graded. Ending at the deadline
/// when it has passed, so that a late sweep does not cost the candidate speed.
async fn finalize(state: &AppState, record: SessionRecord) -> Result<SessionRecord, AppError> {
    let mut record = match record.status {
        SessionStatus::InProgress => {
            let ended_at = now().min(record.deadline);
            match state.store.sessions.close(&record.id, ended_at).await? {
                Some(closed) => {
                    // Its sockets say so and close.
                    state.rooms.publish(
                        &closed.id,
                        LiveEvent::Ended {
                            ended_at: rfc3339(ended_at),
                        },
                    );
                    closed
                }
                // Someone else closed it meanwhile: read what they stored.
                None => state
                    .store
                    .sessions
                    .find(&record.id)
                    .await?
                    .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?,
            }
        }
        SessionStatus::Completed => record,
    };
    if record.grading.is_none() {
        let snapshot = record.clone();
        let offline = state
            .sandbox
            .run(move || scoring::grade_questions(&snapshot))
            .await?;
        let judged = judge::theory(&state.assistant, &record, offline).await;
        let grading: Grading = scoring::grading(&record, judged);
        state
            .store
            .sessions
            .set_grading(&record.id, &grading)
            .await?;
        tracing::info!(session_id = %record.id, total = grading.scores.total_score, "session graded");
        record.grading = Some(grading);
    }
    Ok(record)
}

/// Whether a session in this state is still to be ended (its deadline has passed) or graded.
fn unsettled(status: SessionStatus, deadline: DateTime<Utc>, graded: bool) -> bool {
    match status {
        SessionStatus::InProgress => now() >= deadline,
        SessionStatus::Completed => !graded,
    }
}

/// Ends and grades the session if its deadline has passed.
pub(crate) async fn settle(
    state: &AppState,
    record: SessionRecord,
) -> Result<SessionRecord, AppError> {
    if unsettled(record.status, record.deadline, record.grading.is_some()) {
        finalize(state, record).await
    } else {
        Ok(record)
    }
}

/// The candidate's own session (someone else's is reported as missing), settled if its deadline
/// has passed.
async fn owned(state: &AppState, candidate: &Id, raw_id: &str) -> Result<SessionRecord, AppError> {
    let id = parse_id(raw_id)?;
    match state.store.sessions.find(&id).await? {
        Some(record) if &record.candidate_id == candidate => settle(state, record).await,
        _ => Err(AppError::NotFound(NOT_FOUND.into())),
    }
}

/// The candidate's own session (someone else's is reported as missing) with the question
/// `question_id`, settled if its deadline has passed. Only settling reads the whole session.
pub(crate) async fn owned_question(
    state: &AppState,
    candidate: &Id,
    raw_id: &str,
    question_id: Option<&str>,
) -> Result<SessionQuestion, AppError> {
    let id = parse_id(raw_id)?;
    let mut found = match state.store.sessions.find_question(&id, question_id).await? {
        Some(found) if &found.candidate_id == candidate => found,
        _ => return Err(AppError::NotFound(NOT_FOUND.into())),
    };
    if unsettled(found.status, found.deadline, found.graded) {
        let record = state
            .store
            .sessions
            .find(&id)
            .await?
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
        let record = settle(state, record).await?;
        found.status = record.status;
        found.graded = record.grading.is_some();
    }
    Ok(found)
}

/// What never changes in the candidate's own session (someone else's is reported as missing),
/// for a request that then writes to it only if it is still in progress: the write checks that,
/// so the session's state is not read here.
pub(crate) async fn fixed_owned(
    state: &AppState,
    candidate: &Id,
    raw_id: &str,
) -> Result<Arc<FixedSession>, AppError> {
    let id = parse_id(raw_id)?;
    match state.fixed_sessions.get(&state.store, &id).await? {
        Some(session) if &session.candidate_id == candidate => Ok(session),
        _ => Err(AppError::NotFound(NOT_FOUND.into())),
    }
}

/// The refusal of a request to a session that is no longer in progress, once the session is
/// ended and graded (a write found it so, or its deadline has passed).
pub(crate) async fn ended(state: &AppState, id: &Id) -> AppError {
    match expire(state, id).await {
        Ok(()) => AppError::BadRequest(ENDED.into()),
        Err(err) => err,
    }
}

/// `err`, the refusal of a request's input, unless the session has ended: a request to an
/// ended session is told that first, whatever its input.
pub(crate) async fn ended_or(state: &AppState, id: &Id, err: AppError) -> AppError {
    match state.store.sessions.find_question(id, None).await {
        Ok(Some(found)) if found.status != SessionStatus::InProgress => ended(state, id).await,
        Ok(_) => err,
        Err(store) => store.into(),
    }
}

/// Starts the candidate's attempt at a published template, or resumes the one in progress. The
/// candidate is named by their token alone: resuming reads their session only if their account
/// still exists, and a new start reads the account (see [`Claimant`]).
pub async fn start(
    state: &AppState,
    candidate: &Claimant,
    raw_template_id: &str,
) -> Result<SessionView, AppError> {
    let template_id = candidate.confirm(state, parse_id(raw_template_id)).await?;
    // Found only while the template is published: the session has its own copy of the test,
    // kept in memory (`fixed_sessions`), so that only its progress is read.
    if let Some(progress) = state
        .store
        .sessions
        .find_in_progress(&candidate.id, &template_id)
        .await?
    {
        if unsettled(progress.status, progress.deadline, false) {
            // Its deadline has passed: it is ended and graded, and a new attempt starts below.
            if let Some(record) = state.store.sessions.find(&progress.id).await? {
                settle(state, record).await?;
            }
        } else if let Some(fixed) = state.fixed_sessions.get(&state.store, &progress.id).await? {
            return Ok(view_of(state, &fixed.content, progress, None, true));
        }
    }
    let account = candidate.account(state).await?;
    let template = match state.store.templates.find(&template_id).await? {
        Some(t) if t.status == TemplateStatus::Published => t,
        _ => return Err(AppError::NotFound(TEMPLATE_NOT_FOUND.into())),
    };
    let started_at = now();
    let deadline =
        started_at + chrono::Duration::minutes(i64::from(template.content.time_limit_minutes));
    let outcome = state
        .store
        .sessions
        .start(NewSession {
            candidate_id: account.id,
            candidate_email: account.email,
            template_id: template.id.clone(),
            template_version: template.version,
            recruiter_id: template.owner_id.clone(),
            prompt_budget: template.content.default_prompt_budget,
            deadline,
            content: template.content,
        })
        .await?;
    Ok(match outcome {
        StartOutcome::Started(record) => {
            tracing::info!(session_id = %record.id, template_id = %record.template_id, "session started");
            view(state, record, false)
        }
        StartOutcome::Existing(record) => view(state, record, true),
    })
}

pub async fn get(state: &AppState, candidate: &Id, raw_id: &str) -> Result<SessionView, AppError> {
    Ok(view(state, owned(state, candidate, raw_id).await?, false))
}

pub async fn list(state: &AppState, candidate: &Id) -> Result<Vec<SessionSummary>, AppError> {
    let sessions = state.store.sessions.list_for_candidate(candidate).await?;
    let mut summaries = Vec::with_capacity(sessions.len());
    for session in sessions {
        if !unsettled(session.status, session.deadline, session.scores.is_some()) {
            summaries.push(summary(&session));
            continue;
        }
        // Rare: it is read whole only to be ended or graded.
        if let Some(record) = state.store.sessions.find(&session.id).await? {
            summaries.push(summary(&settle(state, record).await?.overview()));
        }
    }
    Ok(summaries)
}

/// The answer in its stored form, checked against the question's type.
fn normalize_answer(kind: &QuestionKind, answer: Value) -> Result<Value, AppError> {
    match kind {
        QuestionKind::Coding { .. } | QuestionKind::Theory { .. } => match answer {
            Value::String(text) if text.chars().count() > MAX_ANSWER_CHARS => {
                Err(AppError::invalid(format!(
                    "answer: must be at most {MAX_ANSWER_CHARS} characters"
                )))
            }
            Value::String(text) => Ok(Value::String(text)),
            _ => Err(AppError::invalid(
                "answer: must be text for this question".into(),
            )),
        },
        QuestionKind::MultipleChoice { options, correct } => {
            let picked: Vec<Value> = match answer {
                Value::Array(items) => items,
                single @ Value::Number(_) => vec![single],
                _ => {
                    return Err(AppError::invalid(
                        "answer: must be an option index or a list of option indexes".into(),
                    ));
                }
            };
            let mut indexes = Vec::with_capacity(picked.len());
            for item in &picked {
                match item.as_u64().and_then(|n| usize::try_from(n).ok()) {
                    Some(i) if i < options.len() => indexes.push(i),
                    _ => {
                        return Err(AppError::invalid(format!(
                            "answer: options are numbered 0 to {}",
                            options.len().saturating_sub(1)
                        )));
                    }
                }
            }
            indexes.sort_unstable();
            indexes.dedup();
            if correct.len() == 1 && indexes.len() > 1 {
                return Err(AppError::invalid(
                    "answer: this question takes a single option".into(),
                ));
            }
            Ok(Value::from(indexes))
        }
    }
}

/// Saves the candidate's answer. Their account is not read first: the save checks it, and a
/// refusal confirms it (see [`Claimant`]).
pub async fn submit_answer(
    state: &AppState,
    candidate: &Claimant,
    raw_id: &str,
    input: AnswerInput,
) -> Result<Message, AppError> {
    let saved = save(state, &candidate.id, raw_id, input).await;
    candidate.confirm(state, saved).await
}

async fn save(
    state: &AppState,
    candidate: &Id,
    raw_id: &str,
    input: AnswerInput,
) -> Result<Message, AppError> {
    let session = fixed_owned(state, candidate, raw_id).await?;
    let question = session
        .question(&input.question_id)
        .ok_or_else(|| AppError::NotFound(QUESTION_NOT_FOUND.into()))?;
    if now() >= session.deadline {
        return Err(ended(state, &session.id).await);
    }
    let answer = match normalize_answer(&question.kind, input.answer) {
        Ok(answer) => answer,
        Err(err) => return Err(ended_or(state, &session.id, err).await),
    };
    let submitted_at = now();
    let saved = state
        .store
        .sessions
        .save_answer(
            &session.id,
            candidate,
            AnswerRecord {
                question_id: question.id.clone(),
                answer,
                submitted_at,
            },
        )
        .await?;
    match saved {
        SaveOutcome::Saved => {
            state.rooms.publish(
                &session.id,
                LiveEvent::AnswerSaved {
                    question_id: question.id.clone(),
                    timestamp: rfc3339(submitted_at),
                },
            );
            Ok(Message {
                message: "Answer submitted successfully".into(),
            })
        }
        SaveOutcome::NotActive => Err(ended(state, &session.id).await),
        SaveOutcome::NotFound => Err(AppError::NotFound(NOT_FOUND.into())),
    }
}

/// Ends the session and returns its scores; calling again returns the same scores.
pub async fn end(state: &AppState, candidate: &Id, raw_id: &str) -> Result<Scores, AppError> {
    let record = owned(state, candidate, raw_id).await?;
    let record = finalize(state, record).await?;
    record
        .grading
        .map(|g| g.scores)
        .ok_or_else(|| AppError::Internal("a finalized session has no grading".into()))
}

pub async fn record_event(
    state: &AppState,
    candidate: &Id,
    raw_id: &str,
    input: IntegrityInput,
) -> Result<Message, AppError> {
    let detail = input.detail.unwrap_or_default();
    if detail.chars().count() > MAX_EVENT_DETAIL_CHARS {
        return Err(AppError::invalid(format!(
            "detail: must be at most {MAX_EVENT_DETAIL_CHARS} characters"
        )));
    }
    let session = owned_question(state, candidate, raw_id, None).await?;
    if session.status != SessionStatus::InProgress {
        return Err(AppError::BadRequest(ENDED.into()));
    }
    let key = session.id.to_string();
    state
        .event_throttle
        .take(&key, Instant::now())
        .map_err(|retry_after_secs| AppError::TooManyRequests { retry_after_secs })?;
    if state.store.sessions.count_events(&session.id).await? >= MAX_EVENTS_PER_SESSION {
        return Err(AppError::TooManyRequests {
            retry_after_secs: 60,
        });
    }
    let event = IntegrityRecord {
        id: new_id(),
        session_id: session.id.clone(),
        timestamp: now(),
        kind: input.kind,
        detail,
    };
    state.store.sessions.add_event(event.clone()).await?;
    state
        .rooms
        .publish(&session.id, LiveEvent::Integrity(integrity_event(event)));
    Ok(Message {
        message: "Event recorded".into(),
    })
}

/// Runs the candidate's code on a coding question's visible examples (never the hidden tests),
/// at most [`EXAMPLE_RUNS_PER_MINUTE`] times a minute per session.
pub async fn run_examples(
    state: &AppState,
    candidate: &Id,
    raw_id: &str,
    input: RunInput,
) -> Result<Vec<ExampleRun>, AppError> {
    if input.code.chars().count() > MAX_ANSWER_CHARS {
        return Err(AppError::invalid(format!(
            "code: must be at most {MAX_ANSWER_CHARS} characters"
        )));
    }
    let session = owned_question(state, candidate, raw_id, Some(&input.question_id)).await?;
    let question = session
        .question
        .ok_or_else(|| AppError::NotFound(QUESTION_NOT_FOUND.into()))?;
    let QuestionKind::Coding {
        function_name,
        examples,
        ..
    } = question.kind
    else {
        return Err(AppError::invalid(
            "question_id: only coding questions have examples to run".into(),
        ));
    };
    if session.status != SessionStatus::InProgress {
        return Err(AppError::BadRequest(ENDED.into()));
    }
    let key = format!("run:{}", session.id);
    state
        .run_throttle
        .take(&key, Instant::now())
        .map_err(|retry_after_secs| AppError::TooManyRequests { retry_after_secs })?;
    let (code, cases) = (input.code, examples);
    let runs = state
        .sandbox
        .run(move || {
            let runs = sandbox::run_tests(&code, &function_name, &cases, sandbox::LIMITS);
            cases
                .into_iter()
                .zip(runs)
                .map(|(case, run)| ExampleRun {
                    input: case.input,
                    expected: case.expected,
                    passed: run.outcome.passed,
                    error: run.outcome.error,
                    millis: run.outcome.millis,
                    output: run.output,
                })
                .collect()
        })
        .await?;
    Ok(runs)
}

/// Ends and grades the session if its deadline has passed (its live channel calls this at the
/// deadline, so that sockets close on time rather than at the next sweep).
pub async fn expire(state: &AppState, id: &Id) -> Result<(), AppError> {
    if let Some(record) = state.store.sessions.find(id).await? {
        settle(state, record).await?;
    }
    Ok(())
}

/// Ends and grades every session whose deadline has passed; returns how many.
pub async fn sweep(state: &AppState) -> Result<usize, AppError> {
    let overdue = state.store.sessions.overdue(now(), 100).await?;
    let mut settled = 0;
    for id in overdue {
        if let Some(record) = state.store.sessions.find(&id).await? {
            finalize(state, record).await?;
            settled += 1;
        }
    }
    Ok(settled)
}

/// Runs [`sweep`] every `every` until the process ends.
pub fn spawn_sweeper(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match sweep(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "ended sessions past their deadline"),
                Err(err) => tracing::warn!(error = %err, "deadline sweep failed"),
            }
        }
    });
}
