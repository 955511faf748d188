//! Types shared by the server and the browser. Keep this module free of server-only dependencies:
//! everything here is compiled into the WASM bundle.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A document identifier: 24 lowercase hex digits (a MongoDB ObjectId), on every storage engine.
/// Parsing is the only way to get one, so a malformed id never reaches the store. The digits are
/// kept inline: an id is copied, compared and written without touching the heap.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; ID_LEN]);

const ID_LEN: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed id: expected 24 hexadecimal characters")]
pub struct MalformedId;

impl Id {
    /// An id as people and clients write it: surrounding blanks ignored, any case.
    pub fn parse(raw: &str) -> Result<Self, MalformedId> {
        Self::from_digits(raw.trim().as_bytes())
    }

    /// An id from exactly its 24 digits, in any case, as a store keeps it: nothing to trim, and
    /// no UTF-8 check before the hex check (every hex digit is ASCII).
    pub fn from_digits(raw: &[u8]) -> Result<Self, MalformedId> {
        let mut digits: [u8; ID_LEN] = raw.try_into().map_err(|_| MalformedId)?;
        // Every digit checked, without stopping early: one pass the compiler can vectorise.
        if !digits
            .iter()
            .fold(true, |hex, d| hex & d.is_ascii_hexdigit())
        {
            return Err(MalformedId);
        }
        digits.make_ascii_lowercase();
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits get in (`parse`), so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.as_str().to_owned()
    }
}

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Digits;
        impl serde::de::Visitor<'_> for Digits {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id of 24 hexadecimal digits")
            }
            fn visit_str<E: serde::de::Error>(self, raw: &str) -> Result<Id, E> {
                Id::parse(raw).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Digits)
    }
}

/// In the OpenAPI document an id is a string of its exact shape, so generated requests can hold
/// well-formed ids as well as malformed ones.
#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Id {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9a-f]{24}$"))
            .description(Some("A document id: 24 lowercase hexadecimal digits."))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Id {}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two kinds of account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

    /// Capitalised, for headings and buttons.
    pub fn label(self) -> &'static str {
        match self {
            Role::Candidate => "Candidate",
            Role::Recruiter => "Recruiter",
        }
    }

    /// The page a user of this role lands on after signing in.
    pub fn home_path(self) -> &'static str {
        match self {
            Role::Candidate => "/candidate",
            Role::Recruiter => "/recruiter",
        }
    }
}

/// An account as clients see it: never the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: Id,
    pub email: String,
    pub role: Role,
}

pub const EMAIL_MAX_LEN: usize = 254;
pub const PASSWORD_MIN_LEN: usize = 8;
pub const PASSWORD_MAX_LEN: usize = 128;

/// Trims and lower-cases an email address and checks its shape ([`check_email`]).
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    check_email(&email)?;
    Ok(email)
}

/// Checks the shape of an email address. The error names the problem in words fit for a form and
/// the API alike. Forms check what was typed, without lower-casing it: Unicode case mapping
/// would bring its tables (tens of KB, loaded by every page) into the browser, and the server,
/// which normalizes, has the last word.
pub fn check_email(email: &str) -> Result<(), String> {
    if email.is_empty() {
        return Err("email: an email address is required".into());
    }
    if email.len() > EMAIL_MAX_LEN {
        return Err(format!("email: must be at most {EMAIL_MAX_LEN} characters"));
    }
    // The crate follows RFC 5322; we also demand a dot in the domain, as deliverable addresses have.
    let valid = email_address::EmailAddress::is_valid(email)
        && email.rsplit_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err("email: not a valid email address".into())
    }
}

/// Length limits on a password, counted in characters (not bytes).
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_LEN {
        Err(format!(
            "password: must be at least {PASSWORD_MIN_LEN} characters"
        ))
    } else if chars > PASSWORD_MAX_LEN {
        Err(format!(
            "password: must be at most {PASSWORD_MAX_LEN} characters"
        ))
    } else {
        Ok(())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who speaks in the interviewer chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
        assert!(serde_json::from_str::<Id>("650000000000000000000000").is_err());
        // 24 bytes, not 24 hex digits.
        assert_eq!(Id::parse("65a1b2c3d4e5f60718293aé"), Err(MalformedId));
    }

    #[test]
    fn an_id_from_its_digits_takes_exactly_24_hex_digits() {
        let id = Id::from_digits(b"65A1B2C3D4E5F60718293A4B").expect("valid digits");
        assert_eq!(id, Id::parse("65a1b2c3d4e5f60718293a4b").expect("valid id"));
        // Nothing is trimmed: a store's value is the digits or it is not an id.
        assert_eq!(
            Id::from_digits(b" 65a1b2c3d4e5f60718293a4b"),
            Err(MalformedId)
        );
        assert_eq!(
            Id::from_digits(b"65a1b2c3d4e5f60718293a4\xff"),
            Err(MalformedId)
        );
        assert_eq!(Id::from_digits(b""), Err(MalformedId));
    }

    #[test]
    fn id_is_a_plain_json_string_both_ways() {
        let id: Id = serde_json::from_str("\"65A1B2C3D4E5F60718293A4B\"").expect("an id");
        assert_eq!(id.as_str(), "65a1b2c3d4e5f60718293a4b");
        assert_eq!(
            serde_json::to_string(&id).expect("serialised"),
            "\"65a1b2c3d4e5f60718293a4b\""
        );
        assert_eq!(String::from(id.clone()), id.to_string());
    }

    #[test]
    fn forms_check_an_email_as_typed_and_agree_with_the_server() {
        for typed in [
            "Ada@Example.COM",
            "ada@example.com",
            "ADA.LOVELACE+TEST@EXAMPLE.CO.UK",
        ] {
            assert_eq!(check_email(typed), Ok(()), "{typed}");
            assert!(normalize_email(typed).is_ok(), "{typed}");
        }
        for bad in ["", "Ada", "Ada@Example", "Ada@Example.", "A B@Example.com"] {
            assert_eq!(
                check_email(bad),
                normalize_email(bad).map(|_| ()),
                "{bad:?}"
            );
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").as_deref(),
            Ok("ada@example.com")
        );
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert!(err.starts_with("email: "), "{bad:?} gave {err}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email(&long).unwrap_err().contains("at most 254"));
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(
            check_password("1234567")
                .unwrap_err()
                .contains("at least 8")
        );
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"é".repeat(128)).is_ok());
        assert!(
            check_password(&"x".repeat(129))
                .unwrap_err()
                .contains("at most 128")
        );
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
