//! Bundled SQLite adapter: the zero-setup default. One file (`assess.db`) under `DATA_DIR`, WAL
//! mode, migrations applied at start-up. rusqlite is blocking, so every call runs on a pooled
//! connection in tokio's blocking pool (deadpool), and every write on the writer's thread.

use super::{
    AnswerRecord, ChatMessage, ChatRepo, Health, IntegrityRecord, NewSession, NewTemplate, NewUser,
    Page, PromptBudget, PromptRecord, ResultsFilter, SaveOutcome, SessionOverview, SessionProgress,
    SessionQuestion, SessionRecord, SessionRepo, SessionStatus, SpendOutcome, StartOutcome,
    StoreError, StoreResult, TemplateRecord, TemplateRepo, UserRecord, UserRepo, new_id, now,
};
use crate::model::{Id, Role, Speaker};
use crate::session::{Grading, IntegrityKind, ResultsSort, Scores};
use crate::template::{TemplateContent, TemplateStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool::Runtime;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_sync::SyncWrapper;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Row, ToSql,
    config::DbConfig,
    params,
    types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef},
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::oneshot;

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
    // Sessions snapshot their template and keep answers per question; no release ever wrote the
    // first sessions table, so it is replaced rather than altered.
    r#"
    DROP TABLE sessions;
    CREATE TABLE sessions (
        id               TEXT PRIMARY KEY,
        candidate_id     TEXT NOT NULL,
        candidate_email  TEXT NOT NULL,
        template_id      TEXT NOT NULL,
        template_version INTEGER NOT NULL,
        recruiter_id     TEXT NOT NULL,
        status           TEXT NOT NULL,
        prompt_budget    INTEGER NOT NULL CHECK (prompt_budget >= 0),
        used_prompts     INTEGER NOT NULL DEFAULT 0 CHECK (used_prompts >= 0),
        blocked_prompts  INTEGER NOT NULL DEFAULT 0 CHECK (blocked_prompts >= 0),
        started_at       INTEGER NOT NULL,
        deadline         INTEGER NOT NULL,
        ended_at         INTEGER,
        content          TEXT NOT NULL,
        grading          TEXT
    );
    CREATE INDEX sessions_by_candidate ON sessions (candidate_id, started_at);
    CREATE INDEX sessions_by_template ON sessions (template_id, started_at);
    CREATE INDEX sessions_by_recruiter ON sessions (recruiter_id, status, ended_at);
    CREATE INDEX sessions_by_deadline ON sessions (status, deadline);
    CREATE UNIQUE INDEX sessions_one_in_progress ON sessions (candidate_id, template_id)
        WHERE status = 'in_progress';
    CREATE TABLE answers (
        session_id   TEXT NOT NULL,
        question_id  TEXT NOT NULL,
        answer       TEXT NOT NULL,
        submitted_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, question_id)
    );
    CREATE TABLE integrity_events (
        id         TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        ts         INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        detail     TEXT NOT NULL
    );
    CREATE INDEX integrity_by_session ON integrity_events (session_id, ts, id);
"#,
    r#"
    CREATE TABLE prompts (
        id          TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL,
        question_id TEXT,
        ts          INTEGER NOT NULL,
        prompt      TEXT NOT NULL,
        response    TEXT NOT NULL,
        was_blocked INTEGER NOT NULL,
        rule        TEXT,
        reason      TEXT,
        provider    TEXT NOT NULL
    );
    CREATE INDEX prompts_by_session ON prompts (session_id, ts, id);
"#,
    // What listings show, kept beside the documents it comes from, so that listings read neither
    // the test content nor the grading details.
    r#"
    ALTER TABLE sessions ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN scores TEXT;
    UPDATE sessions SET title = json_extract(content, '$.title'),
                        scores = json_extract(grading, '$.scores');
"#,
    // The short columns first and the two documents (the test's content, the grading) last: a
    // row's columns are read in order, and reading one after a long document walked its overflow
    // pages. The scores are columns of their own, read and sorted on without parsing JSON. The
    // recruiter's index holds the id, the listings' tie-break, so a page comes off it in order.
    r#"
    CREATE TABLE sessions_new (
        id               TEXT PRIMARY KEY,
        candidate_id     TEXT NOT NULL,
        candidate_email  TEXT NOT NULL,
        template_id      TEXT NOT NULL,
        template_version INTEGER NOT NULL,
        recruiter_id     TEXT NOT NULL,
        title            TEXT NOT NULL,
        status           TEXT NOT NULL,
        prompt_budget    INTEGER NOT NULL CHECK (prompt_budget >= 0),
        used_prompts     INTEGER NOT NULL DEFAULT 0 CHECK (used_prompts >= 0),
        blocked_prompts  INTEGER NOT NULL DEFAULT 0 CHECK (blocked_prompts >= 0),
        started_at       INTEGER NOT NULL,
        deadline         INTEGER NOT NULL,
        ended_at         INTEGER,
        accuracy         REAL,
        speed_efficiency REAL,
        prompt_wellness  REAL,
        total_score      REAL,
        content          TEXT NOT NULL,
        grading          TEXT,
        CHECK ((accuracy IS NULL) = (total_score IS NULL)
           AND (speed_efficiency IS NULL) = (total_score IS NULL)
           AND (prompt_wellness IS NULL) = (total_score IS NULL))
    );
    INSERT INTO sessions_new
        SELECT id, candidate_id, candidate_email, template_id, template_version, recruiter_id,
               title, status, prompt_budget, used_prompts, blocked_prompts, started_at, deadline,
               ended_at, json_extract(scores, '$.accuracy'),
               json_extract(scores, '$.speed_efficiency'), json_extract(scores, '$.prompt_wellness'),
               json_extract(scores, '$.total_score'), content, grading
        FROM sessions;
    DROP TABLE sessions;
    ALTER TABLE sessions_new RENAME TO sessions;
    CREATE INDEX sessions_by_candidate ON sessions (candidate_id, started_at);
    CREATE INDEX sessions_by_template ON sessions (template_id, started_at);
    CREATE INDEX sessions_by_recruiter ON sessions (recruiter_id, status, ended_at, id);
    CREATE INDEX sessions_by_deadline ON sessions (status, deadline);
    CREATE UNIQUE INDEX sessions_one_in_progress ON sessions (candidate_id, template_id)
        WHERE status = 'in_progress';
