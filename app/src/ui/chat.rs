//! The interviewer chat panel of the test page: the conversation so far, the connection's state
//! (it reconnects by itself), and a message box usable from the keyboard (Enter sends).

// The open panel is built in the browser only (the test room's script mounts it); the server
// renders its closed place. So the server build uses none of the panel's code.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use super::live::{LinkState, use_live};
use crate::live::{LiveEvent, MAX_CHAT_CHARS};
use crate::model::Speaker;
use crate::session::TranscriptLine;
use leptos::prelude::*;

/// What the panel is for, shown open and closed.
const HINT: &str =
    "Ask about time, prompts, rules or scoring. The interviewer does not help with the answers.";

pub fn speaker_label(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::Candidate => "Candidate",
        Speaker::Interviewer => "Interviewer",
        Speaker::System => "System",
    }
}

/// Time of day (`HH:MM`, UTC) of an RFC 3339 timestamp.
pub fn clock(rfc3339: &str) -> String {
    rfc3339.get(11..16).unwrap_or_default().to_owned()
}

/// The interviewer chat's place on the test page: closed until the candidate opens it (the
/// interviewer only ever answers the candidate); its code is only fetched then (by the room's
/// script, with [`mount_chat`]).
#[component]
pub fn Chat() -> impl IntoView {
    view! {
        <super::OnDemandPanel class="chat" title="Interviewer" about=HINT open_label="Open the chat" />
    }
}

/// Builds the chat panel into `slot` (a separate download: see [`Chat`]).
#[leptos::prelude::lazy]
pub(super) fn mount_chat(slot: leptos::web_sys::HtmlElement, session_id: String) {
    leptos::mount::mount_to(slot, move || view! { <ChatPanel session_id /> }).forget();
}

#[component]
fn ChatPanel(session_id: String) -> impl IntoView {
    let lines = RwSignal::new(Vec::<TranscriptLine>::new());
    let error = RwSignal::new(None::<String>);
    let link = use_live(session_id, move |event| match event {
        LiveEvent::History { messages } => {
            lines.try_set(messages);
        }
        LiveEvent::Message(line) => {
            lines.try_update(|all| {
                if !all.iter().any(|l| l.id == line.id) {
                    all.push(line);
                }
            });
        }
        LiveEvent::Error { detail } => {
            error.try_set(Some(detail));
        }
        _ => {}
    });
    let draft = RwSignal::new(String::new());
    let open = move || link.state.get() == LinkState::Open;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked().trim().to_owned();
        if text.is_empty() {
            return;
        }
        if link.send(text) {
            draft.set(String::new());
            error.set(None);
        } else {
            // The text stays in the box.
            error.set(Some(
                "Not connected: the message was not sent. Send it again once the connection is back."
                    .into(),
            ));
        }
    };
    view! {
        <section class="panel chat" aria-labelledby="chat-title" data-testid="chat">
            <h2 id="chat-title">"Interviewer"</h2>
            <p class="hint">{HINT}</p>
            <p class="link-state" class:warn=move || !open() role="status" data-testid="chat-state">
                {move || link.state.get().label()}
            </p>
            <ol class="chat-lines" aria-live="polite" data-testid="chat-lines">
                {move || lines.get().into_iter().map(|line| {
                    let mine = line.speaker == Speaker::Candidate;
                    view! {
                        <li class="chat-line" class:mine=mine>
                            <span class="who">{if mine { "You" } else { speaker_label(line.speaker) }}</span>
                            <time datetime=line.timestamp.clone()>{clock(&line.timestamp)}</time>
                            <p>{line.message}</p>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <form class="chat-form" on:submit=submit>
                <label for="chat-input" class="visually-hidden">"Message to the interviewer"</label>
                <input id="chat-input" type="text" maxlength=MAX_CHAT_CHARS autocomplete="off"
                    placeholder="Message to the interviewer"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev)) />
                <button type="submit" class="button" disabled=move || !open()>"Send"</button>
            </form>
        </section>
    }
}
