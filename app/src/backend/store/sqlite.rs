//! Bundled SQLite adapter: the zero-setup default. One file (`assess.db`) under `DATA_DIR`, WAL
//! mode, migrations applied at start-up. rusqlite is blocking, so every call runs on a pooled
//! connection in tokio's blocking pool (deadpool-sqlite).

use super::{
    ChatMessage, ChatRepo, Health, NewSession, NewTemplate, NewUser, SessionRecord, SessionRepo,
    SessionStatus, SpendOutcome, StoreError, StoreResult, TemplateRecord, TemplateRepo, UserRecord,
    UserRepo, new_id, now,
};
use crate::model::{Id, Role, Speaker};
use crate::template::{TemplateContent, TemplateStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::{
    self, Connection, ErrorCode, OptionalExtension, Row, ToSql, params,
    types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef},
};
use deadpool_sqlite::{Config, Hook, HookError, Pool, Runtime, Timeouts};
use std::path::Path;
use std::time::Duration;

/// Database file name inside `DATA_DIR`.
pub const DB_FILE: &str = "assess.db";

/// Schema versions, applied in order; `PRAGMA user_version` records how many have run.
/// Never edit a released entry: add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        email         TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        id            TEXT PRIMARY KEY,
        candidate_id  TEXT NOT NULL,
        template_id   TEXT NOT NULL,
        status        TEXT NOT NULL,
        prompt_budget INTEGER NOT NULL CHECK (prompt_budget >= 0),
        used_prompts  INTEGER NOT NULL DEFAULT 0 CHECK (used_prompts >= 0),
        started_at    INTEGER NOT NULL,
        deadline      INTEGER,
        ended_at      INTEGER
    );
    CREATE INDEX sessions_by_candidate ON sessions (candidate_id, started_at);
    CREATE INDEX sessions_by_template ON sessions (template_id, started_at);
    CREATE TABLE chat_messages (
        id         TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        ts         INTEGER NOT NULL,
        speaker    TEXT NOT NULL,
        message    TEXT NOT NULL
    );
    CREATE INDEX chat_by_session ON chat_messages (session_id, ts, id);
"#,
    r#"
    CREATE TABLE templates (
        id         TEXT PRIMARY KEY,
        owner_id   TEXT NOT NULL,
        status     TEXT NOT NULL,
        version    INTEGER NOT NULL CHECK (version >= 1),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        content    TEXT NOT NULL
    );
    CREATE INDEX templates_by_owner ON templates (owner_id, created_at);
    CREATE INDEX templates_by_status ON templates (status, created_at);
"#,
];

/// Per-connection settings. WAL lets readers proceed beside the single writer; `synchronous =
/// NORMAL` in WAL mode keeps every committed transaction across a process crash.
const CONNECTION_PRAGMAS: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
";

const POOL_SIZE: usize = 8;
const POOL_WAIT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    pub async fn open(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let mut config = Config::new(data_dir.join(DB_FILE));
        let mut pool_config = config.get_pool_config();
        pool_config.max_size = POOL_SIZE;
        pool_config.timeouts = Timeouts {
            wait: Some(POOL_WAIT),
            create: Some(POOL_WAIT),
            recycle: Some(POOL_WAIT),
        };
        config.pool = Some(pool_config);
        let pool = config
            .builder(Runtime::Tokio1)
            .map_err(|e| StoreError::Internal(e.to_string()))?
            .post_create(Hook::async_fn(|conn, _| {
                Box::pin(async move {
                    conn.interact(|c| c.execute_batch(CONNECTION_PRAGMAS))
                        .await
                        .map_err(|e| HookError::Message(e.to_string().into()))?
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let store = SqliteStore { pool };
        store.run(migrate).await?;
        Ok(store)
    }

    /// Runs `f` on a pooled connection in the blocking pool.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.interact(f)
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction()?;
    let applied: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, sql) in (1_i64..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(applied).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
    }
    tx.commit()?;
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match &err {
            rusqlite::Error::SqliteFailure(e, _)
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                StoreError::Unavailable(err.to_string())
            }
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(err.to_string()),
            _ => StoreError::Internal(err.to_string()),
        }
    }
}

/// Maps a UNIQUE violation to `Duplicate(field)`; anything else as usual.
fn unique_as(field: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |err| match &err {
        rusqlite::Error::SqliteFailure(e, _)
            if e.code == ErrorCode::ConstraintViolation
                && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Duplicate(field)
        }
        _ => err.into(),
    }
}

// Column codecs: domain types are stored as their wire names, times as epoch milliseconds.

fn text_column<T>(value: ValueRef<'_>, parse: impl FnOnce(&str) -> Option<T>) -> FromSqlResult<T> {
    let raw = value.as_str()?;
    parse(raw).ok_or_else(|| FromSqlError::Other(format!("unexpected value `{raw}`").into()))
}

