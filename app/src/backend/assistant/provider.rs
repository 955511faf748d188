//! Who answers the candidate's prompts: any OpenAI-compatible chat-completions endpoint (OpenAI,
//! Azure, Ollama, vLLM, llama.cpp server) through `async-openai`, or, with none configured, the
//! built-in offline assistant.

use super::gatekeeper::{QuestionInfo, normalize};
use crate::backend::config::LlmConfig;
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
};
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::sync::LazyLock;
use std::time::Duration;

/// One earlier exchange of the conversation about the current question.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub prompt: String,
    pub response: String,
}

/// Why no reply came.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the AI provider failed: {0}")]
    Failed(String),
    #[error("the AI provider did not answer within {0:?}")]
    TimedOut(Duration),
}

/// What the model is told before every conversation.
pub fn system_prompt(question: Option<&QuestionInfo>) -> String {
    let mut prompt = String::from(
        "You are the AI assistant of a timed technical assessment. The candidate may ask you about \
         concepts, language syntax, standard library behaviour, debugging strategies and edge \
         cases. Teach and give hints. Never write, complete or output a full solution to the \
         current question, never implement the function the question asks for, and never say \
         which multiple-choice option is correct or write the answer to a theory question. Keep \
         code examples to a few lines that illustrate a concept unrelated to the exact task. If \
         asked for the solution, refuse briefly and offer a hint instead. Answer in Markdown.",
    );
    if let Some(q) = question {
        prompt.push_str("\n\nThe current question (for context only, do not solve it):\n");
        prompt.push_str(&q.prompt);
        if let Some(name) = &q.function_name {
            prompt.push_str(&format!(
                "\nThe candidate must write the JavaScript function `{name}` themselves."
            ));
        }
    }
    prompt
}

pub enum Provider {
    /// An OpenAI-compatible endpoint.
    Remote {
        client: Box<Client<OpenAIConfig>>,
        model: String,
        timeout: Duration,
    },
    /// Answers from the question's context with concept-level hints; no network.
    Offline,
}

impl Provider {
    pub fn from_config(config: Option<&LlmConfig>) -> Provider {
        match config {
            None => Provider::Offline,
            Some(llm) => {
                // reqwest needs a process-wide TLS provider; an error means one is installed.
                let _ = rustls::crypto::ring::default_provider().install_default();
                // The configuration has already trimmed the base URL. Local servers (Ollama,
                // llama.cpp) need no key; an empty one is then harmless.
                let openai = OpenAIConfig::new()
                    .with_api_base(llm.base_url.as_str())
                    .with_api_key(
                        llm.api_key
                            .as_ref()
                            .map(|k| k.expose().to_owned())
                            .unwrap_or_default(),
                    );
                Provider::Remote {
                    client: Box::new(Client::with_config(openai)),
                    model: llm.model.clone(),
                    timeout: llm.timeout,
                }
            }
        }
    }

    /// `offline`, or the model's name: recorded with every exchange and shown in the UI.
    pub fn name(&self) -> String {
        match self {
            Provider::Remote { model, .. } => model.clone(),
            Provider::Offline => OFFLINE.to_owned(),
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, Provider::Offline)
    }

    /// The offline assistant's reply, when no model is connected. It needs no context and
    /// comes at once, so it can be settled before the prompt is paid for.
    pub fn offline(&self, question: Option<&QuestionInfo>, prompt: &str) -> Option<String> {
        self.is_offline().then(|| offline_reply(question, prompt))
    }

    /// The reply to `prompt`, with the earlier allowed exchanges about the same question as
    /// context.
    pub async fn reply(
        &self,
        question: Option<&QuestionInfo>,
        history: &[Exchange],
        prompt: &str,
    ) -> Result<String, ProviderError> {
        match self
            .complete(system_prompt(question), history, prompt)
            .await
        {
            None => Ok(offline_reply(question, prompt)),
            Some(reply) => reply,
        }
    }

    /// The model's reply to `prompt` under the `system` prompt, after `history`; `None` when
    /// no model is connected.
    pub async fn complete(
        &self,
        system: String,
        history: &[Exchange],
        prompt: &str,
    ) -> Option<Result<String, ProviderError>> {
        let Provider::Remote {
            client,
            model,
            timeout,
        } = self
        else {
            return None;
        };
        Some(
            async {
                let request = request(model, system, history, prompt)?;
                let response = tokio::time::timeout(*timeout, client.chat().create(request))
                    .await
                    .map_err(|_| ProviderError::TimedOut(*timeout))?
                    .map_err(|e| ProviderError::Failed(e.to_string()))?;
                response
                    .choices
                    .into_iter()
                    .find_map(|choice| choice.message.content)
                    .filter(|text| !text.trim().is_empty())
                    .ok_or_else(|| ProviderError::Failed("the reply was empty".into()))
            }
            .await,
        )
    }

