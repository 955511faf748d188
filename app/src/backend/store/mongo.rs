//! MongoDB adapter (official driver): production, chosen when `MONGO_URI` is set.
//!
//! Kept deliberately thin: every filter and update it sends is built by a pure function below and
//! unit-tested as a document, because no MongoDB server can run in this project's CI. Every write
//! that must be atomic is a single-document update with its guard in the filter.

use super::{
    ChatMessage, ChatRepo, Health, NewSession, NewTemplate, NewUser, SessionRecord, SessionRepo,
    SessionStatus, SpendOutcome, StoreError, StoreResult, TemplateRecord, TemplateRepo, UserRecord,
    UserRepo, new_id, now,
};
use crate::model::{Id, Role, Speaker};
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
            CHAT,
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
    let role = get_str(d, "role")?;
    Ok(UserRecord {
        id: get_id(d, "_id")?,
        email: get_str(d, "email")?.to_owned(),
        role: Role::parse(role).ok_or_else(|| corrupt("role", role))?,
        password_hash: get_str(d, "password_hash")?.to_owned(),
        created_at: get_time(d, "created_at")?,
    })
}

fn session_doc(s: &SessionRecord) -> Document {
    doc! {
        "_id": oid(&s.id),
        "candidate_id": oid(&s.candidate_id),
        "template_id": oid(&s.template_id),
        "status": s.status.as_str(),
        "prompt_budget": i64::from(s.prompt_budget),
        "used_prompts": i64::from(s.used_prompts),
        "started_at": date(s.started_at),
        "deadline": s.deadline.map(date),
        "ended_at": s.ended_at.map(date),
    }
}

fn session_from_doc(d: &Document) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id: get_id(d, "_id")?,
        candidate_id: get_id(d, "candidate_id")?,
        template_id: get_id(d, "template_id")?,
        status: SessionStatus::parse(get_str(d, "status")?)?,
        prompt_budget: get_count(d, "prompt_budget")?,
        used_prompts: get_count(d, "used_prompts")?,
        started_at: get_time(d, "started_at")?,
        deadline: get_optional_time(d, "deadline")?,
        ended_at: get_optional_time(d, "ended_at")?,
    })
}

/// Matches the session only while it is in progress and has a prompt left.
fn spend_filter(id: &Id) -> Document {
    doc! {
        "_id": oid(id),
        "status": SessionStatus::InProgress.as_str(),
        "$expr": { "$lt": ["$used_prompts", "$prompt_budget"] },
    }
}

fn spend_update() -> Document {
    doc! { "$inc": { "used_prompts": 1_i64 } }
}

fn complete_filter(id: &Id) -> Document {
    doc! { "_id": oid(id), "status": SessionStatus::InProgress.as_str() }
}

fn complete_update(ended_at: DateTime<Utc>) -> Document {
    doc! { "$set": { "status": SessionStatus::Completed.as_str(), "ended_at": date(ended_at) } }
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
    bson::to_document(content).map_err(|e| StoreError::Internal(format!("template content: {e}")))
}

