//! The storage port. Features reach persistence only through these repository traits, whose
//! methods say what the product needs ("spend one prompt if any is left"), never how an engine
//! does it. Two adapters implement every trait: MongoDB (production, `MONGO_URI`) and bundled
//! SQLite (the zero-setup default). `tests/store_conformance.rs` holds both to the same contract.

mod mongo;
mod sqlite;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

use crate::model::{Id, Role, Speaker};
pub use crate::session::SessionStatus;
use crate::session::{Grading, IntegrityKind, ResultsSort, Scores};
use crate::template::{Question, Template, TemplateContent, TemplateStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Errors of the storage layer. Mapped to HTTP once, at the edge.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique key (named) already exists.
    #[error("duplicate value for unique field `{0}`")]
    Duplicate(&'static str),
    /// The engine cannot be reached or did not answer in time: the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back into its type.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Anything else the engine reported.
    #[error("storage error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A fresh document id, the same shape on every engine.
pub fn new_id() -> Id {
    Id::parse(&mongodb::bson::oid::ObjectId::new().to_hex()).expect("an ObjectId is 24 hex digits")
}

/// Timestamps are stored at millisecond precision on every engine (BSON dates are milliseconds).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// How every timestamp leaves the server: RFC 3339 in UTC with milliseconds
/// (`2026-11-26T10:15:00.000Z`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written digit by digit: chrono's formatter goes through `fmt` machinery, which was a
    // twentieth of a results page. Years of other widths and leap seconds are left to chrono.
    let (date, time) = (t.date_naive(), t.time());
    let millis = time.nanosecond() / 1_000_000;
    let by_chrono = || t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let year = match u32::try_from(date.year()) {
        Ok(year @ 0..=9999) if millis <= 999 => year,
        _ => return by_chrono(),
    };
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for digit in out[at..at + width].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, date.month());
    put(8, 2, date.day());
    put(11, 2, time.hour());
    put(14, 2, time.minute());
    put(17, 2, time.second());
    put(20, 3, millis);
    match std::str::from_utf8(&out) {
        Ok(written) => written.to_owned(),
        Err(_) => by_chrono(),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id: Id,
    /// Trimmed and lower-cased; unique.
    pub email: String,
    pub role: Role,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Stores a new account; `Duplicate("email")` when the email is taken.
    async fn insert(&self, user: NewUser) -> StoreResult<UserRecord>;
    async fn find_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn find_by_id(&self, id: &Id) -> StoreResult<Option<UserRecord>>;
    /// Removes the account; returns whether it existed.
    async fn delete(&self, id: &Id) -> StoreResult<bool>;
    /// How many accounts exist.
    async fn count(&self) -> StoreResult<u64>;
}

/// A candidate's saved answer to one question (the latest save wins).
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRecord {
    pub question_id: String,
    pub answer: serde_json::Value,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    pub id: Id,
    pub candidate_id: Id,
    /// Denormalised at start, for the recruiter's results and exports.
    pub candidate_email: String,
    pub template_id: Id,
    pub template_version: u32,
    /// The template's owner, so that results are found without reading templates.
    pub recruiter_id: Id,
    pub status: SessionStatus,
    pub prompt_budget: u32,
    pub used_prompts: u32,
    pub blocked_prompts: u32,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The template's content when the session started: later edits never change it.
    pub content: TemplateContent,
    /// At most one per question.
    pub answers: Vec<AnswerRecord>,
    /// Set once the ended session has been graded.
    pub grading: Option<Grading>,
}

/// What changes in a session while it is taken. A resumed start reads only this, and takes the
/// test, which never changes, from memory (`fixed::FixedSessions`).
#[derive(Clone, Debug, PartialEq)]
pub struct SessionProgress {
    pub id: Id,
    pub template_id: Id,
    pub status: SessionStatus,
    pub prompt_budget: u32,
    pub used_prompts: u32,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// At most one per question.
    pub answers: Vec<AnswerRecord>,
}

impl SessionRecord {
    /// The record as its test, its progress and its grading.
    pub fn into_parts(self) -> (TemplateContent, SessionProgress, Option<Grading>) {
        let progress = SessionProgress {
            id: self.id,
            template_id: self.template_id,
            status: self.status,
            prompt_budget: self.prompt_budget,
            used_prompts: self.used_prompts,
            started_at: self.started_at,
            deadline: self.deadline,
            ended_at: self.ended_at,
            answers: self.answers,
        };
        (self.content, progress, self.grading)
    }

    pub fn question(&self, question_id: &str) -> Option<&Question> {
        self.content.questions.iter().find(|q| q.id == question_id)
    }

    pub fn answer(&self, question_id: &str) -> Option<&AnswerRecord> {
        self.answers.iter().find(|a| a.question_id == question_id)
    }

    pub fn overview(&self) -> SessionOverview {
        SessionOverview {
            id: self.id.clone(),
            candidate_id: self.candidate_id.clone(),
            candidate_email: self.candidate_email.clone(),
            template_id: self.template_id.clone(),
            title: self.content.title.clone(),
            status: self.status,
            prompt_budget: self.prompt_budget,
            used_prompts: self.used_prompts,
            blocked_prompts: self.blocked_prompts,
            started_at: self.started_at,
            deadline: self.deadline,
            ended_at: self.ended_at,
            scores: self.grading.as_ref().map(|g| g.scores),
        }
    }
}

/// A session as listings show it: without its test content, answers or grading details, which
/// listings never read.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionOverview {
    pub id: Id,
    pub candidate_id: Id,
    pub candidate_email: String,
    pub template_id: Id,
    /// The test's title when the session started.
    pub title: String,
    pub status: SessionStatus,
    pub prompt_budget: u32,
    pub used_prompts: u32,
    pub blocked_prompts: u32,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Set once the ended session has been graded.
    pub scores: Option<Scores>,
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub candidate_id: Id,
    pub candidate_email: String,
    pub template_id: Id,
    pub template_version: u32,
    pub recruiter_id: Id,
    pub prompt_budget: u32,
    pub deadline: DateTime<Utc>,
    pub content: TemplateContent,
}

