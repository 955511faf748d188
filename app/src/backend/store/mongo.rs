//! MongoDB adapter (official driver): production, chosen when `MONGO_URI` is set.
//!
//! Kept deliberately thin: every filter and update it sends is built by a pure function below and
//! unit-tested as a document, because no MongoDB server can run in this project's CI. Every write
//! that must be atomic is a single-document update with its guard in the filter.

use super::{
    AnswerRecord, ChatMessage, ChatRepo, Health, IntegrityRecord, NewSession, NewTemplate, NewUser,
    Page, PromptBudget, PromptRecord, ResultsFilter, SaveOutcome, SessionOverview, SessionProgress,
    SessionQuestion, SessionRecord, SessionRepo, SessionStatus, SpendOutcome, StartOutcome,
    StoreError, StoreResult, TemplateRecord, TemplateRepo, UserRecord, UserRepo, new_id, now,
};
use crate::model::{Id, Role, Speaker};
use crate::session::{Grading, IntegrityKind, ResultsSort};
use crate::template::{TemplateContent, TemplateStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Bson, Document, doc, oid::ObjectId};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use std::time::Duration;

const USERS: &str = "users";
const SESSIONS: &str = "sessions";
const CHAT: &str = "chat_messages";
const TEMPLATES: &str = "templates";
const EVENTS: &str = "integrity_events";
const PROMPTS: &str = "prompts";
const DUPLICATE_KEY: i32 = 11000;
const TIMEOUT: Duration = Duration::from_secs(5);

pub struct MongoStore {
    db: Database,
}

impl MongoStore {
    pub async fn connect(uri: &str, db_name: &str) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(unavailable)?;
        // Bounded waits: with the server unreachable, requests fail fast instead of hanging.
        options.server_selection_timeout = Some(TIMEOUT);
        options.connect_timeout = Some(TIMEOUT);
        options.app_name.get_or_insert_with(|| "assess".to_owned());
        let client = Client::with_options(options).map_err(unavailable)?;
        let store = MongoStore {
            db: client.database(db_name),
        };
        store.create_indexes().await?;
        Ok(store)
    }

    async fn create_indexes(&self) -> StoreResult<()> {
        for (collection, model) in indexes() {
            self.collection(collection)
                .create_index(model)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }
}

/// The indexes created at start-up (idempotent on the server).
fn indexes() -> Vec<(&'static str, IndexModel)> {
    let unique = IndexOptions::builder().unique(true).build();
    vec![
        (
            USERS,
            IndexModel::builder()
                .keys(doc! { "email": 1 })
                .options(unique)
                .build(),
        ),
        (
            SESSIONS,
            IndexModel::builder()
                .keys(doc! { "candidate_id": 1, "started_at": -1 })
                .build(),
        ),
        (
            SESSIONS,
            IndexModel::builder()
                .keys(doc! { "template_id": 1, "started_at": -1 })
                .build(),
        ),
        (
            SESSIONS,
            IndexModel::builder()
                .keys(doc! { "candidate_id": 1, "template_id": 1 })
                .options(
                    IndexOptions::builder()
                        .unique(true)
                        .partial_filter_expression(
                            doc! { "status": SessionStatus::InProgress.as_str() },
                        )
                        .name("one_in_progress".to_owned())
                        .build(),
                )
                .build(),
        ),
        (
            SESSIONS,
            IndexModel::builder()
                // The listings' tie-break too: a page of results comes off the index in order.
                .keys(doc! { "recruiter_id": 1, "status": 1, "ended_at": -1, "_id": -1 })
                .build(),
        ),
        (
            SESSIONS,
            IndexModel::builder()
                .keys(doc! { "status": 1, "deadline": 1 })
                .build(),
        ),
        (
            CHAT,
            IndexModel::builder()
                .keys(doc! { "session_id": 1, "ts": 1, "_id": 1 })
                .build(),
        ),
        (
            EVENTS,
            IndexModel::builder()
                .keys(doc! { "session_id": 1, "ts": 1, "_id": 1 })
                .build(),
        ),
        (
            PROMPTS,
            IndexModel::builder()
                .keys(doc! { "session_id": 1, "ts": 1, "_id": 1 })
                .build(),
        ),
        (
            TEMPLATES,
            IndexModel::builder()
                .keys(doc! { "owner_id": 1, "created_at": -1 })
                .build(),
        ),
        (
            TEMPLATES,
            IndexModel::builder()
                .keys(doc! { "status": 1, "created_at": -1 })
                .build(),
        ),
    ]
}

fn unavailable(err: mongodb::error::Error) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

fn map_err(err: mongodb::error::Error) -> StoreError {
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => unavailable(err),
        ErrorKind::BsonDeserialization(_) => StoreError::Corrupt(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}

fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    matches!(err.kind.as_ref(), ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY)
}

// --- Codecs between domain records and documents -------------------------------------------------

fn oid(id: &Id) -> ObjectId {
    // `Id` only ever holds 24 hex digits, which is exactly an ObjectId.
    ObjectId::parse_str(id.as_str()).expect("Id is always a valid ObjectId")
}

fn date(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

fn corrupt(field: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("field `{field}`: {err}"))
}

fn get_id(d: &Document, field: &str) -> StoreResult<Id> {
    let raw = d.get_object_id(field).map_err(|e| corrupt(field, e))?;
    Id::parse(&raw.to_hex()).map_err(|e| corrupt(field, e))
}

fn get_str<'a>(d: &'a Document, field: &str) -> StoreResult<&'a str> {
    d.get_str(field).map_err(|e| corrupt(field, e))
}

/// A text field holding one of a type's wire names (a status, a role).
fn get_parsed<T>(
    d: &Document,
    field: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> StoreResult<T> {
    let raw = get_str(d, field)?;
    parse(raw).ok_or_else(|| corrupt(field, raw))
}

fn get_time(d: &Document, field: &str) -> StoreResult<DateTime<Utc>> {
    let t = d.get_datetime(field).map_err(|e| corrupt(field, e))?;
    DateTime::from_timestamp_millis(t.timestamp_millis())
        .ok_or_else(|| corrupt(field, "out of range"))
}

fn get_optional_time(d: &Document, field: &str) -> StoreResult<Option<DateTime<Utc>>> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => get_time(d, field).map(Some),
    }
}

fn get_count(d: &Document, field: &str) -> StoreResult<u32> {
    let n = match d.get(field) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        other => {
            return Err(corrupt(
                field,
                format!("expected an integer, found {other:?}"),
            ));
        }
    };
    u32::try_from(n).map_err(|e| corrupt(field, e))
}

fn user_doc(u: &UserRecord) -> Document {
    doc! {
        "_id": oid(&u.id),
        "email": &u.email,
        "role": u.role.as_str(),
        "password_hash": &u.password_hash,
        "created_at": date(u.created_at),
    }
}

