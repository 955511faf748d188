//! How server functions' JSON bodies are read: the same `application/json` on the wire as
//! server_fn's `Json`, read as text. serde_json monomorphises its parser per input kind, and the
//! islands' props are read from a string (Leptos does that), so reading the server's answers from
//! a string too leaves the browser one JSON parser instead of two (about 11 KB of WebAssembly in
//! the test room before compression, measured in docs/BENCHMARKS.md).

use leptos::server_fn::codec::{JsonEncoding, Post};
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::{DeserializeOwned, Error as _};

/// JSON, decoded from text (after checking it is UTF-8, as JSON must be). Everything but the
/// decoding is server_fn's [`JsonEncoding`].
pub struct JsonTextEncoding;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = JsonEncoding::CONTENT_TYPE;
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = JsonEncoding::FORMAT_TYPE;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = <JsonEncoding as Encodes<T>>::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        JsonEncoding::encode(value)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        from_json_text(&bytes)
    }
}

/// Reads JSON from `bytes` as text, after checking it is UTF-8 (as JSON must be). Every JSON the
/// browser reads goes through here, so that it holds one parser.
pub fn from_json_text<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| serde_json::Error::custom("the body is not UTF-8"))?;
    serde_json::from_str(text)
}

/// A server function's arguments or answer as JSON in a `POST` body, read as text.
pub type JsonText = Post<JsonTextEncoding>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn round_trips_and_refuses_what_is_not_json_text() {
        let error = ApiError::invalid("title", "must not be empty");
        let bytes = <JsonTextEncoding as Encodes<ApiError>>::encode(&error).unwrap();
        let back: ApiError = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(back, error);

        let latin1 = Bytes::from_static(b"\"caf\xe9\"");
        let refused = <JsonTextEncoding as Decodes<String>>::decode(latin1).unwrap_err();
        assert!(refused.to_string().contains("not UTF-8"), "{refused}");
        assert!(<JsonTextEncoding as Decodes<String>>::decode(Bytes::from_static(b"{")).is_err());
    }
}