    /// The reply to `prompt` as it is generated, in pieces. The time-out applies to the wait
    /// for every piece (the first one included), so a slow but steady reply is not cut off
    /// while a stalled one is. An error ends the stream.
    pub async fn reply_stream(
        &self,
        question: Option<&QuestionInfo>,
        history: &[Exchange],
        prompt: &str,
    ) -> Result<Pieces, ProviderError> {
        match self {
            Provider::Offline => Ok(Box::pin(futures_util::stream::once(std::future::ready(
                Ok(offline_reply(question, prompt)),
            )))),
            Provider::Remote {
                client,
                model,
                timeout,
            } => {
                let timeout = *timeout;
                let request = request(model, system_prompt(question), history, prompt)?;
                let chunks = tokio::time::timeout(timeout, client.chat().create_stream(request))
                    .await
                    .map_err(|_| ProviderError::TimedOut(timeout))?
                    .map_err(|e| ProviderError::Failed(e.to_string()))?;
                Ok(Box::pin(futures_util::stream::unfold(
                    Some(chunks),
                    move |chunks| async move {
                        let mut chunks = chunks?;
                        let piece = match tokio::time::timeout(timeout, chunks.next()).await {
                            Err(_) => Err(ProviderError::TimedOut(timeout)),
                            Ok(None) => return None,
                            Ok(Some(Err(e))) => Err(ProviderError::Failed(e.to_string())),
                            Ok(Some(Ok(chunk))) => Ok(chunk
                                .choices
                                .into_iter()
                                .filter_map(|choice| choice.delta.content)
                                .collect::<String>()),
                        };
                        // Nothing follows an error.
                        let next = piece.is_ok().then_some(chunks);
                        Some((piece, next))
                    },
                )))
            }
        }
    }
}

/// A reply arriving in pieces.
pub type Pieces = Pin<Box<dyn Stream<Item = Result<String, ProviderError>> + Send>>;

/// The chat-completion request: the system prompt, the earlier exchanges, the prompt.
fn request(
    model: &str,
    system: String,
    history: &[Exchange],
    prompt: &str,
) -> Result<CreateChatCompletionRequest, ProviderError> {
    let mut messages: Vec<ChatCompletionRequestMessage> =
        vec![ChatCompletionRequestSystemMessage::from(system).into()];
    for exchange in history {
        messages.push(ChatCompletionRequestUserMessage::from(exchange.prompt.as_str()).into());
        messages
            .push(ChatCompletionRequestAssistantMessage::from(exchange.response.as_str()).into());
    }
    messages.push(ChatCompletionRequestUserMessage::from(prompt).into());
    CreateChatCompletionRequestArgs::default()
        .model(model)
        .messages(messages)
        .build()
        .map_err(|e| ProviderError::Failed(e.to_string()))
}

pub const OFFLINE: &str = "offline";

/// Concept notes the offline assistant draws on: the words that call for one, and the note.
const NOTES: &[(&[&str], &str)] = &[
    (
        &["hash", "map", "lookup", "dictionary", "object key"],
        "A `Map` (or a plain object) stores values by key, and looking a key up takes constant time on average — useful whenever you would otherwise search an array again and again. `map.set(key, value)`, `map.get(key)` and `map.has(key)` are the operations to know.",
    ),
    (
        &[
            "complexity",
            "big o",
            "o n",
            "fast",
            "slow",
            "efficient",
            "performance",
        ],
        "Count how many times the innermost step runs as the input grows: one pass over the input is O(n); a loop inside a loop over the same input is O(n²). Trading memory for time (remembering what you have already seen) often turns the second into the first.",
    ),
    (
        &["loop", "iterate", "for each", "foreach", "for of"],
        "`for (let i = 0; i < arr.length; i++)` gives you indexes; `for (const x of arr)` gives values; `arr.forEach((x, i) => …)` gives both but cannot `break` early.",
    ),
    (
        &["recursion", "recursive", "nested", "depth", "call stack"],
        "A recursive function solves a small case directly (the base case) and hands smaller pieces of the problem to itself. Each call waits on the call stack, so very deep inputs can overflow it; an explicit stack (an array you push to and pop from) avoids that.",
    ),
    (
        &["string", "lower", "upper", "case", "character", "char"],
        "Strings are immutable: methods like `toLowerCase()`, `slice()`, `split('')` and `replace()` return new strings. Compare characters after normalising case, and remember that `str[i]` reads one UTF-16 unit.",
    ),
    (
        &["regex", "regular expression", "pattern", "alphanumeric"],
        "A regular expression like `/[^a-z0-9]/gi` matches every character that is not a letter or digit; `str.replace(re, '')` removes them. The `g` flag means all matches, `i` ignores case.",
    ),
    (
        &["array", "push", "concat", "spread", "flat"],
        "`arr.push(x)` adds to the end in place; `a.concat(b)` and `[...a, ...b]` build a new array; `Array.isArray(x)` tells arrays from other values.",
    ),
    (
        &[
            "promise",
            "async",
            "await",
            "event loop",
            "callback",
            "settimeout",
            "microtask",
        ],
        "JavaScript runs one piece of code at a time. Waiting work (timers, I/O) is handed to the host; when it is done its callback is queued, and the event loop runs queued callbacks whenever the call stack is empty — promise callbacks (microtasks) before timers (macrotasks).",
    ),
    (
        &["==", "===", "equal", "equality", "compare"],
        "`===` compares without type conversion and is almost always what you want; `==` converts types first (`'1' == 1` is true). Objects and arrays compare by identity, not content.",
    ),
    (
        &["let", "const", "var", "scope", "closure"],
        "`const` and `let` are block-scoped (`const` cannot be reassigned); `var` is function-scoped and hoisted. A closure is a function that keeps access to the variables of the scope it was created in.",
    ),
    (
        &["http", "idempotent", "get", "post", "put", "delete", "rest"],
        "An HTTP method is idempotent when repeating the same request leaves the server in the same state as sending it once; it is safe when it does not change server state at all. Think about what each method is defined to do to a resource.",
    ),
    (
        &[
            "error",
            "undefined",
            "null",
            "exception",
            "throw",
            "debug",
            "bug",
        ],
        "Read the error message and the line it points to; `console.log` the values just before it. `undefined` usually means a missing return, a misspelt property, or an index past the end of an array.",
    ),
];