fn user_from_doc(d: &Document) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: get_id(d, "_id")?,
        email: get_str(d, "email")?.to_owned(),
        role: get_parsed(d, "role", Role::parse)?,
        password_hash: get_str(d, "password_hash")?.to_owned(),
        created_at: get_time(d, "created_at")?,
    })
}

fn to_bson_doc(value: &impl serde::Serialize, what: &str) -> StoreResult<Document> {
    bson::to_document(value).map_err(|e| StoreError::Internal(format!("{what}: {e}")))
}

fn answer_doc(a: &AnswerRecord) -> StoreResult<Document> {
    Ok(doc! {
        "question_id": &a.question_id,
        "answer": bson::to_bson(&a.answer).map_err(|e| StoreError::Internal(format!("answer: {e}")))?,
        "submitted_at": date(a.submitted_at),
    })
}

fn answer_from_doc(d: &Document) -> StoreResult<AnswerRecord> {
    let answer = d.get("answer").cloned().unwrap_or(Bson::Null);
    Ok(AnswerRecord {
        question_id: get_str(d, "question_id")?.to_owned(),
        answer: bson::from_bson(answer).map_err(|e| corrupt("answers.answer", e))?,
        submitted_at: get_time(d, "submitted_at")?,
    })
}

fn session_doc(s: &SessionRecord) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&s.id),
        "candidate_id": oid(&s.candidate_id),
        "candidate_email": &s.candidate_email,
        "template_id": oid(&s.template_id),
        "template_version": i64::from(s.template_version),
        "recruiter_id": oid(&s.recruiter_id),
        "status": s.status.as_str(),
        "prompt_budget": i64::from(s.prompt_budget),
        "used_prompts": i64::from(s.used_prompts),
        "blocked_prompts": i64::from(s.blocked_prompts),
        "started_at": date(s.started_at),
        "deadline": date(s.deadline),
        "ended_at": s.ended_at.map(date),
        "content": to_bson_doc(&s.content, "template content")?,
        "answers": s.answers.iter().map(answer_doc).collect::<StoreResult<Vec<_>>>()?,
        "grading": s.grading.as_ref().map(|g| to_bson_doc(g, "grading")).transpose()?,
    })
}

fn answers_from_doc(d: &Document) -> StoreResult<Vec<AnswerRecord>> {
    d.get_array("answers")
        .map_err(|e| corrupt("answers", e))?
        .iter()
        .map(|a| match a {
            Bson::Document(a) => answer_from_doc(a),
            other => Err(corrupt(
                "answers",
                format!("expected a document, found {other:?}"),
            )),
        })
        .collect()
}

fn session_from_doc(d: &Document) -> StoreResult<SessionRecord> {
    let content = d
        .get_document("content")
        .map_err(|e| corrupt("content", e))?
        .clone();
    let answers = answers_from_doc(d)?;
    let grading = match d.get("grading") {
        None | Some(Bson::Null) => None,
        Some(g) => Some(bson::from_bson(g.clone()).map_err(|e| corrupt("grading", e))?),
    };
    Ok(SessionRecord {
        id: get_id(d, "_id")?,
        candidate_id: get_id(d, "candidate_id")?,
        candidate_email: get_str(d, "candidate_email")?.to_owned(),
        template_id: get_id(d, "template_id")?,
        template_version: get_count(d, "template_version")?,
        recruiter_id: get_id(d, "recruiter_id")?,
        status: get_parsed(d, "status", SessionStatus::parse)?,
        prompt_budget: get_count(d, "prompt_budget")?,
        used_prompts: get_count(d, "used_prompts")?,
        blocked_prompts: get_count(d, "blocked_prompts")?,
        started_at: get_time(d, "started_at")?,
        deadline: get_time(d, "deadline")?,
        ended_at: get_optional_time(d, "ended_at")?,
        content: bson::from_document(content).map_err(|e| corrupt("content", e))?,
        answers,
        grading,
    })
}

/// The fields of a session document that its progress reads (not its test).
fn progress_projection() -> Document {
    doc! {
        "template_id": 1, "status": 1, "prompt_budget": 1, "used_prompts": 1,
        "started_at": 1, "deadline": 1, "ended_at": 1, "answers": 1,
    }
}

/// A session document projected by [`progress_projection`].
fn progress_from_doc(d: &Document) -> StoreResult<SessionProgress> {
    Ok(SessionProgress {
        id: get_id(d, "_id")?,
        template_id: get_id(d, "template_id")?,
        status: get_parsed(d, "status", SessionStatus::parse)?,
        prompt_budget: get_count(d, "prompt_budget")?,
        used_prompts: get_count(d, "used_prompts")?,
        started_at: get_time(d, "started_at")?,
        deadline: get_time(d, "deadline")?,
        ended_at: get_optional_time(d, "ended_at")?,
        answers: answers_from_doc(d)?,
    })
}

/// The fields of a session document that listings read.
fn overview_projection() -> Document {
    doc! {
        "candidate_id": 1, "candidate_email": 1, "template_id": 1, "content.title": 1,
        "status": 1, "prompt_budget": 1, "used_prompts": 1, "blocked_prompts": 1,
        "started_at": 1, "deadline": 1, "ended_at": 1, "grading.scores": 1,
    }
}

/// A session document projected by [`overview_projection`].
fn overview_from_doc(d: &Document) -> StoreResult<SessionOverview> {
    let title = d
        .get_document("content")
        .and_then(|c| c.get_str("title"))
        .map_err(|e| corrupt("content.title", e))?;
    let scores = match d.get("grading") {
        None | Some(Bson::Null) => None,
        Some(Bson::Document(g)) => {
            let scores = g
                .get("scores")
                .cloned()
                .ok_or_else(|| corrupt("grading.scores", "missing"))?;
            Some(bson::from_bson(scores).map_err(|e| corrupt("grading.scores", e))?)
        }
        Some(other) => return Err(corrupt("grading", other)),
    };
    Ok(SessionOverview {
        id: get_id(d, "_id")?,
        candidate_id: get_id(d, "candidate_id")?,
        candidate_email: get_str(d, "candidate_email")?.to_owned(),
        template_id: get_id(d, "template_id")?,
        title: title.to_owned(),
        status: get_parsed(d, "status", SessionStatus::parse)?,
        prompt_budget: get_count(d, "prompt_budget")?,
        used_prompts: get_count(d, "used_prompts")?,
        blocked_prompts: get_count(d, "blocked_prompts")?,
        started_at: get_time(d, "started_at")?,
        deadline: get_time(d, "deadline")?,
        ended_at: get_optional_time(d, "ended_at")?,
        scores,
    })
}

/// The fields of a session document that [`SessionQuestion`] reads: with `question_id`, only
/// that element of the test's questions.
fn question_projection(question_id: Option<&str>) -> Document {
    let mut projection = doc! {
        "candidate_id": 1, "status": 1, "deadline": 1, "grading.scores.total_score": 1,
    };
    if let Some(question_id) = question_id {
        projection.insert(
            "content.questions",
            doc! { "$elemMatch": { "id": question_id } },
        );
    }
    projection
}