impl NewSession {
    /// The record every engine stores for a new session.
    pub fn into_record(self, started_at: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            id: new_id(),
            candidate_id: self.candidate_id,
            candidate_email: self.candidate_email,
            template_id: self.template_id,
            template_version: self.template_version,
            recruiter_id: self.recruiter_id,
            status: SessionStatus::InProgress,
            prompt_budget: self.prompt_budget,
            used_prompts: 0,
            blocked_prompts: 0,
            started_at,
            deadline: self.deadline,
            ended_at: None,
            content: self.content,
            answers: Vec::new(),
            grading: None,
        }
    }
}

/// What happened to a request to start a session.
#[derive(Clone, Debug, PartialEq)]
pub enum StartOutcome {
    Started(SessionRecord),
    /// The candidate already has a session of this template in progress: that one.
    Existing(SessionRecord),
}

/// What happened to a request to spend one prompt.
#[derive(Clone, Debug, PartialEq)]
pub enum SpendOutcome {
    /// One prompt was spent; the session's budget as it is now.
    Spent(PromptBudget),
    /// Every prompt of the budget is already used: nothing changed.
    BudgetExhausted,
    /// The session has ended: nothing changed.
    NotActive,
    NotFound,
}

/// What a request about one question of a session reads: whose session it is, its state, and
/// that question, without the rest of the test or the answers.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionQuestion {
    pub id: Id,
    pub candidate_id: Id,
    pub status: SessionStatus,
    pub deadline: DateTime<Utc>,
    pub graded: bool,
    /// The question asked for, when the session has it.
    pub question: Option<Question>,
}

/// A session's prompts: how many it may spend and how many it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptBudget {
    pub used_prompts: u32,
    pub prompt_budget: u32,
}

/// What happened to an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// The session has ended or its deadline has passed: nothing changed.
    NotActive,
    NotFound,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IntegrityRecord {
    pub id: Id,
    pub session_id: Id,
    pub timestamp: DateTime<Utc>,
    pub kind: IntegrityKind,
    pub detail: String,
}

/// One exchange with the AI assistant, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptRecord {
    pub id: Id,
    pub session_id: Id,
    /// The question the candidate was on, when given.
    pub question_id: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub prompt: String,
    /// What the candidate was shown (a refusal when blocked).
    pub response: String,
    pub was_blocked: bool,
    /// Blocked: the gatekeeper's rule and reason.
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// Which assistant answered: `offline` or the provider's model.
    pub provider: String,
}

/// Which ended sessions a results listing holds, and in which order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultsFilter {
    /// Only this template's sessions.
    pub template_id: Option<Id>,
    /// Only candidates whose email contains this (case-insensitive).
    pub candidate: Option<String>,
    pub sort: ResultsSort,
}

