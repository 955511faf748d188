//! The AI assistant panel of the test page: the prompts left, the exchanges about the open
//! question (refusals marked with their reason), the reply streaming in as Markdown while it is
//! generated, and the prompt box, disabled with an explanation once the budget is spent.

// The open panel is built in the browser only (the test room's script mounts it); the server
// renders its closed place. So the server build uses none of the panel's code.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use super::markdown::to_html;
use crate::candidate::{AssistantItem, LiveReply, ask_assistant, assistant_history};
use crate::markdown::Block;
use crate::session::{MAX_PROMPT_CHARS, PromptInput, PromptLine};
use leptos::prelude::*;

/// What the panel is for, shown open and closed.
const HINT: &str = "Ask about concepts, syntax or edge cases. Requests for the solution are refused and still count.";

/// What the offline assistant is called in the UI.
const OFFLINE: &str = "offline";

/// The exchange being answered: the prompt and what has been shown of the reply.
#[derive(Clone)]
struct Pending {
    prompt: String,
    shown: Vec<Block>,
}

/// What the assistant panel is opened with.
pub struct AssistantSetup {
    pub session_id: String,
    pub budget: u32,
    pub used: u32,
    pub provider: String,
    /// The id of the question on screen (tracked where it is read).
    pub question_id: RwSignal<String>,
}

/// The assistant's place on the test page: closed, with the prompts left, until the candidate
/// opens it; its code is only fetched then (by the room's script, with [`mount_assistant`]).
#[component]
pub fn Assistant(budget: u32, used: u32) -> impl IntoView {
    let left = budget.saturating_sub(used);
    view! {
        <super::OnDemandPanel
            class="assistant"
            title="AI assistant"
            about=format!("{left} of {budget} prompts left. {HINT}")
            open_label="Open the assistant"
        />
    }
}

/// Builds the assistant panel into `slot` (a separate download: see [`Assistant`]).
#[leptos::prelude::lazy]
pub(super) fn mount_assistant(slot: leptos::web_sys::HtmlElement, setup: AssistantSetup) {
    let AssistantSetup {
        session_id,
        budget,
        used,
        provider,
        question_id,
    } = setup;
    leptos::mount::mount_to(slot, move || {
        view! { <AssistantPanel session_id budget used provider question_id /> }
    })
    .forget();
}