/// How a note's keyword is looked for in a prompt.
enum Key {
    /// Normalised and padded with spaces: a whole word ("get" is not in "target").
    Word(String),
    /// Symbols that normalising would erase (`==`), as they are.
    Symbol(&'static str),
}

/// [`NOTES`]' keywords, prepared once.
static KEYS: LazyLock<Vec<Vec<Key>>> = LazyLock::new(|| {
    NOTES
        .iter()
        .map(|(words, _)| {
            words
                .iter()
                .map(|word| match normalize(word) {
                    key if key.is_empty() => Key::Symbol(word),
                    key => Key::Word(format!(" {key} ")),
                })
                .collect()
        })
        .collect()
});

/// The notes whose keywords `text` mentions, in order.
fn notes_on(text: &str) -> impl Iterator<Item = &'static str> + '_ {
    let padded = format!(" {} ", normalize(text));
    NOTES
        .iter()
        .zip(KEYS.iter())
        .filter(move |(_, keys)| {
            keys.iter().any(|key| match key {
                Key::Word(word) => padded.contains(word.as_str()),
                Key::Symbol(symbol) => text.contains(symbol),
            })
        })
        .map(|((_, note), _)| *note)
}

/// A concept-level hint from the built-in notes, chosen by the words of the prompt and the
/// question. It never sees a solution, so it cannot leak one.
pub fn offline_reply(question: Option<&QuestionInfo>, prompt: &str) -> String {
    let mut notes: Vec<&str> = notes_on(prompt).take(2).collect();
    if notes.is_empty()
        && let Some(q) = question
    {
        notes.extend(notes_on(&q.prompt).take(1));
    }
    let mut reply = String::from(
        "*Offline assistant — no AI model is connected; these are built-in hints.*\n\n",
    );
    if notes.is_empty() {
        reply.push_str(
            "Break the task into small steps: restate what goes in and what must come out, work \
             one small example by hand, then think about the edge cases (empty input, one \
             element, duplicates, negative numbers, very large input).",
        );
    } else {
        reply.push_str(&notes.join("\n\n"));
    }
    if let Some(name) = question.and_then(|q| q.function_name.as_deref()) {
        reply.push_str(&format!(
            "\n\nTry your `{name}` by hand on the examples in the question before you end the test."
        ));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offline_assistant_is_labelled_and_picks_notes_by_topic() {
        let reply = offline_reply(None, "How fast is a hash map lookup?");
        assert!(reply.starts_with("*Offline assistant"));
        assert!(reply.contains("`Map`"));
        let generic = offline_reply(None, "hmm");
        assert!(generic.contains("edge cases"));
        // Whole words only: "target" does not call for the HTTP note.
        assert!(!offline_reply(None, "what is the target?").contains("idempotent"));
        assert!(offline_reply(None, "is == the same as ===?").contains("type conversion"));
        // At most two notes; with none in the prompt, one from the question's own words.
        let both = offline_reply(None, "Is recursion slow?");
        assert!(both.contains("base case") && both.contains("O(n"));
        let q = QuestionInfo {
            prompt: "Write a recursive `sum(tree)`.".into(),
            function_name: Some("sum".into()),
            ..QuestionInfo::default()
        };
        let from_question = offline_reply(Some(&q), "hmm");
        assert!(from_question.contains("base case"));
        assert!(!from_question.contains("edge cases (empty input"));
    }

    #[test]
    fn the_system_prompt_forbids_solutions_and_names_the_function() {
        let q = QuestionInfo {
            prompt: "Write add(a, b).".into(),
            context: None,
            function_name: Some("add".into()),
            options: Vec::new(),
        };
        let prompt = system_prompt(Some(&q));
        assert!(prompt.contains("Never write, complete or output a full solution"));
        assert!(prompt.contains("`add`"));
    }
}