impl FromSql for Id {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, |s| Id::parse(s).ok())
    }
}

impl ToSql for Id {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for Role {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, Role::parse)
    }
}

impl FromSql for Speaker {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, Speaker::parse)
    }
}

impl FromSql for SessionStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, |s| SessionStatus::parse(s).ok())
    }
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = row.get(index)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Integer,
            format!("timestamp {ms} out of range").into(),
        )
    })
}

fn optional_time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<i64>>(index)? {
        None => Ok(None),
        Some(_) => time_at(row, index).map(Some),
    }
}

const USER_COLUMNS: &str = "id, email, role, password_hash, created_at";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(0)?,
        email: row.get(1)?,
        role: row.get(2)?,
        password_hash: row.get(3)?,
        created_at: time_at(row, 4)?,
    })
}

const SESSION_COLUMNS: &str = "id, candidate_id, template_id, status, prompt_budget, used_prompts, started_at, deadline, ended_at";

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.get(0)?,
        candidate_id: row.get(1)?,
        template_id: row.get(2)?,
        status: row.get(3)?,
        prompt_budget: row.get(4)?,
        used_prompts: row.get(5)?,
        started_at: time_at(row, 6)?,
        deadline: optional_time_at(row, 7)?,
        ended_at: optional_time_at(row, 8)?,
    })
}

fn find_session(conn: &Connection, id: &Id) -> StoreResult<Option<SessionRecord>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], session_from_row).optional()?)
}

#[async_trait]
impl UserRepo for SqliteStore {
    async fn insert(&self, user: NewUser) -> StoreResult<UserRecord> {
        let record = UserRecord {
            id: new_id(),
            email: user.email,
            role: user.role,
            password_hash: user.password_hash,
            created_at: now(),
        };
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO users (id, email, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.id,
                    record.email,
                    record.role.as_str(),
                    record.password_hash,
                    millis(record.created_at)
                ],
            )
            .map_err(unique_as("email"))?;
            Ok(record)
        })
        .await
    }

    async fn find_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let email = email.to_owned();
        self.run(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1");
            Ok(conn.query_row(&sql, [email], user_from_row).optional()?)
        })
        .await
    }

    async fn find_by_id(&self, id: &Id) -> StoreResult<Option<UserRecord>> {
        let id = id.clone();
        self.run(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            Ok(conn.query_row(&sql, [id], user_from_row).optional()?)
        })
        .await
    }

    async fn delete(&self, id: &Id) -> StoreResult<bool> {
        let id = id.clone();
        self.run(move |conn| Ok(conn.execute("DELETE FROM users WHERE id = ?1", [id])? > 0))
            .await
    }

    async fn count(&self) -> StoreResult<u64> {
        self.run(|conn| {
            let count: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
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
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO sessions (id, candidate_id, template_id, status, prompt_budget, used_prompts, started_at, deadline, ended_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, NULL)",
                params![
                    record.id,
                    record.candidate_id,
                    record.template_id,
                    record.status.as_str(),
                    record.prompt_budget,
                    millis(record.started_at),
                    record.deadline.map(millis),
                ],
            )?;
            Ok(record)
        })
        .await
    }

    async fn find(&self, id: &Id) -> StoreResult<Option<SessionRecord>> {
        let id = id.clone();
        self.run(move |conn| find_session(conn, &id)).await
    }

    async fn spend_prompt(&self, id: &Id) -> StoreResult<SpendOutcome> {
        let id = id.clone();
        self.run(move |conn| {
            // The guard and the increment are one statement: SQLite serialises writers, so the
            // budget can never be overspent whatever the concurrency.
            let sql = format!(
                "UPDATE sessions SET used_prompts = used_prompts + 1
                 WHERE id = ?1 AND status = 'in_progress' AND used_prompts < prompt_budget
                 RETURNING {SESSION_COLUMNS}"
            );
            if let Some(updated) = conn.query_row(&sql, [&id], session_from_row).optional()? {
                return Ok(SpendOutcome::Spent(updated));
            }
            Ok(match find_session(conn, &id)? {
                None => SpendOutcome::NotFound,
                Some(s) if s.status != SessionStatus::InProgress => SpendOutcome::NotActive,
                Some(_) => SpendOutcome::BudgetExhausted,
            })
        })
        .await
    }

    async fn count_for_template(&self, template_id: &Id) -> StoreResult<u64> {
        let template_id = template_id.clone();
        self.run(move |conn| {
            let count: i64 = conn.query_row(
                "SELECT COUNT(*) FROM sessions WHERE template_id = ?1",
                [template_id],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn complete(
        &self,
        id: &Id,
        ended_at: DateTime<Utc>,
    ) -> StoreResult<Option<SessionRecord>> {
        let id = id.clone();
        self.run(move |conn| {
            let sql = format!(
                "UPDATE sessions SET status = 'completed', ended_at = ?2
                 WHERE id = ?1 AND status = 'in_progress'
                 RETURNING {SESSION_COLUMNS}"
            );
            Ok(conn
                .query_row(&sql, params![id, millis(ended_at)], session_from_row)
                .optional()?)
        })
        .await
    }
}

impl FromSql for TemplateStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, TemplateStatus::parse)
    }
}