"#,
    // How many ended sessions each of a recruiter's templates has, for the results listing's
    // total: counting them walked every one of the recruiter's results on every page. Kept by
    // triggers, in the same statement as the change to a session, so it cannot drift.
    r#"
    CREATE TABLE completed_counts (
        recruiter_id TEXT NOT NULL,
        template_id  TEXT NOT NULL,
        n            INTEGER NOT NULL CHECK (n >= 0),
        PRIMARY KEY (recruiter_id, template_id)
    ) WITHOUT ROWID;
    INSERT INTO completed_counts (recruiter_id, template_id, n)
        SELECT recruiter_id, template_id, COUNT(*) FROM sessions WHERE status = 'completed'
        GROUP BY recruiter_id, template_id;
    CREATE TRIGGER completed_counts_insert AFTER INSERT ON sessions
    WHEN NEW.status = 'completed' BEGIN
        INSERT INTO completed_counts (recruiter_id, template_id, n)
            VALUES (NEW.recruiter_id, NEW.template_id, 1)
            ON CONFLICT (recruiter_id, template_id) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER completed_counts_update
    AFTER UPDATE OF status, recruiter_id, template_id ON sessions
    WHEN OLD.status = 'completed' OR NEW.status = 'completed' BEGIN
        UPDATE completed_counts SET n = n - 1
            WHERE OLD.status = 'completed'
              AND recruiter_id = OLD.recruiter_id AND template_id = OLD.template_id;
        INSERT INTO completed_counts (recruiter_id, template_id, n)
            SELECT NEW.recruiter_id, NEW.template_id, 1 WHERE NEW.status = 'completed'
            ON CONFLICT (recruiter_id, template_id) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER completed_counts_delete AFTER DELETE ON sessions
    WHEN OLD.status = 'completed' BEGIN
        UPDATE completed_counts SET n = n - 1
            WHERE recruiter_id = OLD.recruiter_id AND template_id = OLD.template_id;
    END;
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
/// Compiled statements kept per connection: more than the store has (the results listing alone
/// has one per filter and order), so none is compiled twice.
const STATEMENT_CACHE: usize = 128;
const POOL_WAIT: Duration = Duration::from_secs(5);

/// Writes waiting for the writer, and most applied in one transaction.
const WRITE_QUEUE: usize = 4096;
const WRITE_BATCH: usize = 256;

pub struct SqliteStore {
    /// Reads: any number at once beside the writer (WAL).
    pool: Pool,
    /// Writes go to one thread with a connection of its own, which applies all that are waiting
    /// in one transaction (group commit). SQLite allows one writer at a time anyway: queued in
    /// order, no write sleeps in SQLite's busy handler (which backs off in steps of
    /// milliseconds), a burst costs a few commits, and the writer's page cache stays valid.
    writes: std::sync::mpsc::SyncSender<Box<dyn WriteJob>>,
}

impl SqliteStore {
    pub async fn open(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let pool = Pool::builder(Connections {
            path: data_dir.join(DB_FILE),
        })
        .max_size(POOL_SIZE)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .recycle_timeout(Some(POOL_WAIT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
        run_on(&pool, migrate).await?;
        let writer = Connection::open(data_dir.join(DB_FILE))?;
        configure(&writer)?;
        let (writes, queue) = std::sync::mpsc::sync_channel(WRITE_QUEUE);
        // Ends when the store (the queue's only sender) is dropped.
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_batches(&writer, &queue))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer: {e}")))?;
        Ok(SqliteStore { pool, writes })
    }

    /// Runs `f` on the writer's connection, inside a transaction shared with the other writes
    /// waiting; answers once that transaction has committed. `f` is atomic: when it fails, what
    /// it changed is undone and the other writes go on.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, outcome) = oneshot::channel();
        let job = Box::new(Job {
            write: Some(f),
            outcome: None,
            reply,
        });
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        // The queue is full only while the writer is far behind: wait for room off the workers.
        match self.writes.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                let writes = self.writes.clone();
                tokio::task::spawn_blocking(move || writes.send(job))
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))?
                    .map_err(|_| stopped())?;
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        outcome.await.map_err(|_| stopped())?
    }

    /// Runs `f` on a pooled connection in the blocking pool.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        run_on(&self.pool, f).await
    }
}

/// The pool's connections. A connection to a local file does not go stale, so one is handed out
/// again as it is, unless a query panicked while holding it. (deadpool-sqlite's manager runs a
/// query on every checkout, on a blocking thread of its own: a second thread hop per read.)
struct Connections {
    path: PathBuf,
}

type Pool = managed::Pool<Connections>;

impl managed::Manager for Connections {
    type Type = SyncWrapper<Connection>;
    type Error = rusqlite::Error;

    async fn create(&self) -> Result<Self::Type, Self::Error> {
        let path = self.path.clone();
        SyncWrapper::new(Runtime::Tokio1, move || {
            let conn = Connection::open(path)?;
            configure(&conn)?;
            Ok(conn)
        })
        .await
    }

    async fn recycle(&self, conn: &mut Self::Type, _: &Metrics) -> RecycleResult<Self::Error> {
        if conn.is_mutex_poisoned() {
            Err(RecycleError::message(
                "a query panicked while holding this connection",
            ))
        } else {
            Ok(())
        }
    }
}

/// Settings of every connection, the pool's and the writer's.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans that do not depend on the values bound. Otherwise SQLite compiles a cached statement
    // again whenever a value its plan looked at is bound anew (a LIMIT, for one): the results
    // listing spent an eighth of its time doing that. The store's statements filter on indexed
    // columns, so the values have no better plan to offer.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch(CONNECTION_PRAGMAS)
}

async fn run_on<T, F>(pool: &Pool, f: F) -> StoreResult<T>
where
    F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    T: Send + 'static,
{
    let conn = pool
        .get()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.interact(f)
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
}

/// A write waiting for the writer.
trait WriteJob: Send {
    /// Applies the write; `false` when it failed, so that what it changed is undone.
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Tells the caller the write's outcome, or that its transaction did not commit.
    fn finish(self: Box<Self>, committed: &StoreResult<()>);
}