/// A session document projected by [`question_projection`].
fn session_question_from_doc(d: &Document) -> StoreResult<SessionQuestion> {
    // `$elemMatch` leaves the one matching question, or no `questions` when none matched.
    let question = match d
        .get_document("content")
        .ok()
        .and_then(|c| c.get("questions"))
    {
        None | Some(Bson::Null) => None,
        Some(Bson::Array(questions)) => match questions.first() {
            None => None,
            Some(Bson::Document(q)) => {
                Some(bson::from_document(q.clone()).map_err(|e| corrupt("content.questions", e))?)
            }
            Some(other) => return Err(corrupt("content.questions", other)),
        },
        Some(other) => return Err(corrupt("content.questions", other)),
    };
    Ok(SessionQuestion {
        id: get_id(d, "_id")?,
        candidate_id: get_id(d, "candidate_id")?,
        status: get_parsed(d, "status", SessionStatus::parse)?,
        deadline: get_time(d, "deadline")?,
        graded: matches!(d.get("grading"), Some(Bson::Document(g)) if g.contains_key("scores")),
        question,
    })
}

/// Matches the session only while it is `owner`'s, in progress and has a prompt left.
fn spend_filter(id: &Id, owner: &Id) -> Document {
    doc! {
        "_id": oid(id),
        "candidate_id": oid(owner),
        "status": SessionStatus::InProgress.as_str(),
        "$expr": { "$lt": ["$used_prompts", "$prompt_budget"] },
    }
}

fn spend_update() -> Document {
    doc! { "$inc": { "used_prompts": 1_i64 } }
}

/// Matches `owner`'s session while it accepts answers at `at`: in progress and before its
/// deadline.
/// `has_answer` narrows it to whether the question already has an answer (so that the update
/// either replaces that element in place or pushes the first one: never two for one question).
fn save_answer_filter(
    id: &Id,
    owner: &Id,
    question_id: &str,
    at: DateTime<Utc>,
    has_answer: bool,
) -> Document {
    let mut filter = doc! {
        "_id": oid(id),
        "candidate_id": oid(owner),
        "status": SessionStatus::InProgress.as_str(),
        "deadline": { "$gt": date(at) },
    };
    if has_answer {
        filter.insert("answers.question_id", question_id);
    } else {
        filter.insert("answers.question_id", doc! { "$ne": question_id });
    }
    filter
}

fn replace_answer_update(answer: &AnswerRecord) -> StoreResult<Document> {
    Ok(doc! { "$set": { "answers.$": answer_doc(answer)? } })
}

fn push_answer_update(answer: &AnswerRecord) -> StoreResult<Document> {
    Ok(doc! { "$push": { "answers": answer_doc(answer)? } })
}

fn close_filter(id: &Id) -> Document {
    doc! { "_id": oid(id), "status": SessionStatus::InProgress.as_str() }
}

fn close_update(ended_at: DateTime<Utc>) -> Document {
    doc! { "$set": { "status": SessionStatus::Completed.as_str(), "ended_at": date(ended_at) } }
}

fn completed_for_recruiter_filter(recruiter_id: &Id, filter: &ResultsFilter) -> Document {
    let mut query = doc! {
        "recruiter_id": oid(recruiter_id),
        "status": SessionStatus::Completed.as_str(),
    };
    if let Some(template_id) = &filter.template_id {
        query.insert("template_id", oid(template_id));
    }
    if let Some(candidate) = &filter.candidate {
        // A literal substring (no regular expression to escape), ASCII case-insensitive as in SQLite.
        query.insert(
            "$expr",
            doc! { "$gte": [
                { "$indexOfCP": [{ "$toLower": "$candidate_email" }, candidate.to_ascii_lowercase()] },
                0,
            ] },
        );
    }
    query
}

fn results_order(sort: ResultsSort) -> Document {
    match sort {
        ResultsSort::Newest => doc! { "ended_at": -1, "_id": -1 },
        ResultsSort::Oldest => doc! { "ended_at": 1, "_id": 1 },
        ResultsSort::ScoreDesc => {
            doc! { "grading.scores.total_score": -1, "ended_at": -1, "_id": -1 }
        }
        ResultsSort::ScoreAsc => {
            doc! { "grading.scores.total_score": 1, "ended_at": -1, "_id": -1 }
        }
        ResultsSort::Candidate => doc! { "candidate_email": 1, "ended_at": -1, "_id": -1 },
    }
}

fn event_doc(e: &IntegrityRecord) -> Document {
    doc! {
        "_id": oid(&e.id),
        "session_id": oid(&e.session_id),
        "ts": date(e.timestamp),
        "kind": e.kind.as_str(),
        "detail": &e.detail,
    }
}

fn event_from_doc(d: &Document) -> StoreResult<IntegrityRecord> {
    let kind = get_str(d, "kind")?;
    Ok(IntegrityRecord {
        id: get_id(d, "_id")?,
        session_id: get_id(d, "session_id")?,
        timestamp: get_time(d, "ts")?,
        kind: IntegrityKind::parse(kind).ok_or_else(|| corrupt("kind", kind))?,
        detail: get_str(d, "detail")?.to_owned(),
    })
}

fn prompt_doc(p: &PromptRecord) -> Document {
    doc! {
        "_id": oid(&p.id),
        "session_id": oid(&p.session_id),
        "question_id": p.question_id.as_deref(),
        "ts": date(p.timestamp),
        "prompt": &p.prompt,
        "response": &p.response,
        "was_blocked": p.was_blocked,
        "rule": p.rule.as_deref(),
        "reason": p.reason.as_deref(),
        "provider": &p.provider,
    }
}

/// The answered exchanges of a session about one question (`None`: about none).
fn recent_exchanges_filter(session_id: &Id, question_id: Option<&str>) -> Document {
    doc! {
        "session_id": oid(session_id),
        "question_id": question_id,
        "was_blocked": false,
    }
}

/// Every document `cursor` yields, read by `from_doc`, in the cursor's order.
async fn read_all<T>(
    mut cursor: mongodb::Cursor<Document>,
    from_doc: impl Fn(&Document) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut items = Vec::new();
    while cursor.advance().await.map_err(map_err)? {
        let d = cursor.deserialize_current().map_err(map_err)?;
        items.push(from_doc(&d)?);
    }
    Ok(items)
}

fn optional_str(d: &Document, field: &str) -> StoreResult<Option<String>> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(corrupt(field, other)),
    }
}

fn prompt_from_doc(d: &Document) -> StoreResult<PromptRecord> {
    Ok(PromptRecord {
        id: get_id(d, "_id")?,
        session_id: get_id(d, "session_id")?,
        question_id: optional_str(d, "question_id")?,
        timestamp: get_time(d, "ts")?,
        prompt: get_str(d, "prompt")?.to_owned(),
        response: get_str(d, "response")?.to_owned(),
        was_blocked: d
            .get_bool("was_blocked")
            .map_err(|e| corrupt("was_blocked", e))?,
        rule: optional_str(d, "rule")?,
        reason: optional_str(d, "reason")?,
        provider: get_str(d, "provider")?.to_owned(),
    })
}