fn template_from_doc(d: &Document) -> StoreResult<TemplateRecord> {
    let status = get_str(d, "status")?;
    let content = d
        .get_document("content")
        .map_err(|e| corrupt("content", e))?
        .clone();
    Ok(TemplateRecord {
        id: get_id(d, "_id")?,
        owner_id: get_id(d, "owner_id")?,
        status: TemplateStatus::parse(status).ok_or_else(|| corrupt("status", status))?,
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

#[async_trait]
impl SessionRepo for MongoStore {
    async fn insert(&self, session: NewSession) -> StoreResult<SessionRecord> {
        let record = SessionRecord {
            id: new_id(),
            candidate_id: session.candidate_id,
            template_id: session.template_id,
            status: SessionStatus::InProgress,
            prompt_budget: session.prompt_budget,
            used_prompts: 0,
            started_at: now(),
            deadline: session.deadline,
            ended_at: None,
        };
        self.collection(SESSIONS)
            .insert_one(session_doc(&record))
            .await
            .map_err(map_err)?;
        Ok(record)
    }

    async fn find(&self, id: &Id) -> StoreResult<Option<SessionRecord>> {
        let found = self
            .collection(SESSIONS)
            .find_one(doc! { "_id": oid(id) })
            .await
            .map_err(map_err)?;
        found.as_ref().map(session_from_doc).transpose()
    }

    async fn spend_prompt(&self, id: &Id) -> StoreResult<SpendOutcome> {
        let updated = self
            .collection(SESSIONS)
            .find_one_and_update(spend_filter(id), spend_update())
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        if let Some(d) = updated {
            return Ok(SpendOutcome::Spent(session_from_doc(&d)?));
        }
        Ok(match SessionRepo::find(self, id).await? {
            None => SpendOutcome::NotFound,
            Some(s) if s.status != SessionStatus::InProgress => SpendOutcome::NotActive,
            Some(_) => SpendOutcome::BudgetExhausted,
        })
    }

    async fn count_for_template(&self, template_id: &Id) -> StoreResult<u64> {
        self.collection(SESSIONS)
            .count_documents(doc! { "template_id": oid(template_id) })
            .await
            .map_err(map_err)
    }

    async fn complete(
        &self,
        id: &Id,
        ended_at: DateTime<Utc>,
    ) -> StoreResult<Option<SessionRecord>> {
        let updated = self
            .collection(SESSIONS)
            .find_one_and_update(complete_filter(id), complete_update(ended_at))
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        updated.as_ref().map(session_from_doc).transpose()
    }
}

impl MongoStore {
    async fn templates_matching(&self, filter: Document) -> StoreResult<Vec<TemplateRecord>> {
        let mut cursor = self
            .collection(TEMPLATES)
            .find(filter)
            .sort(newest_first())
            .await
            .map_err(map_err)?;
        let mut templates = Vec::new();
        while cursor.advance().await.map_err(map_err)? {
            let d = cursor.deserialize_current().map_err(map_err)?;
            templates.push(template_from_doc(&d)?);
        }
        Ok(templates)
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
        let mut cursor = self
            .collection(CHAT)
            .find(doc! { "session_id": oid(session_id) })
            .sort(chat_history_sort())
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?;
        let mut messages = Vec::new();
        while cursor.advance().await.map_err(map_err)? {
            let d = cursor.deserialize_current().map_err(map_err)?;
            messages.push(chat_from_doc(&d)?);
        }
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

    #[test]
    fn spend_guard_is_in_the_filter_and_the_update_is_a_single_increment() {
        let filter = spend_filter(&id(SESSION));
        assert_eq!(
            filter,
            doc! {
                "_id": ObjectId::parse_str(SESSION).unwrap(),
                "status": "in_progress",
                "$expr": { "$lt": ["$used_prompts", "$prompt_budget"] },
            }
        );
        assert_eq!(spend_update(), doc! { "$inc": { "used_prompts": 1_i64 } });
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
    fn completing_only_matches_an_in_progress_session() {
        let ended = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(
            complete_filter(&id(SESSION)),
            doc! { "_id": ObjectId::parse_str(SESSION).unwrap(), "status": "in_progress" }
        );
        assert_eq!(
            complete_update(ended),
            doc! { "$set": { "status": "completed", "ended_at": bson::DateTime::from_millis(1_700_000_000_123) } }
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

        let session = SessionRecord {
            id: new_id(),
            candidate_id: new_id(),
            template_id: new_id(),
            status: SessionStatus::InProgress,
            prompt_budget: 5,
            used_prompts: 2,
            started_at: now(),
            deadline: Some(now()),
            ended_at: None,
        };
        let d = session_doc(&session);
        assert_eq!(d.get("ended_at"), Some(&Bson::Null));
        assert_eq!(session_from_doc(&d).unwrap(), session);

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
        let mut d = session_doc(&SessionRecord {
            id: new_id(),
            candidate_id: new_id(),
            template_id: new_id(),
            status: SessionStatus::Completed,
            prompt_budget: 1,
            used_prompts: 0,
            started_at: now(),
            deadline: None,
            ended_at: None,
        });
        d.insert("used_prompts", -1_i64);
        assert!(matches!(session_from_doc(&d), Err(StoreError::Corrupt(_))));
    }
}