struct Job<T, F> {
    write: Option<F>,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for Job<T, F>
where
    F: FnOnce(&Connection) -> StoreResult<T> + Send,
    T: Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let outcome = match self.write.take() {
            // A panic fails this write alone, not the writer.
            Some(write) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(conn)))
                .unwrap_or_else(|_| Err(StoreError::Internal("a write panicked".into()))),
            None => Err(StoreError::Internal("a write was applied twice".into())),
        };
        let applied = outcome.is_ok();
        self.outcome = Some(outcome);
        applied
    }

    fn finish(self: Box<Self>, committed: &StoreResult<()>) {
        let outcome = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(StoreError::Internal("a write was never applied".into())),
            (Err(err), _) => Err(err.clone()),
        };
        // The caller may have gone (its request was cancelled): nothing to tell.
        let _ = self.reply.send(outcome);
    }
}

/// The writer: takes every write waiting (up to [`WRITE_BATCH`]), applies them in one
/// transaction, then answers them all.
fn write_batches(conn: &Connection, queue: &std::sync::mpsc::Receiver<Box<dyn WriteJob>>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        while batch.len() < WRITE_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = apply_batch(conn, &mut batch);
        if let Err(err) = &committed {
            tracing::warn!(writes = batch.len(), error = %err, "could not commit a batch of writes");
        }
        for job in batch.drain(..) {
            job.finish(&committed);
        }
    }
}

fn apply_batch(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> StoreResult<()> {
    let mut tx =
        rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    for job in batch.iter_mut() {
        let savepoint = tx.savepoint()?;
        if job.apply(&savepoint) {
            savepoint.commit()?;
        }
        // Dropped uncommitted: rolled back, so a failed write undoes only itself.
    }
    tx.commit()?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    migrate_through(conn, MIGRATIONS)
}

/// Applies the first `migrations` not yet applied.
fn migrate_through(conn: &mut Connection, migrations: &[&str]) -> StoreResult<()> {
    let tx = conn.transaction()?;
    let applied: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, sql) in (1_i64..)
        .zip(migrations)
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
    parse(raw).ok_or_else(|| unexpected_value(raw))
}

fn unexpected_value(raw: impl std::fmt::Display) -> FromSqlError {
    FromSqlError::Other(format!("unexpected value `{raw}`").into())
}

impl FromSql for Id {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let digits = value.as_bytes()?;
        Id::from_digits(digits).map_err(|_| unexpected_value(String::from_utf8_lossy(digits)))
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
        text_column(value, SessionStatus::parse)
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

/// A condition: the account parameter `?n` names still exists. Requests that do not read the
/// account first rely on it (see `auth::Claimant`).
macro_rules! account_exists {
    ($n:literal) => {
        concat!("EXISTS (SELECT 1 FROM users WHERE users.id = ?", $n, ")")
    };
}

/// A session condition: it is `?2`'s, and `?2`'s account still exists.
const OWNED_BY_LIVE_ACCOUNT: &str = concat!("candidate_id = ?2 AND ", account_exists!(2));
/// The account `?1` names still exists.
const ACCOUNT_1_EXISTS: &str = account_exists!(1);
const SESSION_COLUMNS: &str = "id, candidate_id, candidate_email, template_id, template_version, recruiter_id, status, prompt_budget, used_prompts, blocked_prompts, started_at, deadline, ended_at, content, grading";

fn json_column<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let raw: String = row.get(index)?;
    serde_json::from_str(&raw).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A JSON column that may be NULL.
fn optional_json_column<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>> {
    match row.get_ref(index)? {
        ValueRef::Null => Ok(None),
        _ => json_column(row, index).map(Some),
    }
}

/// The four score columns from `index` on: none before grading.
fn scores_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Scores>> {
    let Some(total_score) = row.get::<_, Option<f64>>(index + 3)? else {
        return Ok(None);
    };
    Ok(Some(Scores {
        accuracy: row.get(index)?,
        speed_efficiency: row.get(index + 1)?,
        prompt_wellness: row.get(index + 2)?,
        total_score,
    }))
}

fn to_json(value: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

/// A session row without its answers (see [`answers_of`]).
fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.get(0)?,
        candidate_id: row.get(1)?,
        candidate_email: row.get(2)?,
        template_id: row.get(3)?,
        template_version: row.get(4)?,
        recruiter_id: row.get(5)?,
        status: row.get(6)?,
        prompt_budget: row.get(7)?,
        used_prompts: row.get(8)?,
        blocked_prompts: row.get(9)?,
        started_at: time_at(row, 10)?,
        deadline: time_at(row, 11)?,
        ended_at: optional_time_at(row, 12)?,
        content: json_column(row, 13)?,
        answers: Vec::new(),
        grading: optional_json_column(row, 14)?,
    })
}