fn chat_doc(m: &ChatMessage) -> Document {
    doc! {
        "_id": oid(&m.id),
        "session_id": oid(&m.session_id),
        "ts": date(m.timestamp),
        "speaker": m.speaker.as_str(),
        "message": &m.message,
    }
}

fn chat_from_doc(d: &Document) -> StoreResult<ChatMessage> {
    let speaker = get_str(d, "speaker")?;
    Ok(ChatMessage {
        id: get_id(d, "_id")?,
        session_id: get_id(d, "session_id")?,
        timestamp: get_time(d, "ts")?,
        speaker: Speaker::parse(speaker).ok_or_else(|| corrupt("speaker", speaker))?,
        message: get_str(d, "message")?.to_owned(),
    })
}

fn template_doc(t: &TemplateRecord) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&t.id),
        "owner_id": oid(&t.owner_id),
        "status": t.status.as_str(),
        "version": i64::from(t.version),
        "created_at": date(t.created_at),
        "updated_at": date(t.updated_at),
        "content": content_doc(&t.content)?,
    })
}

fn content_doc(content: &TemplateContent) -> StoreResult<Document> {
    to_bson_doc(content, "template content")
}

fn template_from_doc(d: &Document) -> StoreResult<TemplateRecord> {
    let content = d
        .get_document("content")
        .map_err(|e| corrupt("content", e))?
        .clone();
    Ok(TemplateRecord {
        id: get_id(d, "_id")?,
        owner_id: get_id(d, "owner_id")?,
        status: get_parsed(d, "status", TemplateStatus::parse)?,
        version: get_count(d, "version")?,
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
        content: bson::from_document(content).map_err(|e| corrupt("content", e))?,
    })
}

/// Matches the template only at the version the editor loaded (optimistic concurrency).
fn replace_content_filter(id: &Id, expected_version: u32) -> Document {
    doc! { "_id": oid(id), "version": i64::from(expected_version) }
}

fn replace_content_update(
    content: &TemplateContent,
    next_version: u32,
    at: DateTime<Utc>,
) -> StoreResult<Document> {
    Ok(doc! { "$set": {
        "content": content_doc(content)?,
        "version": i64::from(next_version),
        "updated_at": date(at),
    } })
}

fn set_status_update(status: TemplateStatus, at: DateTime<Utc>) -> Document {
    doc! { "$set": { "status": status.as_str(), "updated_at": date(at) } }
}

fn newest_first() -> Document {
    doc! { "created_at": -1, "_id": -1 }
}

/// Newest first, so that a limit keeps the latest messages; reversed after reading.
fn chat_history_sort() -> Document {
    doc! { "ts": -1, "_id": -1 }
}

// --- Repository implementations -----------------------------------------------------------------

#[async_trait]
impl UserRepo for MongoStore {
    async fn insert(&self, user: NewUser) -> StoreResult<UserRecord> {
        let record = UserRecord {
            id: new_id(),
            email: user.email,
            role: user.role,
            password_hash: user.password_hash,
            created_at: now(),
        };
        match self.collection(USERS).insert_one(user_doc(&record)).await {
            Ok(_) => Ok(record),
            Err(e) if is_duplicate_key(&e) => Err(StoreError::Duplicate("email")),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn find_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let found = self
            .collection(USERS)
            .find_one(doc! { "email": email })
            .await
            .map_err(map_err)?;
        found.as_ref().map(user_from_doc).transpose()
    }

    async fn find_by_id(&self, id: &Id) -> StoreResult<Option<UserRecord>> {
        let found = self
            .collection(USERS)
            .find_one(doc! { "_id": oid(id) })
            .await
            .map_err(map_err)?;
        found.as_ref().map(user_from_doc).transpose()
    }

    async fn delete(&self, id: &Id) -> StoreResult<bool> {
        let result = self
            .collection(USERS)
            .delete_one(doc! { "_id": oid(id) })
            .await
            .map_err(map_err)?;
        Ok(result.deleted_count > 0)
    }

    async fn count(&self) -> StoreResult<u64> {
        self.collection(USERS)
            .count_documents(doc! {})
            .await
            .map_err(map_err)
    }
}

impl MongoStore {
    async fn account_exists(&self, id: &Id) -> StoreResult<bool> {
        let found = self
            .collection(USERS)
            .find_one(doc! { "_id": oid(id) })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(map_err)?;
        Ok(found.is_some())
    }

    /// The state of `owner`'s session `id`: what a guarded update that matched nothing reads to
    /// say why (`None`: there is no such session of `owner`'s).
    async fn owned_status(&self, id: &Id, owner: &Id) -> StoreResult<Option<SessionStatus>> {
        let found = self
            .collection(SESSIONS)
            .find_one(doc! { "_id": oid(id), "candidate_id": oid(owner) })
            .projection(doc! { "_id": 0, "status": 1 })
            .await
            .map_err(map_err)?;
        found
            .map(|d| get_parsed(&d, "status", SessionStatus::parse))
            .transpose()
    }

    /// Overviews of the sessions matching `filter`: only the fields listings show are read.
    async fn overviews_matching(
        &self,
        filter: Document,
        sort: Document,
        skip: u64,
        limit: Option<u32>,
    ) -> StoreResult<Vec<SessionOverview>> {
        let collection = self.collection(SESSIONS);
        let mut find = collection
            .find(filter)
            .sort(sort)
            .skip(skip)
            .projection(overview_projection());
        if let Some(limit) = limit {
            find = find.limit(i64::from(limit));
        }
        let cursor = find.await.map_err(map_err)?;
        read_all(cursor, overview_from_doc).await
    }

    /// The candidate's session document of this template that is in progress (the fields of
    /// `projection`, or all), while the template is published and the account still exists.
    async fn in_progress(
        &self,
        candidate_id: &Id,
        template_id: &Id,
        projection: Option<Document>,
    ) -> StoreResult<Option<Document>> {
        let session = async {
            let sessions = self.collection(SESSIONS);
            let mut find = sessions.find_one(doc! {
                "candidate_id": oid(candidate_id),
                "template_id": oid(template_id),
                "status": SessionStatus::InProgress.as_str(),
            });
            if let Some(projection) = projection {
                find = find.projection(projection);
            }
            find.await.map_err(map_err)
        };
        let published = async {
            self.collection(TEMPLATES)
                .find_one(doc! {
                    "_id": oid(template_id),
                    "status": TemplateStatus::Published.as_str(),
                })
                .projection(doc! { "_id": 1 })
                .await
                .map_err(map_err)
        };
        // Three collections and no transaction: asked at once.
        let (session, published, live) =
            tokio::try_join!(session, published, self.account_exists(candidate_id))?;
        Ok(session.filter(|_| published.is_some() && live))
    }