const TEMPLATE_COLUMNS: &str = "id, owner_id, status, version, created_at, updated_at, content";

fn template_from_row(row: &Row<'_>) -> rusqlite::Result<TemplateRecord> {
    let content: String = row.get(6)?;
    let content: TemplateContent = serde_json::from_str(&content).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(TemplateRecord {
        id: row.get(0)?,
        owner_id: row.get(1)?,
        status: row.get(2)?,
        version: row.get(3)?,
        created_at: time_at(row, 4)?,
        updated_at: time_at(row, 5)?,
        content,
    })
}

fn content_json(content: &TemplateContent) -> StoreResult<String> {
    serde_json::to_string(content).map_err(|e| StoreError::Internal(e.to_string()))
}

fn find_template(conn: &Connection, id: &Id) -> StoreResult<Option<TemplateRecord>> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], template_from_row).optional()?)
}

fn list_templates(
    conn: &Connection,
    filter: &str,
    value: &str,
) -> StoreResult<Vec<TemplateRecord>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE {filter} = ?1 ORDER BY created_at DESC, id DESC"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([value], template_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl TemplateRepo for SqliteStore {
    async fn insert(&self, template: NewTemplate) -> StoreResult<TemplateRecord> {
        let record = template.into_record();
        let content = content_json(&record.content)?;
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO templates (id, owner_id, status, version, created_at, updated_at, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    record.id,
                    record.owner_id,
                    record.status.as_str(),
                    record.version,
                    millis(record.created_at),
                    millis(record.updated_at),
                    content
                ],
            )?;
            Ok(record)
        })
        .await
    }

    async fn find(&self, id: &Id) -> StoreResult<Option<TemplateRecord>> {
        let id = id.clone();
        self.run(move |conn| find_template(conn, &id)).await
    }

    async fn list_by_owner(&self, owner_id: &Id) -> StoreResult<Vec<TemplateRecord>> {
        let owner_id = owner_id.clone();
        self.run(move |conn| list_templates(conn, "owner_id", owner_id.as_str()))
            .await
    }

    async fn list_published(&self) -> StoreResult<Vec<TemplateRecord>> {
        self.run(move |conn| list_templates(conn, "status", TemplateStatus::Published.as_str()))
            .await
    }

    async fn replace_content(
        &self,
        id: &Id,
        expected_version: u32,
        new_version: bool,
        content: TemplateContent,
    ) -> StoreResult<Option<TemplateRecord>> {
        let id = id.clone();
        let content = content_json(&content)?;
        let next_version = expected_version + u32::from(new_version);
        self.run(move |conn| {
            let sql = format!(
                "UPDATE templates SET content = ?3, version = ?4, updated_at = ?5
                 WHERE id = ?1 AND version = ?2
                 RETURNING {TEMPLATE_COLUMNS}"
            );
            Ok(conn
                .query_row(
                    &sql,
                    params![id, expected_version, content, next_version, millis(now())],
                    template_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn set_status(
        &self,
        id: &Id,
        status: TemplateStatus,
    ) -> StoreResult<Option<TemplateRecord>> {
        let id = id.clone();
        self.run(move |conn| {
            let sql = format!(
                "UPDATE templates SET status = ?2, updated_at = ?3 WHERE id = ?1
                 RETURNING {TEMPLATE_COLUMNS}"
            );
            Ok(conn
                .query_row(
                    &sql,
                    params![id, status.as_str(), millis(now())],
                    template_from_row,
                )
                .optional()?)
        })
        .await
    }
}

#[async_trait]
impl ChatRepo for SqliteStore {
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
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO chat_messages (id, session_id, ts, speaker, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.id,
                    record.session_id,
                    millis(record.timestamp),
                    record.speaker.as_str(),
                    record.message
                ],
            )?;
            Ok(record)
        })
        .await
    }

    async fn history(&self, session_id: &Id, limit: u32) -> StoreResult<Vec<ChatMessage>> {
        let session_id = session_id.clone();
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, session_id, ts, speaker, message FROM (
                     SELECT * FROM chat_messages WHERE session_id = ?1 ORDER BY ts DESC, id DESC LIMIT ?2
                 ) ORDER BY ts ASC, id ASC",
            )?;
            let rows = stmt.query_map(params![session_id, limit], |row| {
                Ok(ChatMessage {
                    id: row.get(0)?,
                    session_id: row.get(1)?,
                    timestamp: time_at(row, 2)?,
                    speaker: row.get(3)?,
                    message: row.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}

#[async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.run(|conn| {
            Ok(conn
                .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
        .await
    }
}
