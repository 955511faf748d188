//! The candidate's pages: the dashboard (tests to start, past attempts) and the test itself.

use super::account::{RequireRole, use_session};
use super::room::TestRoom;
use super::{list_view, load_failed, score_text, short_time};
use crate::candidate::{
    StartTest, available_tests, my_sessions, session_state, start_test, test_path,
};
use crate::model::Role;
use crate::session::{Scores, SessionStatus};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn CandidateHome() -> impl IntoView {
    let session = use_session();
    view! {
        <RequireRole role=Role::Candidate>
            <Title text="My tests" />
            <section class="panel" aria-labelledby="dashboard-title">
                <h1 id="dashboard-title">"My tests"</h1>
                <p data-testid="dashboard-email">
                    "Signed in as " {move || session.signed_in().map(|user| user.email)}
                </p>
            </section>
            <AvailableTests />
            <MyAttempts />
        </RequireRole>
    }
}

/// The tests open to the candidate, each with its start button (an island).
#[island(lazy)]
fn AvailableTests() -> impl IntoView {
    super::island_ready();
    let tests = Resource::new(|| (), |_| available_tests());
    let start = Action::new_local(|template_id: &String| start_test(template_id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(session)) = start.value().get() {
            super::go(&test_path(&session.session_id));
        }
    });
    view! {
        <section class="panel" aria-labelledby="available-title">
            <h2 id="available-title">"Tests you can take"</h2>
            {move || start.value().get().and_then(Result::err).map(|err| view! {
                <p class="form-error" role="alert">{err.detail}</p>
            })}
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading tests…"</p> }>
                {move || tests.get().map(|result| list_view(result, "No tests are open right now.", move |list| view! {
                        <ul class="cards" data-testid="available-tests">
                            {list.into_iter().map(|t| {
                                let id = t.id.to_string();
                                let label = format!("Start {}", t.title);
                                view! {
                                    <li class="card">
                                        <h3>{t.title.clone()}</h3>
                                        <p>{t.description}</p>
                                        <p class="muted">
                                            {format!("{} questions · {} min · {} AI prompts", t.questions, t.time_limit_minutes, t.prompt_budget)}
                                        </p>
                                        // A plain form until the island wakes up: a click
                                        // before then still starts the test.
                                        <form
                                            method="post"
                                            action=StartTest::url()
                                            on:submit=move |ev| {
                                                ev.prevent_default();
                                                if !untrack(|| super::acting(start)) {
                                                    start.dispatch(id.clone());
                                                }
                                            }
                                        >
                                            <input type="hidden" name="template_id" value=t.id.to_string() />
                                            <button
                                                type="submit"
                                                class="button"
                                                aria-label=label
                                                aria-disabled=move || super::acting(start).to_string()
                                            >
                                                "Start or resume"
                                            </button>
                                        </form>
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
fn MyAttempts() -> impl IntoView {
    let attempts = Resource::new(|| (), |_| my_sessions());
    view! {
        <section class="panel" aria-labelledby="attempts-title">
            <h2 id="attempts-title">"Your attempts"</h2>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading your attempts…"</p> }>
                {move || attempts.get().map(|result| list_view(result, "You have not taken a test yet.", |list| view! {
                        <table class="data" data-testid="attempts">
                            <thead>
                                <tr>
                                    <th scope="col">"Test"</th>
                                    <th scope="col">"Started"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Score"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let href = test_path(&s.session_id);
                                    let action = match s.status {
                                        SessionStatus::InProgress => "Resume",
                                        SessionStatus::Completed => "View result",
                                    };
                                    view! {
                                        <tr>
                                            <th scope="row">{s.title}" "<A href=href>{action}</A></th>
                                            <td><time datetime=s.start_time.clone()>{short_time(&s.start_time)}</time></td>
                                            <td>{s.status.label()}</td>
                                            <td>{score_text(&s.scores)}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }))}
            </Suspense>
        </section>
    }
}

#[component]
pub fn TestPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let state = Resource::new(id, session_state);
    // The open question is kept in the address (`?q=2`), so a reload comes back to it.
    let opened = use_query_map()
        .with_untracked(|q| q.get("q"))
        .and_then(|n| n.parse::<usize>().ok());
    view! {
        <RequireRole role=Role::Candidate>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading your test…"</p> }>
                {move || state.get().map(|result| match result {
                    Err(err) => load_failed("Cannot open this test", err.detail, "/candidate", "Back to my tests"),
                    Ok(session) => {
                        let title = session.title.clone();
                        // A finished test's result is plain HTML: only an open test is an island.
                        let body = match (session.status, session.scores) {
                            (SessionStatus::InProgress, _) => view! {
                                <TestRoom session opened />
                            }.into_any(),
                            (SessionStatus::Completed, Some(scores)) => view! {
                                <ResultPanel title=session.title scores />
                            }.into_any(),
                            (SessionStatus::Completed, None) => view! {
                                <section class="panel" role="status"><p>"This test has ended; its scores are being computed. Reload in a moment."</p></section>
                            }.into_any(),
                        };
                        view! { <Title text=title /> {body} }.into_any()
                    }
                })}
            </Suspense>
        </RequireRole>
    }
}

#[component]
fn ResultPanel(title: String, scores: Scores) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="result-title" data-testid="result">
            <h1 id="result-title">{title}": your result"</h1>
            <p class="total">"Total score "<strong data-testid="total-score">{format!("{:.2}", scores.total_score)}</strong>" / 100"</p>
            <dl class="scores">
                <div><dt>"Accuracy"</dt><dd data-testid="accuracy">{format!("{:.2}", scores.accuracy)}</dd></div>
                <div><dt>"Speed"</dt><dd>{format!("{:.2}", scores.speed_efficiency)}</dd></div>
                <div><dt>"Prompt wellness"</dt><dd>{format!("{:.2}", scores.prompt_wellness)}</dd></div>
            </dl>
            <p><a href="/candidate">"Back to my tests"</a></p>
        </section>
    }
}