    async fn updated_one(&self, filter: Document, update: Document) -> StoreResult<bool> {
        let result = self
            .collection(SESSIONS)
            .update_one(filter, update)
            .await
            .map_err(map_err)?;
        Ok(result.matched_count == 1)
    }
}

#[async_trait]
impl SessionRepo for MongoStore {
    async fn start(&self, session: NewSession) -> StoreResult<StartOutcome> {
        let record = session.into_record(now());
        match self
            .collection(SESSIONS)
            .insert_one(session_doc(&record)?)
            .await
        {
            Ok(_) => Ok(StartOutcome::Started(record)),
            // The partial unique index allows one in-progress session per candidate and template.
            Err(err) if is_duplicate_key(&err) => self
                .in_progress(&record.candidate_id, &record.template_id, None)
                .await?
                .as_ref()
                .map(session_from_doc)
                .transpose()?
                .map(StartOutcome::Existing)
                .ok_or_else(|| {
                    StoreError::Internal("session start conflicted with nothing".into())
                }),
            Err(err) => Err(map_err(err)),
        }
    }

    async fn find(&self, id: &Id) -> StoreResult<Option<SessionRecord>> {
        let found = self
            .collection(SESSIONS)
            .find_one(doc! { "_id": oid(id) })
            .await
            .map_err(map_err)?;
        found.as_ref().map(session_from_doc).transpose()
    }

    async fn find_question(
        &self,
        id: &Id,
        question_id: Option<&str>,
    ) -> StoreResult<Option<SessionQuestion>> {
        let found = self
            .collection(SESSIONS)
            .find_one(doc! { "_id": oid(id) })
            .projection(question_projection(question_id))
            .await
            .map_err(map_err)?;
        found.as_ref().map(session_question_from_doc).transpose()
    }

    async fn find_in_progress(
        &self,
        candidate_id: &Id,
        template_id: &Id,
    ) -> StoreResult<Option<SessionProgress>> {
        self.in_progress(candidate_id, template_id, Some(progress_projection()))
            .await?
            .as_ref()
            .map(progress_from_doc)
            .transpose()
    }

    async fn save_answer(
        &self,
        id: &Id,
        owner: &Id,
        answer: AnswerRecord,
    ) -> StoreResult<SaveOutcome> {
        // Two collections, no transaction: an account deleted between this check and the update
        // still has this one answer saved, as when requests read the account first.
        if !self.account_exists(owner).await? {
            return Ok(SaveOutcome::NotFound);
        }
        let at = answer.submitted_at;
        // Replace in place, else push the first answer; a concurrent first save of the same
        // question makes the push miss, and the retry then replaces.
        for _ in 0..2 {
            if self
                .updated_one(
                    save_answer_filter(id, owner, &answer.question_id, at, true),
                    replace_answer_update(&answer)?,
                )
                .await?
                || self
                    .updated_one(
                        save_answer_filter(id, owner, &answer.question_id, at, false),
                        push_answer_update(&answer)?,
                    )
                    .await?
            {
                return Ok(SaveOutcome::Saved);
            }
        }
        Ok(match self.owned_status(id, owner).await? {
            Some(_) => SaveOutcome::NotActive,
            None => SaveOutcome::NotFound,
        })
    }

    async fn spend_prompt(&self, id: &Id, owner: &Id) -> StoreResult<SpendOutcome> {
        if !self.account_exists(owner).await? {
            return Ok(SpendOutcome::NotFound);
        }
        let updated = self
            .collection(SESSIONS)
            .find_one_and_update(spend_filter(id, owner), spend_update())
            .return_document(ReturnDocument::After)
            .projection(doc! { "_id": 0, "used_prompts": 1, "prompt_budget": 1 })
            .await
            .map_err(map_err)?;
        if let Some(d) = updated {
            return Ok(SpendOutcome::Spent(PromptBudget {
                used_prompts: get_count(&d, "used_prompts")?,
                prompt_budget: get_count(&d, "prompt_budget")?,
            }));
        }
        // Nothing was spent: say why.
        Ok(match self.owned_status(id, owner).await? {
            None => SpendOutcome::NotFound,
            Some(SessionStatus::InProgress) => SpendOutcome::BudgetExhausted,
            Some(_) => SpendOutcome::NotActive,
        })
    }

    async fn count_for_template(&self, template_id: &Id) -> StoreResult<u64> {
        self.collection(SESSIONS)
            .count_documents(doc! { "template_id": oid(template_id) })
            .await
            .map_err(map_err)
    }

    async fn close(&self, id: &Id, ended_at: DateTime<Utc>) -> StoreResult<Option<SessionRecord>> {
        let updated = self
            .collection(SESSIONS)
            .find_one_and_update(close_filter(id), close_update(ended_at))
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        updated.as_ref().map(session_from_doc).transpose()
    }

    async fn set_grading(&self, id: &Id, grading: &Grading) -> StoreResult<()> {
        self.updated_one(
            doc! { "_id": oid(id), "status": SessionStatus::Completed.as_str() },
            doc! { "$set": { "grading": to_bson_doc(grading, "grading")? } },
        )
        .await?;
        Ok(())
    }

    async fn list_for_candidate(&self, candidate_id: &Id) -> StoreResult<Vec<SessionOverview>> {
        self.overviews_matching(
            doc! { "candidate_id": oid(candidate_id) },
            doc! { "started_at": -1, "_id": -1 },
            0,
            None,
        )
        .await
    }

    async fn list_completed_for_recruiter(
        &self,
        recruiter_id: &Id,
        filter: &ResultsFilter,
        skip: u64,
        limit: u32,
    ) -> StoreResult<Option<Page<SessionOverview>>> {
        let query = completed_for_recruiter_filter(recruiter_id, filter);
        let total = async {
            self.collection(SESSIONS)
                .count_documents(query.clone())
                .await
                .map_err(map_err)
        };
        let items =
            self.overviews_matching(query.clone(), results_order(filter.sort), skip, Some(limit));
        let (live, total, items) =
            tokio::try_join!(self.account_exists(recruiter_id), total, items)?;
        Ok(live.then_some(Page { items, total }))
    }

    async fn completed_totals(&self, recruiter_id: &Id, template_id: &Id) -> StoreResult<Vec<f64>> {
        let cursor = self
            .collection(SESSIONS)
            .find(doc! {
                "recruiter_id": oid(recruiter_id),
                "template_id": oid(template_id),
                "status": SessionStatus::Completed.as_str(),
                "grading.scores.total_score": { "$exists": true },
            })
            .projection(doc! { "_id": 0, "grading.scores.total_score": 1 })
            .await
            .map_err(map_err)?;
        read_all(cursor, |d| {
            d.get_document("grading")
                .and_then(|g| g.get_document("scores"))
                .and_then(|s| s.get_f64("total_score"))
                .map_err(|e| corrupt("grading.scores.total_score", e))
        })
        .await
    }

