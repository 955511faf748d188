//! Watching sessions live: the recruiter's list of sessions in progress, and the page of one of
//! them that updates without a reload — chat lines, assistant prompts (blocked ones flagged),
//! answer saves, integrity events and the time left.

use super::account::RequireRole;
use super::chat::{clock, speaker_label};
use super::live::{LinkState, use_live};
use super::{list_view, load_failed, short_time};
use crate::live::LiveEvent;
use crate::model::Role;
use crate::recruiter::{live_sessions, load_result};
use crate::session::{IntegrityEvent, PromptLine, ResultDetail, TranscriptLine};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// Sessions of the recruiter's tests in progress, each with a link to watch it.
#[component]
pub fn LiveSessions() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| live_sessions());
    view! {
        <section class="panel" aria-labelledby="live-title">
            <h2 id="live-title">"In progress now"</h2>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading sessions in progress…"</p> }>
                {move || sessions.get().map(|result| list_view(result, "Nobody is taking one of your tests right now.", |list| view! {
                    <ul class="live-list" data-testid="live-sessions">
                        {list.into_iter().map(|s| {
                            let label = format!("Watch {} taking {}", s.candidate_email, s.template_title);
                            view! {
                                <li>
                                    <A href=format!("/recruiter/live/{}", s.session_id) attr:aria-label=label>
                                        {format!("{} — {}", s.candidate_email, s.template_title)}
                                    </A>
                                    " "<span class="muted">{format!("started {}", short_time(&s.start_time))}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }))}
            </Suspense>
        </section>
    }
}

#[component]
pub fn LivePage() -> AnyView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, load_result);
    view! {
        <RequireRole role=Role::Recruiter>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the session…"</p> }>
                {move || detail.get().map(|result| match result {
                    Err(err) => load_failed("Cannot watch this session", err.detail, "/recruiter", "Back to the dashboard"),
                    Ok(detail) => view! {
                        <Title text=live_title(&detail) />
                        <LiveView detail />
                    }.into_any(),
                })}
            </Suspense>
        </RequireRole>
    }
    .into_any()
}

/// One thing that happened, as the feed shows it.
#[derive(Clone, Debug, PartialEq)]
struct Happening {
    /// Identifies it, so that what the page loaded and what the socket sends are shown once.
    key: String,
    /// RFC 3339.
    at: String,
    kind: &'static str,
    label: String,
    text: String,
    /// A blocked prompt, with the gatekeeper's reason.
    blocked: Option<String>,
}

fn chat_happening(line: TranscriptLine) -> Happening {
    Happening {
        key: format!("chat:{}", line.id),
        at: line.timestamp,
        kind: "chat",
        label: speaker_label(line.speaker).to_owned(),
        text: line.message,
        blocked: None,
    }
}

fn prompt_happening(line: PromptLine) -> Happening {
    Happening {
        key: format!("prompt:{}:{}", line.timestamp, line.prompt),
        at: line.timestamp,
        kind: "prompt",
        label: "AI prompt".into(),
        text: line.prompt,
        blocked: line.was_blocked.then(|| line.reason.unwrap_or_default()),
    }
}

fn answer_happening(question: &str, position: Option<usize>, at: String) -> Happening {
    Happening {
        key: format!("answer:{question}:{at}"),
        at,
        kind: "answer",
        label: "Answer saved".into(),
        text: match position {
            Some(n) => format!("Question {n} ({question})"),
            None => format!("Question {question}"),
        },
        blocked: None,
    }
}

fn integrity_happening(event: IntegrityEvent) -> Happening {
    Happening {
        key: format!("integrity:{}:{}", event.timestamp, event.kind.as_str()),
        at: event.timestamp,
        kind: "integrity",
        label: event.kind.label().to_owned(),
        text: event.detail,
        blocked: None,
    }
}

/// Adds what is new, keeping the feed in time order.
fn merge(feed: &mut Vec<Happening>, more: impl IntoIterator<Item = Happening>) {
    for happening in more {
        if !feed.iter().any(|h| h.key == happening.key) {
            feed.push(happening);
        }
    }
    feed.sort_by(|a, b| a.at.cmp(&b.at));
}

fn live_title(detail: &ResultDetail) -> String {
    let s = &detail.summary;
    format!("{} · {} (live)", s.candidate_email, s.template_title)
}

/// The live session (an island): its facts and feed, updated over the session's socket.
#[island(lazy)]
fn LiveView(detail: ResultDetail) -> impl IntoView {
    super::island_ready();
    let s = detail.summary.clone();
    let title = live_title(&detail);
    let positions: Vec<String> = detail
        .questions
        .iter()
        .map(|q| q.question.id.clone())
        .collect();
    let position = StoredValue::new(positions);
    let question_number =
        move |id: &str| position.with_value(|p| p.iter().position(|q| q == id).map(|i| i + 1));
    let mut initial = Vec::new();
    merge(
        &mut initial,
        detail
            .chat
            .into_iter()
            .map(chat_happening)
            .chain(detail.prompts.into_iter().map(prompt_happening))
            .chain(detail.integrity_events.into_iter().map(integrity_happening))
            .chain(detail.questions.iter().enumerate().filter_map(|(i, q)| {
                q.answer
                    .as_ref()
                    .map(|a| answer_happening(&q.question.id, Some(i + 1), a.submitted_at.clone()))
            })),
    );
    let feed = RwSignal::new(initial);
    let used = RwSignal::new(s.used_prompts);
    let blocked = RwSignal::new(s.blocked_prompts);
    let ended = RwSignal::new(detail.status == crate::session::SessionStatus::Completed);
    let link = use_live(s.session_id.to_string(), move |event| {
        let happening = match event {
            LiveEvent::History { messages } => {
                feed.try_update(|f| merge(f, messages.into_iter().map(chat_happening)));
                return;
            }
            LiveEvent::Message(line) => chat_happening(line),
            LiveEvent::Prompt(line) => {
                used.try_update(|u| *u += 1);
                if line.was_blocked {
                    blocked.try_update(|b| *b += 1);
                }
                prompt_happening(line)
            }
            LiveEvent::AnswerSaved {
                question_id,
                timestamp,
            } => answer_happening(&question_id, question_number(&question_id), timestamp),
            LiveEvent::Integrity(event) => integrity_happening(event),
            LiveEvent::Ended { .. } => {
                ended.try_set(true);
                return;
            }
            LiveEvent::Error { .. } => return,
        };
        feed.try_update(|f| merge(f, [happening]));
    });

    // Time left, counted down in the browser from the server's start time and limit (the
    // server renders "…").
    let start = s.start_time.clone();
    let limit_ms = f64::from(detail.time_limit_minutes) * 60_000.0;
    let seconds_left = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        let deadline_ms = js_sys::Date::parse(&start) + limit_ms;
        let tick = move || {
            let left = ((deadline_ms - js_sys::Date::now()) / 1000.0).max(0.0);
            seconds_left.try_set(Some(left as i64));
        };
        tick();
        if let Ok(ticker) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || ticker.clear());
        }
    });
    let time_left = move || {
        if ended.get() {
            return "Ended".to_owned();
        }
        match seconds_left.get() {
            None => "…".to_owned(),
            Some(secs) => format!("{}:{:02}", secs / 60, secs % 60),
        }
    };
    let budget = s.prompt_budget;
    let result_href = format!("/recruiter/results/{}", s.session_id);
    super::server_erased(view! {
        <section class="panel" aria-labelledby="live-view-title" data-testid="live-view">
            <p><a href="/recruiter">"← Dashboard"</a></p>
            <h1 id="live-view-title">{title}</h1>
            <dl class="facts">
                <div><dt>"Time left"</dt><dd data-testid="live-time-left">{time_left}</dd></div>
                <div><dt>"AI prompts"</dt><dd data-testid="live-prompts">{move || format!("{} of {budget} used, {} blocked", used.get(), blocked.get())}</dd></div>
                <div><dt>"Started"</dt><dd><time datetime=s.start_time.clone()>{short_time(&s.start_time)}</time></dd></div>
                <div><dt>"Live updates"</dt><dd class="link-state" role="status" data-testid="live-state">
                    {move || if ended.get() { LinkState::Ended.label() } else { link.state.get().label() }}
                </dd></div>
            </dl>
            {move || ended.get().then(|| view! {
                <p class="notice">"This session has ended. " <a href=result_href.clone()>"See the result"</a></p>
            })}
        </section>
        <section class="panel" aria-labelledby="feed-title">
            <h2 id="feed-title">"What is happening"</h2>
            <ol class="timeline live-feed" aria-live="polite" data-testid="live-feed">
                {move || feed.get().into_iter().map(|h| {
                    let class = format!("happening {}{}", h.kind, if h.blocked.is_some() { " blocked" } else { "" });
                    view! {
                        <li class=class>
                            <time datetime=h.at.clone()>{clock(&h.at)}</time>
                            " "<strong>{h.label}</strong>" "
                            <span class="text">{h.text}</span>
                            {h.blocked.map(|reason| view! {
                                <span class="blocked-mark" data-testid="blocked-mark">{format!(" Blocked: {reason}")}</span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    })
}
