//! The AI assistant panel of the test page: the prompts left, the exchanges about the open
//! question (refusals marked with their reason), and the prompt box, disabled with an
//! explanation once the budget is spent.

use crate::candidate::{ask_assistant, assistant_history};
use crate::session::{MAX_PROMPT_CHARS, PromptInput, PromptLine, PromptReply};
use leptos::prelude::*;

/// What the offline assistant is called in the UI.
const OFFLINE: &str = "offline";

#[component]
pub fn AssistantPanel(
    session_id: String,
    budget: u32,
    used: u32,
    provider: String,
    /// The id of the question on screen.
    question_id: Signal<String>,
) -> impl IntoView {
    let used = RwSignal::new(used);
    let left = move || budget.saturating_sub(used.get());
    let lines = RwSignal::new(Vec::<PromptLine>::new());
    let sid = StoredValue::new(session_id);
    let history = Resource::new(|| (), move |_| assistant_history(sid.get_value()));
    Effect::new(move |_| {
        if let Some(Ok(list)) = history.get() {
            lines.set(list);
        }
    });
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let ask =
        Action::new_local(move |input: &PromptInput| ask_assistant(sid.get_value(), input.clone()));
    let asked = StoredValue::new(None::<PromptInput>);
    Effect::new(move |_| match ask.value().get() {
        Some(Ok(PromptReply {
            response,
            was_blocked,
            reason,
            used_prompts,
            provider,
            ..
        })) => {
            used.set(used_prompts);
            if let Some(input) = asked.get_value() {
                lines.update(|l| {
                    l.push(PromptLine {
                        question_id: input.question_id,
                        prompt: input.prompt,
                        response,
                        was_blocked,
                        reason,
                        provider,
                        timestamp: String::new(),
                    })
                });
            }
            draft.set(String::new());
            error.set(None);
        }
        Some(Err(err)) => error.set(Some(err.detail)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let prompt = draft.get_untracked().trim().to_owned();
        if prompt.is_empty() || ask.pending().get_untracked() {
            return;
        }
        let input = PromptInput {
            prompt,
            question_id: Some(question_id.get_untracked()),
        };
        asked.set_value(Some(input.clone()));
        ask.dispatch(input);
    };
    let offline = provider == OFFLINE;
    let exchanges = move || {
        let current = question_id.get();
        lines.with(|l| {
            l.iter()
                .filter(|line| line.question_id.as_deref() == Some(current.as_str()))
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
            <p class="hint">"Ask about concepts, syntax or edge cases. Requests for the solution are refused and still count."</p>
            <ol class="exchanges" aria-live="polite" data-testid="exchanges">
                {move || exchanges().into_iter().map(|line| {
                    let class = if line.was_blocked { "exchange blocked" } else { "exchange" };
                    view! {
                        <li class=class>
                            <p class="you"><strong>"You: "</strong>{line.prompt}</p>
                            {line.was_blocked.then(|| view! {
                                <p class="blocked-mark" data-testid="blocked-mark">
                                    {format!("Blocked by the gatekeeper: {}", line.reason.unwrap_or_default())}
                                </p>
                            })}
                            // Text, never HTML: whatever the model writes is shown as written.
                            <div class="reply">{line.response}</div>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || ask.pending().get().then(|| view! { <p class="loading" role="status">"The assistant is thinking…"</p> })}
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
                <button type="submit" class="button" disabled=move || { left() == 0 || ask.pending().get() }>"Ask"</button>
            </form>
        </section>
    }
    .into_any()
}