    async fn in_progress_for_recruiter(
        &self,
        recruiter_id: &Id,
        limit: u32,
    ) -> StoreResult<Vec<SessionOverview>> {
        self.overviews_matching(
            doc! {
                "recruiter_id": oid(recruiter_id),
                "status": SessionStatus::InProgress.as_str(),
            },
            doc! { "started_at": -1, "_id": -1 },
            0,
            Some(limit),
        )
        .await
    }

    async fn overdue(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Id>> {
        // Only the ids: the sweep reads each session again when it settles it.
        let cursor = self
            .collection(SESSIONS)
            .find(doc! {
                "status": SessionStatus::InProgress.as_str(),
                "deadline": { "$lte": date(now) },
            })
            .sort(doc! { "deadline": 1 })
            .limit(i64::from(limit))
            .projection(doc! { "_id": 1 })
            .await
            .map_err(map_err)?;
        read_all(cursor, |d| get_id(d, "_id")).await
    }

    async fn refund_prompt(&self, id: &Id) -> StoreResult<()> {
        self.updated_one(
            doc! { "_id": oid(id), "used_prompts": { "$gt": 0 } },
            doc! { "$inc": { "used_prompts": -1_i64 } },
        )
        .await?;
        Ok(())
    }

    async fn record_prompt(&self, prompt: PromptRecord) -> StoreResult<()> {
        self.collection(PROMPTS)
            .insert_one(prompt_doc(&prompt))
            .await
            .map_err(map_err)?;
        if prompt.was_blocked {
            self.updated_one(
                doc! { "_id": oid(&prompt.session_id) },
                doc! { "$inc": { "blocked_prompts": 1_i64 } },
            )
            .await?;
        }
        Ok(())
    }

    async fn prompts(&self, session_id: &Id) -> StoreResult<Vec<PromptRecord>> {
        let cursor = self
            .collection(PROMPTS)
            .find(doc! { "session_id": oid(session_id) })
            .sort(doc! { "ts": 1, "_id": 1 })
            .await
            .map_err(map_err)?;
        read_all(cursor, prompt_from_doc).await
    }

    async fn recent_exchanges(
        &self,
        session_id: &Id,
        question_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<PromptRecord>> {
        // `question_id: null` matches the exchanges about no question.
        let cursor = self
            .collection(PROMPTS)
            .find(recent_exchanges_filter(session_id, question_id))
            .sort(doc! { "ts": -1, "_id": -1 })
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?;
        let mut prompts = read_all(cursor, prompt_from_doc).await?;
        prompts.reverse();
        Ok(prompts)
    }

    async fn add_event(&self, event: IntegrityRecord) -> StoreResult<()> {
        self.collection(EVENTS)
            .insert_one(event_doc(&event))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn events(&self, session_id: &Id) -> StoreResult<Vec<IntegrityRecord>> {
        let cursor = self
            .collection(EVENTS)
            .find(doc! { "session_id": oid(session_id) })
            .sort(doc! { "ts": 1, "_id": 1 })
            .await
            .map_err(map_err)?;
        read_all(cursor, event_from_doc).await
    }

    async fn count_events(&self, session_id: &Id) -> StoreResult<u64> {
        self.collection(EVENTS)
            .count_documents(doc! { "session_id": oid(session_id) })
            .await
            .map_err(map_err)
    }
}

impl MongoStore {
    async fn templates_matching(&self, filter: Document) -> StoreResult<Vec<TemplateRecord>> {
        let cursor = self
            .collection(TEMPLATES)
            .find(filter)
            .sort(newest_first())
            .await
            .map_err(map_err)?;
        read_all(cursor, template_from_doc).await
    }

    async fn update_template(
        &self,
        filter: Document,
        update: Document,
    ) -> StoreResult<Option<TemplateRecord>> {
        let updated = self
            .collection(TEMPLATES)
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        updated.as_ref().map(template_from_doc).transpose()
    }
}

#[async_trait]
impl TemplateRepo for MongoStore {
    async fn insert(&self, template: NewTemplate) -> StoreResult<TemplateRecord> {
        let record = template.into_record();
        self.collection(TEMPLATES)
            .insert_one(template_doc(&record)?)
            .await
            .map_err(map_err)?;
        Ok(record)
    }

    async fn find(&self, id: &Id) -> StoreResult<Option<TemplateRecord>> {
        let found = self
            .collection(TEMPLATES)
            .find_one(doc! { "_id": oid(id) })
            .await
            .map_err(map_err)?;
        found.as_ref().map(template_from_doc).transpose()
    }

    async fn list_by_owner(&self, owner_id: &Id) -> StoreResult<Vec<TemplateRecord>> {
        self.templates_matching(doc! { "owner_id": oid(owner_id) })
            .await
    }

    async fn list_published(&self) -> StoreResult<Vec<TemplateRecord>> {
        self.templates_matching(doc! { "status": TemplateStatus::Published.as_str() })
            .await
    }

    async fn replace_content(
        &self,
        id: &Id,
        expected_version: u32,
        new_version: bool,
        content: TemplateContent,
    ) -> StoreResult<Option<TemplateRecord>> {
        let next_version = expected_version + u32::from(new_version);
        self.update_template(
            replace_content_filter(id, expected_version),
            replace_content_update(&content, next_version, now())?,
        )
        .await
    }

    async fn set_status(
        &self,
        id: &Id,
        status: TemplateStatus,
    ) -> StoreResult<Option<TemplateRecord>> {
        self.update_template(doc! { "_id": oid(id) }, set_status_update(status, now()))
            .await
    }
}

#[async_trait]
impl ChatRepo for MongoStore {
    async fn append(
        &self,
        session_id: &Id,
        speaker: Speaker,
        message: &str,
    ) -> StoreResult<ChatMessage> {
        let record = ChatMessage {
            id: new_id(),
            session_id: session_id.clone(),
            timestamp: now(),
            speaker,
            message: message.to_owned(),
        };
        self.collection(CHAT)
            .insert_one(chat_doc(&record))
            .await
            .map_err(map_err)?;
        Ok(record)
    }

    async fn history(&self, session_id: &Id, limit: u32) -> StoreResult<Vec<ChatMessage>> {
        let cursor = self
            .collection(CHAT)
            .find(doc! { "session_id": oid(session_id) })
            .sort(chat_history_sort())
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?;
        let mut messages = read_all(cursor, chat_from_doc).await?;
        messages.reverse();
        Ok(messages)
    }
}

#[async_trait]
impl Health for MongoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hex: &str) -> Id {
        Id::parse(hex).expect("test id")
    }

    const SESSION: &str = "65a1b2c3d4e5f60718293a4b";
    const OWNER: &str = "65a1b2c3d4e5f60718293a4c";

    fn sample_session() -> SessionRecord {
        let content: TemplateContent = serde_json::from_value(serde_json::json!({
            "title": "T", "description": "", "time_limit_minutes": 30, "default_prompt_budget": 5,
            "weights": { "accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2 },
            "block_copy_paste": false,
            "questions": [{ "id": "q1", "type": "theory", "prompt": "Why?" }]
        }))
        .unwrap();
        NewSession {
            candidate_id: new_id(),
            candidate_email: "cand@example.com".into(),
            template_id: new_id(),
            template_version: 2,
            recruiter_id: new_id(),
            prompt_budget: 5,
            deadline: now(),
            content,
        }
        .into_record(now())
    }

    #[test]
    fn spend_guard_is_in_the_filter_and_the_update_is_a_single_increment() {
        let filter = spend_filter(&id(SESSION), &id(OWNER));
        assert_eq!(
            filter,
            doc! {
                "_id": ObjectId::parse_str(SESSION).unwrap(),
                "candidate_id": ObjectId::parse_str(OWNER).unwrap(),
                "status": "in_progress",
                "$expr": { "$lt": ["$used_prompts", "$prompt_budget"] },
            }
        );
        assert_eq!(spend_update(), doc! { "$inc": { "used_prompts": 1_i64 } });
    }

    #[test]
    fn recent_exchanges_are_the_answered_ones_about_that_question_or_about_none() {
        let session = ObjectId::parse_str(SESSION).unwrap();
        assert_eq!(
            recent_exchanges_filter(&id(SESSION), Some("q1")),
            doc! { "session_id": session, "question_id": "q1", "was_blocked": false }
        );
        // `null` also matches a missing field: exchanges stored without a question.
        assert_eq!(
            recent_exchanges_filter(&id(SESSION), None),
            doc! { "session_id": session, "question_id": Bson::Null, "was_blocked": false }
        );
    }

    #[test]
    fn template_edits_are_guarded_by_version_and_round_trip() {
        let template = id("65a1b2c3d4e5f60718293a4c");
        assert_eq!(
            replace_content_filter(&template, 3),
            doc! { "_id": ObjectId::parse_str("65a1b2c3d4e5f60718293a4c").unwrap(), "version": 3_i64 }
        );
        let content: TemplateContent = serde_json::from_value(serde_json::json!({
            "title": "T", "description": "", "time_limit_minutes": 30, "default_prompt_budget": 5,
            "weights": { "accuracy": 0.5, "speed_efficiency": 0.25, "prompt_wellness": 0.25 },
            "block_copy_paste": true,
            "questions": [
                { "id": "q1", "type": "coding", "prompt": "p", "context": null, "function_name": "f",
                  "test_cases": [{ "input": [[1, 2], "x", null, { "k": 1.5 }], "expected": true }],
                  "examples": [] },
                { "id": "q2", "type": "multiple_choice", "prompt": "p", "options": ["a", "b"], "correct": [1] }
            ]
        }))
        .unwrap();
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let update = replace_content_update(&content, 4, at).unwrap();
        let set = update.get_document("$set").unwrap();
        assert_eq!(set.get_i64("version").unwrap(), 4);
        assert_eq!(
            set.get_datetime("updated_at").unwrap().timestamp_millis(),
            1_700_000_000_123
        );
        let record = TemplateRecord {
            id: template.clone(),
            owner_id: id(SESSION),
            status: TemplateStatus::Draft,
            version: 4,
            created_at: at,
            updated_at: at,
            content,
        };
        assert_eq!(
            template_from_doc(&template_doc(&record).unwrap()).unwrap(),
            record
        );
        assert_eq!(
            set_status_update(TemplateStatus::Published, at),
            doc! { "$set": { "status": "published", "updated_at": bson::DateTime::from_millis(1_700_000_000_123) } }
        );
    }

    #[test]
    fn closing_only_matches_an_in_progress_session() {
        let ended = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(
            close_filter(&id(SESSION)),
            doc! { "_id": ObjectId::parse_str(SESSION).unwrap(), "status": "in_progress" }
        );
        assert_eq!(
            close_update(ended),
            doc! { "$set": { "status": "completed", "ended_at": bson::DateTime::from_millis(1_700_000_000_123) } }
        );
    }

    #[test]
    fn answers_are_saved_only_before_the_deadline_and_once_per_question() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let deadline_guard = doc! { "$gt": bson::DateTime::from_millis(1_700_000_000_123) };
        assert_eq!(
            save_answer_filter(&id(SESSION), &id(OWNER), "q1", at, true),
            doc! {
                "_id": ObjectId::parse_str(SESSION).unwrap(),
                "candidate_id": ObjectId::parse_str(OWNER).unwrap(),
                "status": "in_progress",
                "deadline": deadline_guard.clone(),
                "answers.question_id": "q1",
            }
        );
        assert_eq!(
            save_answer_filter(&id(SESSION), &id(OWNER), "q1", at, false),
            doc! {
                "_id": ObjectId::parse_str(SESSION).unwrap(),
                "candidate_id": ObjectId::parse_str(OWNER).unwrap(),
                "status": "in_progress",
                "deadline": deadline_guard,
                "answers.question_id": { "$ne": "q1" },
            }
        );
        let answer = AnswerRecord {
            question_id: "q1".into(),
            answer: serde_json::json!([0, 2]),
            submitted_at: at,
        };
        let replace = replace_answer_update(&answer).unwrap();
        let element = replace
            .get_document("$set")
            .unwrap()
            .get_document("answers.$")
            .unwrap();
        assert_eq!(answer_from_doc(element).unwrap(), answer);
        let push = push_answer_update(&answer).unwrap();
        assert!(push.get_document("$push").unwrap().contains_key("answers"));
    }

    #[test]
    fn one_session_per_candidate_and_template_may_be_in_progress() {
        let (collection, model) = indexes()
            .into_iter()
            .find(|(_, m)| m.keys == doc! { "candidate_id": 1, "template_id": 1 })
            .expect("the in-progress index");
        assert_eq!(collection, SESSIONS);
        let options = model.options.expect("options");
        assert_eq!(options.unique, Some(true));
        assert_eq!(
            options.partial_filter_expression,
            Some(doc! { "status": "in_progress" })
        );
    }

    #[test]
    fn email_has_a_unique_index() {
        let (collection, model) = &indexes()[0];
        assert_eq!(*collection, USERS);
        assert_eq!(model.keys, doc! { "email": 1 });
        assert_eq!(model.options.as_ref().and_then(|o| o.unique), Some(true));
    }

    #[test]
    fn records_round_trip_through_documents() {
        let user = UserRecord {
            id: new_id(),
            email: "ada@example.com".into(),
            role: Role::Recruiter,
            password_hash: "$argon2id$v=19$...".into(),
            created_at: now(),
        };
        assert_eq!(user_from_doc(&user_doc(&user)).unwrap(), user);

        let mut session = sample_session();
        let d = session_doc(&session).unwrap();
        assert_eq!(d.get("ended_at"), Some(&Bson::Null));
        assert_eq!(session_from_doc(&d).unwrap(), session);
        session.status = SessionStatus::Completed;
        session.ended_at = Some(now());
        session.answers.push(AnswerRecord {
            question_id: "q1".into(),
            answer: serde_json::json!("function f() { return 1; }"),
            submitted_at: now(),
        });
        session.grading = Some(Grading {
            scores: crate::session::Scores {
                accuracy: 50.0,
                speed_efficiency: 75.5,
                prompt_wellness: 100.0,
                total_score: 65.1,
            },
            questions: vec![crate::session::QuestionGrade {
                question_id: "q1".into(),
                score: 50.0,
                explanation: "1 of 2 tests passed".into(),
                tests: vec![crate::session::TestOutcome {
                    passed: false,
                    error: Some("expected 3, got 2".into()),
                    millis: 3,
                }],
                overridden: Some(crate::session::ScoreOverride {
                    score: 80.0,
                    note: "Right idea, typo in the loop bound".into(),
                    by: "boss@example.com".into(),
                    at: "2026-11-26T10:00:00Z".into(),
                }),
            }],
        });
        assert_eq!(
            session_from_doc(&session_doc(&session).unwrap()).unwrap(),
            session
        );
        let event = IntegrityRecord {
            id: new_id(),
            session_id: session.id.clone(),
            timestamp: now(),
            kind: IntegrityKind::Paste,
            detail: "42 characters".into(),
        };
        assert_eq!(event_from_doc(&event_doc(&event)).unwrap(), event);

        let message = ChatMessage {
            id: new_id(),
            session_id: session.id.clone(),
            timestamp: now(),
            speaker: Speaker::Interviewer,
            message: "You have 20 minutes left.".into(),
        };
        assert_eq!(chat_from_doc(&chat_doc(&message)).unwrap(), message);
        assert_eq!(chat_history_sort(), doc! { "ts": -1, "_id": -1 });
    }

    /// What the server returns for `projection` (dotted inclusion paths, and `$elemMatch` on one
    /// field's equality), as far as these tests use it.
    fn project(d: &Document, projection: &Document) -> Document {
        fn copy(from: &Document, to: &mut Document, path: &[&str], spec: &Bson) {
            let Some(value) = from.get(path[0]) else {
                return;
            };
            match (path, value, spec) {
                ([field], Bson::Array(items), Bson::Document(op)) => {
                    let wanted = op.get_document("$elemMatch").expect("only $elemMatch");
                    let (key, target) = wanted.iter().next().expect("one condition");
                    let first = items.iter().find(
                        |item| matches!(item, Bson::Document(i) if i.get(key) == Some(target)),
                    );
                    if let Some(first) = first {
                        to.insert(*field, vec![first.clone()]);
                    }
                }
                ([field], value, _) => {
                    to.insert(*field, value.clone());
                }
                ([field, rest @ ..], Bson::Document(inner), _) => {
                    let mut nested = match to.get(*field) {
                        Some(Bson::Document(done)) => done.clone(),
                        _ => Document::new(),
                    };
                    copy(inner, &mut nested, rest, spec);
                    to.insert(*field, nested);
                }
                // A path through a value that is not a document selects nothing.
                _ => {}
            }
        }
        let mut out = doc! { "_id": d.get("_id").cloned().unwrap_or(Bson::Null) };
        for (path, spec) in projection {
            let path: Vec<&str> = path.split('.').collect();
            copy(d, &mut out, &path, spec);
        }
        out
    }

    fn graded(mut session: SessionRecord) -> SessionRecord {
        session.status = SessionStatus::Completed;
        session.ended_at = Some(now());
        session.grading = Some(Grading {
            scores: crate::session::Scores {
                accuracy: 50.0,
                speed_efficiency: 75.5,
                prompt_wellness: 100.0,
                total_score: 65.1,
            },
            questions: Vec::new(),
        });
        session
    }

    #[test]
    fn listings_read_overviews_from_the_projected_fields_only() {
        for session in [sample_session(), graded(sample_session())] {
            let full = session_doc(&session).unwrap();
            let projected = project(&full, &overview_projection());
            assert!(!projected.contains_key("answers"));
            assert_eq!(
                projected
                    .get_document("content")
                    .unwrap()
                    .keys()
                    .collect::<Vec<_>>(),
                ["title"]
            );
            assert_eq!(overview_from_doc(&projected).unwrap(), session.overview());
        }
    }

    #[test]
    fn a_resumed_start_reads_the_progress_from_the_projected_fields_only() {
        let mut session = sample_session();
        session.used_prompts = 2;
        session.answers.push(AnswerRecord {
            question_id: "q1".into(),
            answer: serde_json::json!("Because."),
            submitted_at: now(),
        });
        let projected = project(&session_doc(&session).unwrap(), &progress_projection());
        assert!(!projected.contains_key("content"), "the test is not read");
        assert!(!projected.contains_key("candidate_email"));
        assert_eq!(
            progress_from_doc(&projected).unwrap(),
            session.into_parts().1
        );
    }

    #[test]
    fn a_question_is_read_alone_from_its_projected_session() {
        let session = sample_session();
        let full = session_doc(&session).unwrap();
        let found =
            session_question_from_doc(&project(&full, &question_projection(Some("q1")))).unwrap();
        assert_eq!(
            found,
            SessionQuestion {
                id: session.id.clone(),
                candidate_id: session.candidate_id.clone(),
                status: SessionStatus::InProgress,
                deadline: session.deadline,
                graded: false,
                question: session.question("q1").cloned(),
            }
        );
        let missing = project(&full, &question_projection(Some("q9")));
        assert_eq!(session_question_from_doc(&missing).unwrap().question, None);
        let none = project(&full, &question_projection(None));
        assert!(!none.contains_key("content"));
        assert_eq!(session_question_from_doc(&none).unwrap().question, None);

        let ended = session_doc(&graded(sample_session())).unwrap();
        let found =
            session_question_from_doc(&project(&ended, &question_projection(None))).unwrap();
        assert_eq!(
            (found.status, found.graded),
            (SessionStatus::Completed, true)
        );
    }

    #[test]
    fn corrupt_documents_are_reported_not_panicked() {
        let mut d = user_doc(&UserRecord {
            id: new_id(),
            email: "ada@example.com".into(),
            role: Role::Candidate,
            password_hash: "hash".into(),
            created_at: now(),
        });
        d.insert("email", 3_i32);
        let err = user_from_doc(&d).unwrap_err();
        assert!(
            matches!(err, StoreError::Corrupt(ref m) if m.contains("email")),
            "{err}"
        );
        let mut d = session_doc(&sample_session()).unwrap();
        d.insert("used_prompts", -1_i64);
        assert!(matches!(session_from_doc(&d), Err(StoreError::Corrupt(_))));
    }
}