#[component]
fn AssistantPanel(
    session_id: String,
    budget: u32,
    used: u32,
    provider: String,
    /// The id of the question on screen (tracked where it is read).
    question_id: RwSignal<String>,
) -> impl IntoView {
    let used = RwSignal::new(used);
    let left = move || budget.saturating_sub(used.get());
    let items = RwSignal::new(Vec::<AssistantItem>::new());
    let sid = StoredValue::new(session_id);
    let history = Resource::new(|| (), move |_| assistant_history(sid.get_value()));
    Effect::new(move |_| {
        if let Some(Ok(list)) = history.get() {
            items.set(list);
        }
    });
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(None::<Pending>);
    let busy = move || pending.with(Option::is_some);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let prompt = draft.get_untracked().trim().to_owned();
        if prompt.is_empty() || pending.with_untracked(Option::is_some) || left() == 0 {
            return;
        }
        let input = PromptInput {
            prompt: prompt.clone(),
            question_id: Some(question_id.get_untracked()),
        };
        error.set(None);
        draft.set(String::new());
        pending.set(Some(Pending {
            prompt: prompt.clone(),
            shown: Vec::new(),
        }));
        leptos::task::spawn_local(async move {
            let outcome = stream_reply(sid.get_value(), input.clone(), pending).await;
            match outcome {
                Ok((reply, markdown)) => {
                    used.try_set(reply.used_prompts);
                    items.try_update(|list| {
                        list.push(AssistantItem {
                            line: PromptLine {
                                question_id: input.question_id,
                                prompt: input.prompt,
                                response: reply.response,
                                was_blocked: reply.was_blocked,
                                reason: reply.reason,
                                provider: reply.provider,
                                timestamp: String::new(),
                            },
                            markdown,
                        })
                    });
                }
                Err(failure) => {
                    if failure.budget_spent {
                        used.try_set(budget);
                    }
                    // The prompt was not answered: it goes back in the box.
                    if draft.try_get_untracked().is_some_and(|d| d.is_empty()) {
                        draft.try_set(prompt);
                    }
                    error.try_set(Some(failure.detail));
                }
            }
            pending.try_set(None);
        });
    };
    let offline = provider == OFFLINE;
    let exchanges = move || {
        let current = question_id.get();
        items.with(|l| {
            l.iter()
                .filter(|item| item.line.question_id.as_deref() == Some(current.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel assistant" aria-labelledby="assistant-title" data-testid="assistant">
            <h2 id="assistant-title">"AI assistant"</h2>
            {offline.then(|| view! {
                <p class="badge offline" data-testid="assistant-offline">"Offline assistant: built-in hints, no AI model connected"</p>
            })}
            <p class="meter-line" data-testid="prompts-left">{move || format!("{} of {budget} prompts left", left())}</p>
            <p class="hint">{HINT}</p>
            <ol class="exchanges" aria-live="polite" data-testid="exchanges">
                {move || exchanges().into_iter().map(|AssistantItem { line, markdown: reply }| {
                    let class = if line.was_blocked { "exchange blocked" } else { "exchange" };
                    view! {
                        <li class=class>
                            <p class="you"><strong>"You: "</strong>{line.prompt}</p>
                            {line.was_blocked.then(|| view! {
                                <p class="blocked-mark" data-testid="blocked-mark">
                                    {format!("Blocked by the gatekeeper: {}", line.reason.unwrap_or_default())}
                                </p>
                            })}
                            <div class="reply" inner_html=to_html(&reply)></div>
                        </li>
                    }
                }).collect_view()}
                {move || pending.get().map(|Pending { prompt, shown }| view! {
                    <li class="exchange live" data-testid="live-exchange">
                        <p class="you"><strong>"You: "</strong>{prompt}</p>
                        <div class="reply" aria-busy="true" inner_html=to_html(&shown)></div>
                        <p class="loading" role="status">"The assistant is answering…"</p>
                    </li>
                })}
            </ol>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <form class="ask" on:submit=submit>
                <label for="assistant-prompt">"Your question to the assistant"</label>
                <textarea id="assistant-prompt" rows="3" maxlength=MAX_PROMPT_CHARS
                    disabled=move || { left() == 0 }
                    aria-describedby="assistant-budget"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                ></textarea>
                <p id="assistant-budget" class="muted">
                    {move || if left() == 0 {
                        "You have used every prompt of this test's budget: the assistant cannot answer more questions.".to_owned()
                    } else {
                        format!("Each question you send uses one of your {} remaining prompts.", left())
                    }}
                </p>
                // `aria-disabled`, not `disabled`, which would take the keyboard focus away from the
                // button just pressed; `submit` ignores it meanwhile.
                <button type="submit" class="button" aria-disabled=move || (left() == 0 || busy()).to_string()>"Ask"</button>
            </form>
        </section>
    }
}

/// Why a prompt got no reply.
struct Failure {
    detail: String,
    /// The budget was already spent (403).
    budget_spent: bool,
}

/// Sends the prompt and shows the reply in `pending` as it streams in; the recorded reply and
/// its Markdown at the end.
async fn stream_reply(
    session_id: String,
    input: PromptInput,
    pending: RwSignal<Option<Pending>>,
) -> Result<(crate::session::PromptReply, Vec<Block>), Failure> {
    use futures_util::StreamExt;
    let lost = || {
        Failure {
        detail: "The connection was lost before the reply was complete. Reload the page to see it in your history.".into(),
        budget_spent: false,
    }
    };
    let stream = ask_assistant(session_id, input)
        .await
        .map_err(|err| Failure {
            budget_spent: err.status == 403,
            detail: err.detail,
        })?;
    let mut stream = stream.into_inner();
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        buffer.extend_from_slice(&chunk.map_err(|_| lost())?);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            match crate::wire::from_json_text::<LiveReply>(&line[..end]) {
                Ok(LiveReply::Partial { markdown }) => {
                    pending.try_update(|p| {
                        if let Some(p) = p {
                            p.shown = markdown;
                        }
                    });
                }
                Ok(LiveReply::Done { reply, markdown }) => return Ok((reply, markdown)),
                Ok(LiveReply::Failed { detail }) => {
                    return Err(Failure {
                        detail,
                        budget_spent: false,
                    });
                }
                Err(_) => return Err(lost()),
            }
        }
    }
    Err(lost())
}
