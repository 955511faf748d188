//! What never changes in a session once it starts: whose it is, its deadline and its test. The
//! requests of a test in progress (saving answers, prompting, resuming it) keep it in memory
//! instead of reading it for each request.
//!
//! The session's state is not kept: it changes when the session ends, possibly on another
//! instance. The writes these requests make check it themselves (`SaveOutcome::NotActive`,
//! `SpendOutcome::NotActive`), so a session that has ended refuses them all the same.

use super::error::AppError;
use super::store::{SessionRecord, Store};
use crate::model::Id;
use crate::template::{Question, TemplateContent};
use chrono::{DateTime, Utc};
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use std::sync::Arc;

/// Memory the kept sessions may take, in bytes of their tests as JSON (a typical test is a few
/// kilobytes; the largest allowed would not fit, and is then read for each request as before).
const CAPACITY_BYTES: u64 = 64 * 1024 * 1024;
/// How many sessions that is expected to be, for the cache's first allocation.
const EXPECTED_SESSIONS: usize = 8 * 1024;

#[derive(Debug)]
pub struct FixedSession {
    pub id: Id,
    pub candidate_id: Id,
    pub deadline: DateTime<Utc>,
    pub content: TemplateContent,
    /// Its share of [`CAPACITY_BYTES`].
    weight: u64,
}

impl FixedSession {
    pub fn question(&self, question_id: &str) -> Option<&Question> {
        self.content.questions.iter().find(|q| q.id == question_id)
    }
}

impl From<SessionRecord> for FixedSession {
    fn from(record: SessionRecord) -> Self {
        let content = record.content;
        // A test always serialises; a failure would only make the estimate small.
        let json_len = serde_json::to_vec(&content).map_or(0, |json| json.len());
        FixedSession {
            id: record.id,
            candidate_id: record.candidate_id,
            deadline: record.deadline,
            content,
            weight: u64::try_from(json_len).unwrap_or(u64::MAX).max(1),
        }
    }
}

#[derive(Clone)]
struct ByTestSize;

impl Weighter<Id, Arc<FixedSession>> for ByTestSize {
    fn weight(&self, _: &Id, session: &Arc<FixedSession>) -> u64 {
        session.weight
    }
}

/// The fixed part of recently used sessions, least recently used evicted first.
pub struct FixedSessions(Cache<Id, Arc<FixedSession>, ByTestSize>);

impl Default for FixedSessions {
    fn default() -> Self {
        FixedSessions(Cache::with_weighter(
            EXPECTED_SESSIONS,
            CAPACITY_BYTES,
            ByTestSize,
        ))
    }
}

impl FixedSessions {
    /// The session's fixed part, read from the store when it is not in memory; `None` when
    /// there is no such session. Concurrent requests for one session read it once.
    pub async fn get(&self, store: &Store, id: &Id) -> Result<Option<Arc<FixedSession>>, AppError> {
        let loaded = self
            .0
            .get_or_insert_async(id, async {
                match store.sessions.find(id).await {
                    Ok(Some(record)) => Ok(Arc::new(FixedSession::from(record))),
                    Ok(None) => Err(None),
                    Err(err) => Err(Some(AppError::from(err))),
                }
            })
            .await;
        match loaded {
            Ok(session) => Ok(Some(session)),
            Err(None) => Ok(None),
            Err(Some(err)) => Err(err),
        }
    }
}
