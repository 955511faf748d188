//! A session's live channel (`GET /api/v1/candidate/ws/chat/{session_id}`): the interviewer chat
//! for the candidate, and everything that happens in the session for the recruiter watching it.

use crate::session::{IntegrityEvent, PromptLine, TranscriptLine};
use serde::{Deserialize, Serialize};

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 1_000;
/// Messages one connection may send per minute.
pub const CHAT_MESSAGES_PER_MINUTE: usize = 10;

/// A frame the server sends (JSON text). The candidate receives `history`, `message`, `ended`
/// and `error`; a watching recruiter receives every kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// The first frame on every connection: the chat so far, oldest first.
    History { messages: Vec<TranscriptLine> },
    /// A new chat line.
    Message(TranscriptLine),
    /// The candidate asked the AI assistant (blocked or not).
    Prompt(PromptLine),
    /// The candidate saved an answer.
    AnswerSaved {
        question_id: String,
        /// RFC 3339.
        timestamp: String,
    },
    /// An integrity event was recorded.
    Integrity(IntegrityEvent),
    /// The session has ended; the server closes the socket after this frame.
    Ended {
        /// RFC 3339.
        ended_at: String,
    },
    /// Something this connection sent was refused; the socket stays open.
    Error { detail: String },
}

impl LiveEvent {
    /// Whether the candidate's own connection carries this event (the rest is for recruiters).
    pub fn for_candidate(&self) -> bool {
        matches!(
            self,
            LiveEvent::History { .. }
                | LiveEvent::Message(_)
                | LiveEvent::Ended { .. }
                | LiveEvent::Error { .. }
        )
    }
}

/// A frame the candidate sends: `{"message": "..."}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChatInput {
    pub message: String,
}
