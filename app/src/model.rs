//! Types shared by the server and the browser. Keep this module free of server-only dependencies:
//! everything here is compiled into the WASM bundle.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A document identifier: 24 lowercase hex digits (a MongoDB ObjectId), on every storage engine.
/// Parsing is the only way to get one, so a malformed id never reaches the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed id: expected 24 hexadecimal characters")]
pub struct MalformedId;

impl Id {
    pub fn parse(raw: &str) -> Result<Self, MalformedId> {
        let raw = raw.trim();
        if raw.len() == 24 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(MalformedId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Id {
    type Error = MalformedId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two kinds of account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Candidate,
    Recruiter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Candidate => "candidate",
            Role::Recruiter => "recruiter",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "candidate" => Some(Role::Candidate),
            "recruiter" => Some(Role::Recruiter),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who speaks in the interviewer chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Candidate,
    Interviewer,
    System,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Candidate => "candidate",
            Speaker::Interviewer => "interviewer",
            Speaker::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "candidate" => Some(Speaker::Candidate),
            "interviewer" => Some(Speaker::Interviewer),
            "system" => Some(Speaker::System),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_accepts_object_id_hex_and_normalises_case() {
        let id = Id::parse("65A1B2C3D4E5F60718293A4B").expect("valid id");
        assert_eq!(id.as_str(), "65a1b2c3d4e5f60718293a4b");
    }

    #[test]
    fn id_rejects_wrong_length_and_non_hex() {
        assert_eq!(Id::parse("abc"), Err(MalformedId));
        assert_eq!(Id::parse("zz a1b2c3d4e5f60718293a4b"), Err(MalformedId));
        assert_eq!(Id::parse("65a1b2c3d4e5f60718293a4g"), Err(MalformedId));
        assert!(serde_json::from_str::<Id>("\"not-an-id\"").is_err());
    }

    #[test]
    fn role_and_speaker_round_trip_their_wire_names() {
        for role in [Role::Candidate, Role::Recruiter] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for speaker in [Speaker::Candidate, Speaker::Interviewer, Speaker::System] {
            assert_eq!(Speaker::parse(speaker.as_str()), Some(speaker));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