/// The session's answers, in the order they were saved.
fn answers_of(conn: &Connection, session_id: &Id) -> StoreResult<Vec<AnswerRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT question_id, answer, submitted_at FROM answers WHERE session_id = ?1 ORDER BY submitted_at, question_id",
    )?;
    let rows = statement.query_map([session_id], |row| {
        Ok(AnswerRecord {
            question_id: row.get(0)?,
            answer: json_column(row, 1)?,
            submitted_at: time_at(row, 2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sessions matching `filter` (a WHERE clause over `params`), answers included.
fn select_sessions(
    conn: &Connection,
    filter: &str,
    params: &[&dyn ToSql],
) -> StoreResult<Vec<SessionRecord>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE {filter}");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut sessions = statement
        .query_map(params, session_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for session in &mut sessions {
        session.answers = answers_of(conn, &session.id)?;
    }
    Ok(sessions)
}

const OVERVIEW_COLUMNS: &str = "id, candidate_id, candidate_email, template_id, title, status, prompt_budget, used_prompts, blocked_prompts, started_at, deadline, ended_at, accuracy, speed_efficiency, prompt_wellness, total_score";

/// Overviews of the sessions matching `filter` (a WHERE clause over `params`).
fn select_overviews(
    conn: &Connection,
    filter: &str,
    params: &[&dyn ToSql],
) -> StoreResult<Vec<SessionOverview>> {
    let sql = format!("SELECT {OVERVIEW_COLUMNS} FROM sessions WHERE {filter}");
    let overviews = conn
        .prepare_cached(&sql)?
        .query_map(params, |row| {
            Ok(SessionOverview {
                id: row.get(0)?,
                candidate_id: row.get(1)?,
                candidate_email: row.get(2)?,
                template_id: row.get(3)?,
                title: row.get(4)?,
                status: row.get(5)?,
                prompt_budget: row.get(6)?,
                used_prompts: row.get(7)?,
                blocked_prompts: row.get(8)?,
                started_at: time_at(row, 9)?,
                deadline: time_at(row, 10)?,
                ended_at: optional_time_at(row, 11)?,
                scores: scores_at(row, 12)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(overviews)
}

/// `execute` through the connection's statement cache: each statement is compiled once per
/// connection, not on every call.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `query_row` through the connection's statement cache.
fn query_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, map)
}

const PROMPT_COLUMNS: &str =
    "id, session_id, question_id, ts, prompt, response, was_blocked, rule, reason, provider";

/// The exchanges of `source` (what follows `FROM`: a table or subquery, its filter and order).
fn select_prompts(
    conn: &Connection,
    source: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<PromptRecord>> {
    let sql = format!("SELECT {PROMPT_COLUMNS} FROM {source}");
    let prompts = conn
        .prepare_cached(&sql)?
        .query_map(params, prompt_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(prompts)
}

fn prompt_from_row(row: &Row<'_>) -> rusqlite::Result<PromptRecord> {
    Ok(PromptRecord {
        id: row.get(0)?,
        session_id: row.get(1)?,
        question_id: row.get(2)?,
        timestamp: time_at(row, 3)?,
        prompt: row.get(4)?,
        response: row.get(5)?,
        was_blocked: row.get(6)?,
        rule: row.get(7)?,
        reason: row.get(8)?,
        provider: row.get(9)?,
    })
}

/// Spends one prompt of session `id` if it is `owner`'s, in progress and has one left.
fn spend(conn: &Connection, id: &Id, owner: &Id) -> StoreResult<SpendOutcome> {
    // The guard and the increment are one statement: SQLite serialises writers, so the
    // budget can never be overspent whatever the concurrency.
    let spent = query_row(
        conn,
        &format!(
            "UPDATE sessions SET used_prompts = used_prompts + 1
             WHERE id = ?1 AND {OWNED_BY_LIVE_ACCOUNT}
               AND status = 'in_progress' AND used_prompts < prompt_budget
             RETURNING used_prompts, prompt_budget"
        ),
        [id, owner],
        |row| {
            Ok(PromptBudget {
                used_prompts: row.get(0)?,
                prompt_budget: row.get(1)?,
            })
        },
    )
    .optional()?;
    if let Some(budget) = spent {
        return Ok(SpendOutcome::Spent(budget));
    }
    // Nothing was spent: say why.
    let status: Option<SessionStatus> = query_row(
        conn,
        &format!("SELECT status FROM sessions WHERE id = ?1 AND {OWNED_BY_LIVE_ACCOUNT}"),
        [id, owner],
        |row| row.get(0),
    )
    .optional()?;
    Ok(match status {
        None => SpendOutcome::NotFound,
        Some(SessionStatus::InProgress) => SpendOutcome::BudgetExhausted,
        Some(_) => SpendOutcome::NotActive,
    })
}

/// Stores one exchange; a blocked one also counts in its session's `blocked_prompts`.
fn insert_prompt(conn: &Connection, p: &PromptRecord) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO prompts (id, session_id, question_id, ts, prompt, response, was_blocked, rule, reason, provider)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            p.id,
            p.session_id,
            p.question_id,
            millis(p.timestamp),
            p.prompt,
            p.response,
            p.was_blocked,
            p.rule,
            p.reason,
            p.provider
        ],
    )?;
    if p.was_blocked {
        exec(
            conn,
            "UPDATE sessions SET blocked_prompts = blocked_prompts + 1 WHERE id = ?1",
            [&p.session_id],
        )?;
    }
    Ok(())
}

fn find_session(conn: &Connection, id: &Id) -> StoreResult<Option<SessionRecord>> {
    Ok(select_sessions(conn, "id = ?1", &[id])?.pop())
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
        self.write(move |conn| {
            exec(
                conn,
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
            Ok(query_row(conn, &sql, [email], user_from_row).optional()?)
        })
        .await
    }

    async fn find_by_id(&self, id: &Id) -> StoreResult<Option<UserRecord>> {
        let id = id.clone();
        self.run(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            Ok(query_row(conn, &sql, [id], user_from_row).optional()?)
        })
        .await
    }

    async fn delete(&self, id: &Id) -> StoreResult<bool> {
        let id = id.clone();
        self.write(move |conn| Ok(exec(conn, "DELETE FROM users WHERE id = ?1", [id])? > 0))
            .await
    }

    async fn count(&self) -> StoreResult<u64> {
        self.run(|conn| {
            let count: i64 = query_row(conn, "SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn start(&self, session: NewSession) -> StoreResult<StartOutcome> {
        let record = session.into_record(now());
        let content = to_json(&record.content)?;
        self.write(move |conn| {
            let inserted = exec(
                conn,
                "INSERT INTO sessions (id, candidate_id, candidate_email, template_id, template_version, recruiter_id, status, prompt_budget, started_at, deadline, content, title)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (candidate_id, template_id) WHERE status = 'in_progress' DO NOTHING",
                params![
                    record.id,
                    record.candidate_id,
                    record.candidate_email,
                    record.template_id,
                    record.template_version,
                    record.recruiter_id,
                    record.status.as_str(),
                    record.prompt_budget,
                    millis(record.started_at),
                    millis(record.deadline),
                    content,
                    record.content.title,
                ],
            )?;
            if inserted == 1 {
                return Ok(StartOutcome::Started(record));
            }
            let existing = select_sessions(
                conn,
                "candidate_id = ?1 AND template_id = ?2 AND status = 'in_progress'",
                &[&record.candidate_id, &record.template_id],
            )?
            .pop()
            .ok_or_else(|| StoreError::Internal("session start conflicted with nothing".into()))?;
            Ok(StartOutcome::Existing(existing))
        })
        .await
    }

    async fn find(&self, id: &Id) -> StoreResult<Option<SessionRecord>> {
        let id = id.clone();
        self.run(move |conn| find_session(conn, &id)).await
    }

    async fn find_question(
        &self,
        id: &Id,
        question_id: Option<&str>,
    ) -> StoreResult<Option<SessionQuestion>> {
        let id = id.clone();
        let question_id = question_id.map(str::to_owned);
        self.run(move |conn| {
            // SQLite's JSON functions pick the one question out of the stored test: only that
            // question is parsed into Rust.
            let found = query_row(
                conn,
                "SELECT id, candidate_id, status, deadline, grading IS NOT NULL,
                        (SELECT value FROM json_each(content, '$.questions')
                         WHERE json_extract(value, '$.id') = ?2 LIMIT 1)
                 FROM sessions WHERE id = ?1",
                params![id, question_id],
                |row| {
                    Ok(SessionQuestion {
                        id: row.get(0)?,
                        candidate_id: row.get(1)?,
                        status: row.get(2)?,
                        deadline: time_at(row, 3)?,
                        graded: row.get(4)?,
                        question: optional_json_column(row, 5)?,
                    })
                },
            )
            .optional()?;
            Ok(found)
        })
        .await
    }

    async fn find_in_progress(
        &self,
        candidate_id: &Id,
        template_id: &Id,
    ) -> StoreResult<Option<SessionProgress>> {
        let (candidate_id, template_id) = (candidate_id.clone(), template_id.clone());
        self.run(move |conn| {
            let found = query_row(
                conn,
                &format!(
                    "SELECT id, template_id, status, prompt_budget, used_prompts, started_at, \
                            deadline, ended_at FROM sessions \
                     WHERE template_id = ?1 AND {OWNED_BY_LIVE_ACCOUNT} AND status = 'in_progress' \
                     AND EXISTS (SELECT 1 FROM templates WHERE templates.id = ?1 \
                                 AND templates.status = 'published')"
                ),
                [&template_id, &candidate_id],
                |row| {
                    Ok(SessionProgress {
                        id: row.get(0)?,
                        template_id: row.get(1)?,
                        status: row.get(2)?,
                        prompt_budget: row.get(3)?,
                        used_prompts: row.get(4)?,
                        started_at: time_at(row, 5)?,
                        deadline: time_at(row, 6)?,
                        ended_at: optional_time_at(row, 7)?,
                        answers: Vec::new(),
                    })
                },
            )
            .optional()?;
            let Some(mut progress) = found else {
                return Ok(None);
            };
            progress.answers = answers_of(conn, &progress.id)?;
            Ok(Some(progress))
        })
        .await
    }

    async fn save_answer(
        &self,
        id: &Id,
        owner: &Id,
        answer: AnswerRecord,
    ) -> StoreResult<SaveOutcome> {
        let (id, owner) = (id.clone(), owner.clone());
        let value = to_json(&answer.answer)?;
        self.write(move |conn| {
            // One write: the session cannot be closed, nor its owner's account deleted, between
            // the check and the save.
            let state: Option<(SessionStatus, i64)> = query_row(
                conn,
                &format!("SELECT status, deadline FROM sessions WHERE id = ?1 AND {OWNED_BY_LIVE_ACCOUNT}"),
                [&id, &owner],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
            let outcome = match state {
                None => SaveOutcome::NotFound,
                Some((status, deadline))
                    if status != SessionStatus::InProgress
                        || millis(answer.submitted_at) >= deadline =>
                {
                    SaveOutcome::NotActive
                }
                Some(_) => {
                    exec(
                        conn,
                        "INSERT INTO answers (session_id, question_id, answer, submitted_at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (session_id, question_id) DO UPDATE SET answer = excluded.answer, submitted_at = excluded.submitted_at",
                        params![id, answer.question_id, value, millis(answer.submitted_at)],
                    )?;
                    SaveOutcome::Saved
                }
            };
            Ok(outcome)
        })
        .await
    }

    async fn spend_prompt(&self, id: &Id, owner: &Id) -> StoreResult<SpendOutcome> {
        let (id, owner) = (id.clone(), owner.clone());
        self.write(move |conn| spend(conn, &id, &owner)).await
    }

    async fn count_for_template(&self, template_id: &Id) -> StoreResult<u64> {
        let template_id = template_id.clone();
        self.run(move |conn| {
            let count: i64 = query_row(
                conn,
                "SELECT COUNT(*) FROM sessions WHERE template_id = ?1",
                [template_id],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn close(&self, id: &Id, ended_at: DateTime<Utc>) -> StoreResult<Option<SessionRecord>> {
        let id = id.clone();
        self.write(move |conn| {
            let closed = exec(
                conn,
                "UPDATE sessions SET status = 'completed', ended_at = ?2
                 WHERE id = ?1 AND status = 'in_progress'",
                params![id, millis(ended_at)],
            )?;
            if closed == 0 {
                return Ok(None);
            }
            find_session(conn, &id)
        })
        .await
    }

    async fn set_grading(&self, id: &Id, grading: &Grading) -> StoreResult<()> {
        let id = id.clone();
        let scores = grading.scores;
        let grading = to_json(grading)?;
        self.write(move |conn| {
            exec(
                conn,
                "UPDATE sessions SET grading = ?2, accuracy = ?3, speed_efficiency = ?4, \
                 prompt_wellness = ?5, total_score = ?6 WHERE id = ?1 AND status = 'completed'",
                params![
                    id,
                    grading,
                    scores.accuracy,
                    scores.speed_efficiency,
                    scores.prompt_wellness,
                    scores.total_score
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_for_candidate(&self, candidate_id: &Id) -> StoreResult<Vec<SessionOverview>> {
        let candidate_id = candidate_id.clone();
        self.run(move |conn| {
            select_overviews(
                conn,
                "candidate_id = ?1 ORDER BY started_at DESC, id DESC",
                &[&candidate_id],
            )
        })
        .await
    }

    async fn list_completed_for_recruiter(
        &self,
        recruiter_id: &Id,
        filter: &ResultsFilter,
        skip: u64,
        limit: u32,
    ) -> StoreResult<Option<Page<SessionOverview>>> {
        let recruiter_id = recruiter_id.clone();
        let template_id = filter.template_id.clone();
        let candidate = filter.candidate.clone();
        let order = match filter.sort {
            ResultsSort::Newest => "ended_at DESC, id DESC",
            ResultsSort::Oldest => "ended_at ASC, id ASC",
            // NULL (ungraded) sorts lowest, as missing fields do in MongoDB.
            ResultsSort::ScoreDesc => "total_score DESC, ended_at DESC, id DESC",
            ResultsSort::ScoreAsc => "total_score ASC, ended_at DESC, id DESC",
            ResultsSort::Candidate => "candidate_email ASC, ended_at DESC, id DESC",
        };
        let skip = i64::try_from(skip).unwrap_or(i64::MAX);
        self.run(move |conn| {
            // Only the conditions in use: one catch-all statement (`?2 IS NULL OR template_id =
            // ?2`) would have one plan for every filter, which could not use the index by
            // template (`sessions_by_template`) when a template is given. Each combination is
            // compiled once per connection (plans never depend on bound values: `configure`).
            let mut filter = String::from("recruiter_id = ?1 AND status = 'completed'");
            let mut params: Vec<&dyn ToSql> = vec![&recruiter_id];
            if let Some(template_id) = &template_id {
                params.push(template_id);
                filter += &format!(" AND template_id = ?{}", params.len());
            }
            if let Some(candidate) = &candidate {
                params.push(candidate);
                filter += &format!(
                    " AND instr(lower(candidate_email), lower(?{})) > 0",
                    params.len()
                );
            }
            // The total: kept per template (`completed_counts`) unless a search narrows it.
            let total = match (&template_id, &candidate) {
                (_, Some(_)) => format!("(SELECT COUNT(*) FROM sessions WHERE {filter})"),
                (Some(_), None) => "COALESCE((SELECT n FROM completed_counts \
                     WHERE recruiter_id = ?1 AND template_id = ?2), 0)"
                    .to_owned(),
                (None, None) => "(SELECT COALESCE(SUM(n), 0) FROM completed_counts \
                     WHERE recruiter_id = ?1)"
                    .to_owned(),
            };
            let (total, live): (i64, bool) = query_row(
                conn,
                &format!("SELECT {total}, {ACCOUNT_1_EXISTS}"),
                params.as_slice(),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if !live {
                return Ok(None);
            }
            let page = format!(
                "{filter} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
                params.len() + 1,
                params.len() + 2
            );
            params.extend([&limit as &dyn ToSql, &skip]);
            let items = select_overviews(conn, &page, &params)?;
            Ok(Some(Page {
                items,
                total: u64::try_from(total).unwrap_or(0),
            }))
        })
        .await
    }

    async fn completed_totals(&self, recruiter_id: &Id, template_id: &Id) -> StoreResult<Vec<f64>> {
        let recruiter_id = recruiter_id.clone();
        let template_id = template_id.clone();
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT total_score FROM sessions \
                 WHERE recruiter_id = ?1 AND template_id = ?2 AND status = 'completed' \
                 AND total_score IS NOT NULL",
            )?;
            let totals = statement
                .query_map(params![recruiter_id, template_id], |row| {
                    row.get::<_, Option<f64>>(0)
                })?
                .filter_map(|total| total.transpose())
                .collect::<rusqlite::Result<Vec<f64>>>()?;
            Ok(totals)
        })
        .await
    }

    async fn in_progress_for_recruiter(
        &self,
        recruiter_id: &Id,
        limit: u32,
    ) -> StoreResult<Vec<SessionOverview>> {
        let recruiter_id = recruiter_id.clone();
        self.run(move |conn| {
            select_overviews(
                conn,
                "recruiter_id = ?1 AND status = 'in_progress' ORDER BY started_at DESC, id DESC LIMIT ?2",
                &[&recruiter_id, &limit],
            )
        })
        .await
    }

    async fn overdue(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Id>> {
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id FROM sessions WHERE status = 'in_progress' AND deadline <= ?1 ORDER BY deadline LIMIT ?2",
            )?;
            let ids = statement
                .query_map(params![millis(now), limit], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<Id>>>()?;
            Ok(ids)
        })
        .await
    }

    async fn refund_prompt(&self, id: &Id) -> StoreResult<()> {
        let id = id.clone();
        self.write(move |conn| {
            exec(
                conn,
                "UPDATE sessions SET used_prompts = used_prompts - 1 WHERE id = ?1 AND used_prompts > 0",
                [id],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_prompt(&self, p: PromptRecord) -> StoreResult<()> {
        // One write: the exchange and its count land together or not at all.
        self.write(move |conn| insert_prompt(conn, &p)).await
    }

    async fn spend_and_record(
        &self,
        owner: &Id,
        exchange: PromptRecord,
    ) -> StoreResult<SpendOutcome> {
        let owner = owner.clone();
        // One write: the spend, the exchange and its count land together or not at all.
        self.write(move |conn| {
            let outcome = spend(conn, &exchange.session_id, &owner)?;
            if let SpendOutcome::Spent(_) = outcome {
                insert_prompt(conn, &exchange)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn prompts(&self, session_id: &Id) -> StoreResult<Vec<PromptRecord>> {
        let session_id = session_id.clone();
        self.run(move |conn| {
            select_prompts(
                conn,
                "prompts WHERE session_id = ?1 ORDER BY ts, id",
                params![session_id],
            )
        })
        .await
    }

    async fn recent_exchanges(
        &self,
        session_id: &Id,
        question_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<PromptRecord>> {
        let session_id = session_id.clone();
        let question_id = question_id.map(str::to_owned);
        self.run(move |conn| {
            // `IS` compares NULL with NULL as equal: the exchanges about no question.
            select_prompts(
                conn,
                "(SELECT * FROM prompts
                     WHERE session_id = ?1 AND question_id IS ?2 AND was_blocked = 0
                     ORDER BY ts DESC, id DESC LIMIT ?3
                 ) ORDER BY ts, id",
                params![session_id, question_id, limit],
            )
        })
        .await
    }

    async fn add_event(&self, event: IntegrityRecord) -> StoreResult<()> {
        self.write(move |conn| {
            exec(
                conn,
                "INSERT INTO integrity_events (id, session_id, ts, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    event.id,
                    event.session_id,
                    millis(event.timestamp),
                    event.kind.as_str(),
                    event.detail
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn events(&self, session_id: &Id) -> StoreResult<Vec<IntegrityRecord>> {
        let session_id = session_id.clone();
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, session_id, ts, kind, detail FROM integrity_events WHERE session_id = ?1 ORDER BY ts, id",
            )?;
            let events = statement
                .query_map([session_id], |row| {
                    Ok(IntegrityRecord {
                        id: row.get(0)?,
                        session_id: row.get(1)?,
                        timestamp: time_at(row, 2)?,
                        kind: row.get(3)?,
                        detail: row.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(events)
        })
        .await
    }

    async fn count_events(&self, session_id: &Id) -> StoreResult<u64> {
        let session_id = session_id.clone();
        self.run(move |conn| {
            let count: i64 = query_row(
                conn,
                "SELECT COUNT(*) FROM integrity_events WHERE session_id = ?1",
                [session_id],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }
}

impl FromSql for IntegrityKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, IntegrityKind::parse)
    }
}

impl FromSql for TemplateStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, TemplateStatus::parse)
    }
}

const TEMPLATE_COLUMNS: &str = "id, owner_id, status, version, created_at, updated_at, content";

fn template_from_row(row: &Row<'_>) -> rusqlite::Result<TemplateRecord> {
    let content: TemplateContent = json_column(row, 6)?;
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

fn find_template(conn: &Connection, id: &Id) -> StoreResult<Option<TemplateRecord>> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = ?1");
    Ok(query_row(conn, &sql, [id], template_from_row).optional()?)
}

fn list_templates(
    conn: &Connection,
    filter: &str,
    value: &str,
) -> StoreResult<Vec<TemplateRecord>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE {filter} = ?1 ORDER BY created_at DESC, id DESC"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([value], template_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl TemplateRepo for SqliteStore {
    async fn insert(&self, template: NewTemplate) -> StoreResult<TemplateRecord> {
        let record = template.into_record();
        let content = to_json(&record.content)?;
        self.write(move |conn| {
            exec(
                conn,
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
        let content = to_json(&content)?;
        let next_version = expected_version + u32::from(new_version);
        self.write(move |conn| {
            let sql = format!(
                "UPDATE templates SET content = ?3, version = ?4, updated_at = ?5
                 WHERE id = ?1 AND version = ?2
                 RETURNING {TEMPLATE_COLUMNS}"
            );
            Ok(query_row(
                conn,
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
        self.write(move |conn| {
            let sql = format!(
                "UPDATE templates SET status = ?2, updated_at = ?3 WHERE id = ?1
                 RETURNING {TEMPLATE_COLUMNS}"
            );
            Ok(query_row(
                conn,
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
        let line = record.clone();
        self.write(move |conn| {
            exec(
                conn,
                "INSERT INTO chat_messages (id, session_id, ts, speaker, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    line.id,
                    line.session_id,
                    millis(line.timestamp),
                    line.speaker.as_str(),
                    line.message
                ],
            )?;
            Ok(())
        })
        .await?;
        Ok(record)
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
        // An empty write: ready means the writer is running and can take the write lock, which
        // a read (or a constant) would not notice when another process holds the lock.
        self.write(|_| Ok(())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::StatementStatus;

    #[test]
    fn an_id_column_reads_as_an_id_or_as_an_error() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        let read = |value: &str| conn.query_row("SELECT ?1", [value], |row| row.get::<_, Id>(0));
        assert_eq!(
            read("65A1B2C3D4E5F60718293A4B")?.as_str(),
            "65a1b2c3d4e5f60718293a4b"
        );
        for bad in [
            "",
            "65a1b2c3d4e5f60718293a4",
            " 65a1b2c3d4e5f60718293a4b",
            "zz",
        ] {
            let err = read(bad).expect_err("not an id");
            assert!(
                err.to_string().contains("unexpected value"),
                "{bad:?}: {err}"
            );
        }
        Ok(())
    }

    fn insert_user(conn: &Connection, email: &str) -> StoreResult<()> {
        exec(
            conn,
            "INSERT INTO users (id, email, role, password_hash, created_at) VALUES (?1, ?2, 'candidate', 'hash', 0)",
            params![new_id(), email],
        )?;
        Ok(())
    }

    #[test]
    fn a_cached_statement_is_not_compiled_again_when_its_values_change() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        configure(&conn).expect("configure");
        migrate(&mut conn).expect("migrate");
        // The results listing's page: its plan could depend on the LIMIT's value.
        let page = "recruiter_id = ?1 AND status = 'completed' ORDER BY ended_at DESC, id DESC LIMIT ?2 OFFSET ?3";
        for (recruiter, limit, skip) in [("r1", 20_u32, 0_i64), ("r2", 5, 10), ("r1", 20, 0)] {
            select_overviews(&conn, page, &[&recruiter, &limit, &skip]).expect("page");
        }
        let sql = format!("SELECT {OVERVIEW_COLUMNS} FROM sessions WHERE {page}");
        let statement = conn.prepare_cached(&sql).expect("the cached statement");
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }

    #[test]
    fn a_page_of_results_comes_off_the_recruiters_index_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        migrate(&mut conn).expect("migrate");
        for order in ["ended_at DESC, id DESC", "ended_at ASC, id ASC"] {
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT {OVERVIEW_COLUMNS} FROM sessions WHERE recruiter_id = ?1 \
                 AND status = 'completed' ORDER BY {order} LIMIT 20"
            );
            let plan: Vec<String> = conn
                .prepare(&sql)
                .expect("explained")
                .query_map(["r"], |row| row.get(3))
                .expect("plan")
                .collect::<rusqlite::Result<_>>()
                .expect("plan rows");
            assert!(
                plan.iter()
                    .any(|step| step.contains("sessions_by_recruiter")),
                "{order}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{order}: {plan:?}"
            );
        }
    }

    #[test]
    fn the_kept_counts_of_ended_sessions_agree_with_counting_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        migrate_through(&mut conn, &MIGRATIONS[..6]).expect("the sixth schema");
        let insert =
            |conn: &Connection, id: &str, recruiter: &str, template: &str, status: &str| {
                conn.execute(
                    "INSERT INTO sessions (id, candidate_id, candidate_email, template_id, \
                 template_version, recruiter_id, title, status, prompt_budget, started_at, \
                 deadline, content) VALUES (?1, 'c', 'c@example.com', ?3, 1, ?2, 'T', ?4, 5, 0, \
                 1, '{}')",
                    params![id, recruiter, template, status],
                )
                .expect("a session");
            };
        // Ended before the counts existed: the migration counts them.
        insert(&conn, "s1", "r1", "t1", "completed");
        insert(&conn, "s2", "r1", "t1", "completed");
        insert(&conn, "s3", "r1", "t2", "in_progress");
        migrate(&mut conn).expect("migrated");
        let counts = |conn: &Connection, sql: &str| -> Vec<(String, String, i64)> {
            conn.prepare(sql)
                .expect(sql)
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .expect("rows")
                .collect::<rusqlite::Result<_>>()
                .expect("read")
        };
        let kept = |conn: &Connection| {
            counts(
                conn,
                "SELECT recruiter_id, template_id, n FROM completed_counts WHERE n > 0 \
                 ORDER BY 1, 2",
            )
        };
        let counted = |conn: &Connection| {
            counts(
                conn,
                "SELECT recruiter_id, template_id, COUNT(*) FROM sessions \
                 WHERE status = 'completed' GROUP BY 1, 2 ORDER BY 1, 2",
            )
        };
        assert_eq!(kept(&conn), [("r1".into(), "t1".into(), 2)]);
        let steps = [
            "UPDATE sessions SET status = 'completed' WHERE id = 's3'",
            "UPDATE sessions SET used_prompts = 3 WHERE id = 's3'",
            "UPDATE sessions SET template_id = 't3' WHERE id = 's1'",
            "UPDATE sessions SET recruiter_id = 'r2' WHERE id = 's2'",
            "UPDATE sessions SET status = 'in_progress' WHERE id = 's3'",
            "DELETE FROM sessions WHERE id = 's1'",
            "DELETE FROM sessions WHERE id = 's3'",
        ];
        for step in steps {
            conn.execute(step, []).expect(step);
            assert_eq!(kept(&conn), counted(&conn), "after {step}");
        }
        insert(&conn, "s4", "r2", "t1", "completed");
        assert_eq!(kept(&conn), [("r2".into(), "t1".into(), 2)]);
        assert_eq!(kept(&conn), counted(&conn));
    }

    #[test]
    fn sessions_keep_their_scores_and_documents_across_the_column_split() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        migrate_through(&mut conn, &MIGRATIONS[..5]).expect("the fifth schema");
        let insert = |id: &str, status: &str, grading: Option<&str>, scores: Option<&str>| {
            conn.execute(
                "INSERT INTO sessions (id, candidate_id, candidate_email, template_id, \
                 template_version, recruiter_id, status, prompt_budget, used_prompts, \
                 blocked_prompts, started_at, deadline, ended_at, content, grading, title, scores) \
                 VALUES (?1, 'cccccccccccccccccccccccc', 'c@example.com', 'dddddddddddddddddddddddd', 1, 'eeeeeeeeeeeeeeeeeeeeeeee', ?2, 5, 2, 1, 1000, \
                 9000, 5000, \
                 '{\"title\":\"Old\"}', ?3, 'Old', ?4)",
                params![id, status, grading, scores],
            )
            .expect("an old row");
        };
        let scores = r#"{"accuracy":50.5,"speed_efficiency":20.0,"prompt_wellness":100.0,"total_score":55.25}"#;
        let grading = format!(r#"{{"scores":{scores},"questions":[]}}"#);
        let (graded, ungraded) = ("aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb");
        insert(graded, "completed", Some(&grading), Some(scores));
        insert(ungraded, "completed", None, None);
        migrate(&mut conn).expect("migrated");
        let page = "recruiter_id = ?1 AND status = 'completed' ORDER BY total_score DESC";
        let listed = select_overviews(&conn, page, &[&"eeeeeeeeeeeeeeeeeeeeeeee"]).expect("listed");
        let found: Vec<_> = listed.iter().map(|o| (o.id.as_str(), o.scores)).collect();
        assert_eq!(
            found,
            [
                (
                    graded,
                    Some(Scores {
                        accuracy: 50.5,
                        speed_efficiency: 20.0,
                        prompt_wellness: 100.0,
                        total_score: 55.25
                    })
                ),
                (ungraded, None)
            ]
        );
        let (content, kept): (String, Option<String>) = conn
            .query_row(
                "SELECT content, grading FROM sessions WHERE id = ?1",
                [graded],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("the documents");
        assert_eq!(
            (content.as_str(), kept),
            (r#"{"title":"Old"}"#, Some(grading))
        );
    }

    #[tokio::test]
    async fn a_failed_or_panicking_write_is_undone_alone_and_the_others_land() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("open");
        // Queued together, so the writer usually takes them as one batch; what each write's
        // outcome is does not depend on that.
        let (kept, failed, panicked, after) = tokio::join!(
            store.write(|conn| insert_user(conn, "kept@example.com")),
            store.write(|conn| {
                insert_user(conn, "failed@example.com")?;
                Err::<(), _>(StoreError::Internal("refused".into()))
            }),
            store.write(|conn| -> StoreResult<()> {
                insert_user(conn, "panicked@example.com")?;
                panic!("a bug in a write");
            }),
            store.write(|conn| insert_user(conn, "after@example.com")),
        );
        assert!(kept.is_ok(), "{kept:?}");
        assert!(
            matches!(&failed, Err(StoreError::Internal(m)) if m == "refused"),
            "{failed:?}"
        );
        assert!(
            matches!(&panicked, Err(StoreError::Internal(m)) if m.contains("panicked")),
            "{panicked:?}"
        );
        assert!(after.is_ok(), "{after:?}");
        for (email, stored) in [
            ("kept@example.com", true),
            ("failed@example.com", false),
            ("panicked@example.com", false),
            ("after@example.com", true),
        ] {
            let found = UserRepo::find_by_email(&store, email).await.expect("read");
            assert_eq!(found.is_some(), stored, "{email}");
        }
        // The writer goes on after a panic.
        assert!(
            store
                .write(|conn| insert_user(conn, "later@example.com"))
                .await
                .is_ok()
        );
        assert_eq!(UserRepo::count(&store).await.expect("count"), 3);
    }

    #[tokio::test]
    async fn a_panicking_read_fails_alone_and_its_connection_is_not_handed_out_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("open");
        store
            .write(|conn| insert_user(conn, "reader@example.com"))
            .await
            .expect("write");
        for _ in 0..3 {
            // One at a time: each takes the connection the one before it left behind.
            let panicked = store
                .run(|_| -> StoreResult<()> { panic!("a bug in a read") })
                .await;
            assert!(
                matches!(&panicked, Err(StoreError::Internal(_))),
                "{panicked:?}"
            );
            let found = UserRepo::find_by_email(&store, "reader@example.com")
                .await
                .expect("a read after a panicking one");
            assert!(found.is_some());
        }
    }
}