/// One page of a listing, with the number of items on every page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Stores a new in-progress session, unless the candidate already has one of this template
    /// in progress: then that one is returned. Atomic: parallel starts create one session.
    async fn start(&self, session: NewSession) -> StoreResult<StartOutcome>;
    async fn find(&self, id: &Id) -> StoreResult<Option<SessionRecord>>;
    /// The session's owner and state, with the question `question_id` (`None`: no question).
    async fn find_question(
        &self,
        id: &Id,
        question_id: Option<&str>,
    ) -> StoreResult<Option<SessionQuestion>>;
    /// The progress of the candidate's session of this template that is in progress, if any,
    /// while the template is published and the candidate's account still exists: a request that
    /// did not read the account relies on it. Its test is not read (see [`SessionProgress`]).
    async fn find_in_progress(
        &self,
        candidate_id: &Id,
        template_id: &Id,
    ) -> StoreResult<Option<SessionProgress>>;
    /// Saves (or replaces) the answer to one question while the session is in progress and
    /// `answer.submitted_at` is before its deadline. `NotFound` unless the session is `owner`'s
    /// and `owner`'s account still exists: a request that did not read the account relies on it.
    async fn save_answer(
        &self,
        id: &Id,
        owner: &Id,
        answer: AnswerRecord,
    ) -> StoreResult<SaveOutcome>;
    /// Spends one prompt of an in-progress session if any is left, as one atomic conditional update:
    /// under any number of concurrent callers at most `prompt_budget` prompts are ever spent.
    /// `NotFound` unless the session is `owner`'s and `owner`'s account still exists.
    async fn spend_prompt(&self, id: &Id, owner: &Id) -> StoreResult<SpendOutcome>;
    /// How many sessions were ever started from the template.
    async fn count_for_template(&self, template_id: &Id) -> StoreResult<u64>;
    /// Ends an in-progress session: from then on nothing is saved into it. `None` when it does
    /// not exist or had already ended (only the first caller wins).
    async fn close(&self, id: &Id, ended_at: DateTime<Utc>) -> StoreResult<Option<SessionRecord>>;
    /// Stores the grading of an ended session. Grading is deterministic, so storing it twice
    /// stores the same thing.
    async fn set_grading(&self, id: &Id, grading: &Grading) -> StoreResult<()>;
    /// The candidate's sessions, newest first.
    async fn list_for_candidate(&self, candidate_id: &Id) -> StoreResult<Vec<SessionOverview>>;
    /// Ended sessions of the recruiter's templates matching `filter`, in its order (ties: most
    /// recently ended first; ungraded sessions count as the lowest scores). `None` when the
    /// recruiter's account no longer exists: a request that did not read the account relies on it.
    async fn list_completed_for_recruiter(
        &self,
        recruiter_id: &Id,
        filter: &ResultsFilter,
        skip: u64,
        limit: u32,
    ) -> StoreResult<Option<Page<SessionOverview>>>;
    /// The recruiter's sessions still in progress, most recently started first (at most
    /// `limit`).
    async fn in_progress_for_recruiter(
        &self,
        recruiter_id: &Id,
        limit: u32,
    ) -> StoreResult<Vec<SessionOverview>>;
    /// The total scores of the template's graded sessions (of this recruiter's template only).
    async fn completed_totals(&self, recruiter_id: &Id, template_id: &Id) -> StoreResult<Vec<f64>>;
    /// Ids of in-progress sessions whose deadline is before `now` (at most `limit`).
    async fn overdue(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Id>>;
    /// Gives back one spent prompt (the provider failed, so the candidate is not charged).
    async fn refund_prompt(&self, id: &Id) -> StoreResult<()>;
    /// Stores one assistant exchange; a blocked one also counts in the session's
    /// `blocked_prompts`.
    async fn record_prompt(&self, prompt: PromptRecord) -> StoreResult<()>;
    /// For an exchange settled before its prompt is paid for (a prompt the gatekeeper refused,
    /// the offline assistant's reply): spends one prompt of the exchange's session as
    /// [`spend_prompt`](Self::spend_prompt) does and, only when it was spent, records the
    /// exchange as [`record_prompt`](Self::record_prompt) does. SQLite does both in one write;
    /// this default makes the two calls.
    async fn spend_and_record(
        &self,
        owner: &Id,
        exchange: PromptRecord,
    ) -> StoreResult<SpendOutcome> {
        let outcome = self.spend_prompt(&exchange.session_id, owner).await?;
        if let SpendOutcome::Spent(_) = outcome {
            self.record_prompt(exchange).await?;
        }
        Ok(outcome)
    }
    /// The session's assistant exchanges, oldest first.
    async fn prompts(&self, session_id: &Id) -> StoreResult<Vec<PromptRecord>>;
    /// The session's last `limit` exchanges about `question_id` (`None`: about no question)
    /// that were answered, not blocked, oldest first: the context of the assistant's next reply.
    async fn recent_exchanges(
        &self,
        session_id: &Id,
        question_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<PromptRecord>>;
    async fn add_event(&self, event: IntegrityRecord) -> StoreResult<()>;
    /// The session's integrity events, oldest first.
    async fn events(&self, session_id: &Id) -> StoreResult<Vec<IntegrityRecord>>;
    async fn count_events(&self, session_id: &Id) -> StoreResult<u64>;
}

#[derive(Clone, Debug, PartialEq)]
pub struct TemplateRecord {
    pub id: Id,
    pub owner_id: Id,
    pub status: TemplateStatus,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub content: TemplateContent,
}

impl TemplateRecord {
    pub fn view(&self) -> Template {
        Template {
            id: self.id.clone(),
            status: self.status,
            version: self.version,
            created_by: self.owner_id.clone(),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            content: self.content.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewTemplate {
    pub owner_id: Id,
    pub status: TemplateStatus,
    pub content: TemplateContent,
}

impl NewTemplate {
    /// The record every engine stores for a new template: a fresh id, version 1.
    pub fn into_record(self) -> TemplateRecord {
        let created_at = now();
        TemplateRecord {
            id: new_id(),
            owner_id: self.owner_id,
            status: self.status,
            version: 1,
            created_at,
            updated_at: created_at,
            content: self.content,
        }
    }
}

#[async_trait]
pub trait TemplateRepo: Send + Sync {
    async fn insert(&self, template: NewTemplate) -> StoreResult<TemplateRecord>;
    async fn find(&self, id: &Id) -> StoreResult<Option<TemplateRecord>>;
    /// The owner's templates, newest first.
    async fn list_by_owner(&self, owner_id: &Id) -> StoreResult<Vec<TemplateRecord>>;
    /// Every published template, newest first.
    async fn list_published(&self) -> StoreResult<Vec<TemplateRecord>>;
    /// Replaces the content if the template is still at `expected_version` (optimistic
    /// concurrency: of two racing edits only one applies), moving to the next version when
    /// `new_version` is set. `None` when it does not exist or changed meanwhile.
    async fn replace_content(
        &self,
        id: &Id,
        expected_version: u32,
        new_version: bool,
        content: TemplateContent,
    ) -> StoreResult<Option<TemplateRecord>>;
    /// Sets the status; `None` when the template does not exist.
    async fn set_status(
        &self,
        id: &Id,
        status: TemplateStatus,
    ) -> StoreResult<Option<TemplateRecord>>;
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    pub id: Id,
    pub session_id: Id,
    pub timestamp: DateTime<Utc>,
    pub speaker: Speaker,
    pub message: String,
}

#[async_trait]
pub trait ChatRepo: Send + Sync {
    async fn append(
        &self,
        session_id: &Id,
        speaker: Speaker,
        message: &str,
    ) -> StoreResult<ChatMessage>;
    /// The session's messages, oldest first (at most `limit`, the newest ones).
    async fn history(&self, session_id: &Id, limit: u32) -> StoreResult<Vec<ChatMessage>>;
}

/// Health of the engine behind the repositories.
#[async_trait]
pub trait Health: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
}

/// Every repository, behind one handle that features receive through application state.
#[derive(Clone)]
pub struct Store {
    pub engine: &'static str,
    pub users: Arc<dyn UserRepo>,
    pub templates: Arc<dyn TemplateRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub chat: Arc<dyn ChatRepo>,
    pub health: Arc<dyn Health>,
}

impl Store {
    fn from_engine<E>(engine: &'static str, adapter: E) -> Self
    where
        E: UserRepo + TemplateRepo + SessionRepo + ChatRepo + Health + 'static,
    {
        let adapter = Arc::new(adapter);
        Store {
            engine,
            users: adapter.clone(),
            templates: adapter.clone(),
            sessions: adapter.clone(),
            chat: adapter.clone(),
            health: adapter,
        }
    }

    /// Opens (creating if needed) the SQLite database `assess.db` in `data_dir`, applying migrations.
    pub async fn sqlite(data_dir: &std::path::Path) -> StoreResult<Self> {
        Ok(Self::from_engine(
            "sqlite",
            SqliteStore::open(data_dir).await?,
        ))
    }

    /// Connects to MongoDB and creates the unique indexes.
    pub async fn mongo(uri: &str, db_name: &str) -> StoreResult<Self> {
        Ok(Self::from_engine(
            "mongodb",
            MongoStore::connect(uri, db_name).await?,
        ))
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.health.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let chrono = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut ms: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
        let last: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        // Steps of a prime number of milliseconds reach every digit of every field.
        while ms <= last {
            let t = DateTime::from_timestamp_millis(ms).expect("in range");
            assert_eq!(rfc3339(t), chrono(t));
            ms += 7_919_993_311;
        }
        for ms in [-62_167_219_200_001, 0, last, last + 1, 1_764_846_000_000] {
            let t = DateTime::from_timestamp_millis(ms).expect("in range");
            assert_eq!(rfc3339(t), chrono(t), "{ms}");
        }
        let t = DateTime::from_timestamp_millis(1_764_846_000_123).expect("in range");
        assert_eq!(rfc3339(t), "2025-12-04T11:00:00.123Z");
    }
}
