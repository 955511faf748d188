//! The candidate's pages: the dashboard (tests to start, past attempts) and the test itself.

use super::account::{RequireRole, use_session};
use super::assistant::{Assistant, AssistantSetup};
use super::chat::Chat;
use super::{list_view, load_failed, score_text, short_time};
use crate::candidate::{
    available_tests, end_test, my_sessions, report_event, run_examples, save_answer, session_state,
    start_test,
};
use crate::model::Role;
use crate::session::{
    Answer, CandidateQuestion, CandidateQuestionKind, IntegrityKind, RunInput, Scores,
    SessionStatus, SessionView,
};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::Value;
use std::time::Duration;

/// How long typing must pause before an answer is saved.
const AUTOSAVE_DELAY: Duration = Duration::from_millis(700);

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
                                        <button
                                            class="button"
                                            aria-label=label
                                            aria-disabled=move || super::acting(start).to_string()
                                            on:click=move |_| {
                                                if !untrack(|| super::acting(start)) {
                                                    start.dispatch(id.clone());
                                                }
                                            }
                                        >
                                            "Start or resume"
                                        </button>
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

/// The address of a candidate's test page (the test open, or its result).
fn test_path(session_id: &impl std::fmt::Display) -> String {
    format!("/candidate/session/{session_id}")
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
                                <TestRoom room=Room::from(session) opened />
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

/// Where ending the test is: until it ends, the page stays.
#[derive(Clone, Debug, PartialEq)]
enum Ending {
    NotAsked,
    /// Asked; once the server has ended it, the page loads its result.
    UnderWay,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Save {
    Pending,
    Saving,
    Saved,
    Failed(String),
}

/// Milliseconds since the epoch, in the browser.
fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn clock(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds >= 3600 {
        format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    } else {
        format!("{:02}:{:02}", seconds / 60, seconds % 60)
    }
}

fn is_answered(answer: Option<&Answer>) -> bool {
    answer.is_some_and(Answer::is_given)
}

/// Everything one open test needs, shared by its parts. Its questions are known by their index
/// in the test, which is also where each one's state is in `questions`.
#[derive(Clone, Copy)]
struct Test {
    id: StoredValue<String>,
    /// Each question's state, in order. One signal for all of it: the room is small, and every
    /// signal of another value type is more code in the page's download.
    questions: RwSignal<Vec<QuestionState>>,
    block_copy_paste: bool,
    notice: RwSignal<Option<String>>,
}

/// One question of an open test, as the room keeps it.
#[derive(Clone)]
struct QuestionState {
    id: String,
    answer: Option<Answer>,
    save: Option<Save>,
    /// Bumped on every edit, so that only the latest edit's timer saves.
    edits: u64,
}

impl Test {
    /// A test with `room`'s questions and saved answers.
    fn new(room: &Room) -> Self {
        let questions = room
            .questions
            .iter()
            .map(|question| {
                let answer = room
                    .answers
                    .iter()
                    .find(|(id, _)| *id == question.id)
                    .map(|(_, answer)| answer.clone());
                QuestionState {
                    id: question.id.clone(),
                    save: answer.as_ref().map(|_| Save::Saved),
                    answer,
                    edits: 0,
                }
            })
            .collect();
        Self {
            id: StoredValue::new(room.session_id.clone()),
            questions: RwSignal::new(questions),
            block_copy_paste: room.block_copy_paste,
            notice: RwSignal::new(None),
        }
    }

    /// Reads question `question`'s state (tracked), or `None` if the test has no such question.
    fn read<T>(self, question: usize, f: impl FnOnce(Option<&QuestionState>) -> T) -> T {
        self.questions.with(|q| f(q.get(question)))
    }

    /// Reads question `question`'s state without tracking it.
    fn peek<T>(self, question: usize, f: impl FnOnce(Option<&QuestionState>) -> T) -> T {
        self.questions.with_untracked(|q| f(q.get(question)))
    }

    /// Changes question `question`'s state, which exists for every question of the test.
    fn change(self, question: usize, f: impl FnOnce(&mut QuestionState)) {
        self.questions.update(|q| {
            if let Some(state) = q.get_mut(question) {
                f(state);
            }
        });
    }

    fn question_id(self, question: usize) -> String {
        self.peek(question, |q| q.map(|q| q.id.clone()).unwrap_or_default())
    }

    fn latest_edit(self, question: usize) -> u64 {
        self.peek(question, |q| q.map_or(0, |q| q.edits))
    }

    fn save_now(self, question: usize) {
        let Some(answer) = self.peek(question, |q| q.and_then(|q| q.answer.clone())) else {
            return;
        };
        let edit = self.latest_edit(question);
        self.change(question, |q| q.save = Some(Save::Saving));
        let (session_id, question_id) = (self.id.get_value(), self.question_id(question));
        spawn_local(async move {
            let result = save_answer(session_id, question_id, answer).await;
            let state = match result {
                Ok(()) if self.latest_edit(question) == edit => Save::Saved,
                Ok(()) => return,
                Err(err) => Save::Failed(err.detail),
            };
            self.change(question, |q| q.save = Some(state));
        });
    }

    /// Records an edit and saves it once typing pauses.
    fn edit(self, question: usize, answer: Answer) {
        let mut edit = 0;
        self.change(question, |q| {
            q.answer = Some(answer);
            q.save = Some(Save::Pending);
            q.edits += 1;
            edit = q.edits;
        });
        set_timeout(
            move || {
                if self.latest_edit(question) == edit {
                    self.save_now(question);
                }
            },
            AUTOSAVE_DELAY,
        );
    }

    fn report(self, kind: IntegrityKind, detail: Option<String>) {
        let session_id = self.id.get_value();
        spawn_local(async move {
            // Best effort: a lost report must never disturb the candidate.
            let _ = report_event(session_id, kind, detail).await;
        });
    }

    /// Paste and copy in an answer editor: reported, and refused when the test forbids them.
    fn clipboard(self, ev: &leptos::ev::Event, kind: IntegrityKind, question: usize) {
        let question_id = self.question_id(question);
        if self.block_copy_paste {
            ev.prevent_default();
            self.notice.set(Some(
                "Copy and paste are turned off for this test by the recruiter.".into(),
            ));
            self.report(kind, Some(format!("blocked in question {question_id}")));
        } else {
            self.report(kind, Some(format!("in question {question_id}")));
        }
    }
}

/// An open test as its room needs it: the parts of a [`SessionView`] it uses, in shapes that are
/// cheap to read in the browser (the API's questions are flattened and internally tagged, which
/// serde can only read through a buffer). In the page it is a JSON array ([`RoomWire`]): reading
/// a sequence takes far less code than matching field names.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "RoomWire", into = "RoomWire")]
struct Room {
    session_id: String,
    title: String,
    time_left_seconds: i64,
    prompt_budget: u32,
    used_prompts: u32,
    block_copy_paste: bool,
    assistant: String,
    questions: Vec<RoomQuestion>,
    /// Question id and answer.
    answers: Vec<(String, Answer)>,
}

/// [`Room`]'s fields, in order.
type RoomWire = (
    String,
    String,
    i64,
    u32,
    u32,
    bool,
    String,
    Vec<RoomQuestion>,
    Vec<(String, Answer)>,
);

impl From<RoomWire> for Room {
    fn from(wire: RoomWire) -> Self {
        let (
            session_id,
            title,
            time_left_seconds,
            prompt_budget,
            used_prompts,
            block_copy_paste,
            assistant,
            questions,
            answers,
        ) = wire;
        Self {
            session_id,
            title,
            time_left_seconds,
            prompt_budget,
            used_prompts,
            block_copy_paste,
            assistant,
            questions,
            answers,
        }
    }
}

impl From<Room> for RoomWire {
    fn from(room: Room) -> Self {
        (
            room.session_id,
            room.title,
            room.time_left_seconds,
            room.prompt_budget,
            room.used_prompts,
            room.block_copy_paste,
            room.assistant,
            room.questions,
            room.answers,
        )
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "QuestionWire", into = "QuestionWire")]
struct RoomQuestion {
    id: String,
    prompt: String,
    context: Option<String>,
    kind: RoomQuestionKind,
}

/// [`CandidateQuestionKind`] as the room uses it.
#[derive(Clone, Debug, PartialEq)]
enum RoomQuestionKind {
    Coding {
        function_name: String,
        /// The visible examples as calls (`name(1, 2) → 3`), written by the server.
        examples: Vec<String>,
    },
    MultipleChoice {
        options: Vec<String>,
        multiple: bool,
    },
    Theory,
}

/// A [`RoomQuestion`] in the page: id, prompt, context, then its kind as a tag (`c` coding, `m`
/// multiple choice, `t` theory), the function's name, the examples or options, and whether more
/// than one option may be picked.
type QuestionWire = (
    String,
    String,
    Option<String>,
    char,
    String,
    Vec<String>,
    bool,
);

impl From<QuestionWire> for RoomQuestion {
    fn from(wire: QuestionWire) -> Self {
        let (id, prompt, context, tag, function_name, texts, multiple) = wire;
        let kind = match tag {
            'c' => RoomQuestionKind::Coding {
                function_name,
                examples: texts,
            },
            'm' => RoomQuestionKind::MultipleChoice {
                options: texts,
                multiple,
            },
            // Only this crate writes the tag: anything else is the free-text kind, which any
            // answer suits.
            _ => RoomQuestionKind::Theory,
        };
        Self {
            id,
            prompt,
            context,
            kind,
        }
    }
}

impl From<RoomQuestion> for QuestionWire {
    fn from(question: RoomQuestion) -> Self {
        let (tag, function_name, texts, multiple) = match question.kind {
            RoomQuestionKind::Coding {
                function_name,
                examples,
            } => ('c', function_name, examples, false),
            RoomQuestionKind::MultipleChoice { options, multiple } => {
                ('m', String::new(), options, multiple)
            }
            RoomQuestionKind::Theory => ('t', String::new(), Vec::new(), false),
        };
        (
            question.id,
            question.prompt,
            question.context,
            tag,
            function_name,
            texts,
            multiple,
        )
    }
}

impl From<SessionView> for Room {
    fn from(session: SessionView) -> Self {
        Self {
            session_id: session.session_id.to_string(),
            title: session.title,
            time_left_seconds: session.time_left_seconds,
            prompt_budget: session.prompt_budget,
            used_prompts: session.used_prompts,
            block_copy_paste: session.block_copy_paste,
            assistant: session.assistant,
            questions: session
                .questions
                .into_iter()
                .map(RoomQuestion::from)
                .collect(),
            answers: session
                .answers
                .into_iter()
                .filter_map(|a| Some((a.question_id, Answer::from_saved(a.answer)?)))
                .collect(),
        }
    }
}

impl From<CandidateQuestion> for RoomQuestion {
    fn from(question: CandidateQuestion) -> Self {
        let kind = match question.kind {
            CandidateQuestionKind::Coding {
                function_name,
                examples,
            } => RoomQuestionKind::Coding {
                examples: examples
                    .iter()
                    .map(|e| call_text(&function_name, &e.input, &e.expected))
                    .collect(),
                function_name,
            },
            CandidateQuestionKind::MultipleChoice { options, multiple } => {
                RoomQuestionKind::MultipleChoice { options, multiple }
            }
            CandidateQuestionKind::Theory {} => RoomQuestionKind::Theory,
        };
        Self {
            id: question.id,
            prompt: question.prompt,
            context: question.context,
            kind,
        }
    }
}

/// Ends the test and keeps none of the result: the page shows it once reloaded. (A separate
/// download: it is needed once.)
#[leptos::prelude::lazy]
async fn end_now(session_id: String) -> Result<(), crate::error::ApiError> {
    end_test(session_id).await.map(|_scores| ())
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

/// An open test (an island: the page's interactive part). `opened` is the question to show first
/// (1-based).
#[island(lazy)]
fn TestRoom(room: Room, opened: Option<usize>) -> impl IntoView {
    super::island_ready();
    let test = Test::new(&room);
    let total = room.questions.len();
    let chat_session = room.session_id.clone();
    let (session_id, budget, used, provider) = (
        room.session_id.clone(),
        room.prompt_budget,
        room.used_prompts,
        room.assistant.clone(),
    );
    let opened = opened
        .filter(|n| (1..=total).contains(n))
        .map_or(0, |n| n - 1);
    let current = RwSignal::new(opened);
    Effect::new(move |_| {
        let question = current.get() + 1;
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &leptos::wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("?q={question}")),
            );
        }
    });

    // The countdown follows the server's deadline: what was left when the page loaded, counted
    // down by this browser's clock (immune to a wrong system time).
    let left = RwSignal::new(room.time_left_seconds);
    let ending = RwSignal::new(Ending::NotAsked);
    // Ends the test once: the page then shows its result.
    let end = move || {
        if ending.get_untracked() == Ending::UnderWay {
            return;
        }
        ending.set(Ending::UnderWay);
        spawn_local(async move {
            match end_now(test.id.get_value()).await {
                Ok(()) => super::go(&test_path(&test.id.get_value())),
                Err(err) => ending.set(Ending::Failed(err.detail)),
            }
        });
    };
    let confirming = RwSignal::new(false);
    let (end_button, confirm_button) = (
        NodeRef::<leptos::html::Button>::new(),
        NodeRef::<leptos::html::Button>::new(),
    );
    // The question "End the test now?" takes the focus when it appears (`autofocus` only counts
    // as a page loads), and gives it back to "End test" when the candidate keeps working.
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    let keep_working = move || {
        confirming.set(false);
        if let Some(button) = end_button.get_untracked() {
            let _ = button.focus();
        }
    };
    Effect::new(move |_| {
        let loaded_at = now_ms();
        let initial = left.get_untracked();
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let remaining = initial - ((now_ms() - loaded_at) / 1000.0) as i64;
                left.set(remaining.max(0));
                if remaining <= 0 && ending.get_untracked() == Ending::NotAsked {
                    end();
                }
            },
            Duration::from_millis(500),
        ) {
            on_cleanup(move || handle.clear());
        }
    });

    // Integrity: leaving the tab, the window losing focus, leaving full screen.
    Effect::new(move |_| {
        let hidden = window_event_listener_untyped("visibilitychange", move |_| {
            if document().hidden() {
                test.report(IntegrityKind::TabHidden, None);
            }
        });
        let blur = window_event_listener(leptos::ev::blur, move |_| {
            test.report(IntegrityKind::WindowBlur, None);
        });
        let fullscreen = window_event_listener_untyped("fullscreenchange", move |_| {
            if document().fullscreen_element().is_none() {
                test.report(IntegrityKind::FullscreenExit, None);
            }
        });
        on_cleanup(move || {
            hidden.remove();
            blur.remove();
            fullscreen.remove();
        });
    });

    let answered = move || {
        test.questions
            .with(|q| q.iter().filter(|q| is_answered(q.answer.as_ref())).count())
    };
    let saving_state = move || {
        test.questions.with(|q| {
            let mut saves = q.iter().filter_map(|q| q.save.as_ref());
            if let Some(Save::Failed(message)) =
                saves.clone().find(|v| matches!(v, Save::Failed(_)))
            {
                format!("Not saved: {message}")
            } else if saves
                .clone()
                .any(|v| matches!(v, Save::Pending | Save::Saving))
            {
                "Saving…".to_owned()
            } else if saves.next().is_none() {
                "No answers yet".to_owned()
            } else {
                "All answers saved".to_owned()
            }
        })
    };

    super::server_erased(view! {
        <section class="test" aria-labelledby="test-title">
            <header class="test-bar">
                <h1 id="test-title">{room.title.clone()}</h1>
                <p class="timer" role="timer" aria-live="off" data-testid="time-left"
                    class:urgent=move || { left.get() < 60 }>
                    <span class="visually-hidden">"Time left "</span>{move || clock(left.get())}
                </p>
                <p class="save-state" role="status" data-testid="save-state">{saving_state}</p>
                <p class="muted">{move || format!("{} of {total} answered", answered())}</p>
                <button class="button secondary" on:click=|_| {
                    // Leaving full screen again is reported like leaving the tab.
                    if let Some(root) = document().document_element() {
                        let _ = root.request_fullscreen();
                    }
                }>"Full screen"</button>
            </header>
            {move || test.notice.get().map(|text| view! {
                <p class="notice" role="alert">{text}" "
                    <button class="link" on:click=move |_| test.notice.set(None)>"Dismiss"</button>
                </p>
            })}
            <nav class="question-nav" aria-label="Questions">
                <ol>
                    {(0..total).map(|i| {
                        let answered = move || test.read(i, |q| is_answered(q.and_then(|q| q.answer.as_ref())));
                        view! {
                            <li>
                                <button
                                    class="question-link"
                                    class:answered=answered
                                    aria-current=move || (current.get() == i).then_some("step")
                                    on:click=move |_| current.set(i)
                                >
                                    {format!("{}", i + 1)}
                                    <span class="visually-hidden">
                                        {move || if answered() { " (answered)" } else { " (not answered)" }}
                                    </span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </nav>
            // Every question's panel is on the page, the open one shown: switching questions keeps
            // each editor as it was (its undo history, caret and scroll position).
            {room.questions.into_iter().enumerate().map(|(index, question)| view! {
                <QuestionPanel question index total test current />
            }).collect_view()}
            <Chat session_id=chat_session />
            <Assistant setup=AssistantSetup {
                session_id,
                budget,
                used,
                provider,
                question_id: Callback::new(move |()| test.question_id(current.get())),
            } />
            <div class="test-actions">
                // `aria-disabled` at either end, not `disabled`, which would take the keyboard
                // focus away from the button just pressed.
                <button class="button secondary" aria-disabled=move || (current.get() == 0).to_string()
                    on:click=move |_| { if current.get_untracked() > 0 { current.update(|i| *i -= 1) } }>"Previous"</button>
                <button class="button secondary" aria-disabled=move || (current.get() + 1 >= total).to_string()
                    on:click=move |_| { if current.get_untracked() + 1 < total { current.update(|i| *i += 1) } }>"Next"</button>
                <button class="button danger" node_ref=end_button on:click=move |_| confirming.set(true)>"End test"</button>
            </div>
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-modal="false"
                    on:keydown=move |ev| if ev.key() == "Escape" { keep_working() }>
                    <p id="confirm-title">
                        {move || format!("End the test now? You answered {} of {total} questions. You cannot change answers afterwards.", answered())}
                    </p>
                    <button class="button danger" node_ref=confirm_button aria-disabled=move || (ending.get() == Ending::UnderWay).to_string()
                        on:click=move |_| {
                            if ending.get_untracked() == Ending::UnderWay {
                                return;
                            }
                            // Save whatever is still waiting for the debounce first.
                            let waiting: Vec<usize> = test.questions.with_untracked(|q| (0..q.len())
                                .filter(|&i| matches!(q[i].save, Some(Save::Pending)))
                                .collect());
                            for question in waiting { test.save_now(question); }
                            end();
                        }>
                        {move || if ending.get() == Ending::UnderWay { "Ending…" } else { "Yes, end the test" }}
                    </button>
                    <button class="button secondary" on:click=move |_| keep_working()>"Keep working"</button>
                    <p class="form-error" role="alert">
                        {move || ending.with(|e| match e {
                            Ending::Failed(detail) => detail.clone(),
                            _ => String::new(),
                        })}
                    </p>
                </div>
            })}
        </section>
    })
}

#[component]
fn QuestionPanel(
    question: RoomQuestion,
    index: usize,
    total: usize,
    test: Test,
    /// The index of the question open.
    current: RwSignal<usize>,
) -> impl IntoView {
    let id = question.id.clone();
    let heading = format!("Question {} of {total}", index + 1);
    let heading_id = format!("question-heading-{id}");
    let labelled_by = heading_id.clone();
    let editor = match question.kind.clone() {
        RoomQuestionKind::Coding {
            function_name,
            examples,
        } => {
            let starter = question.context.clone().unwrap_or_default();
            EitherOf3::A(
                view! { <CodeEditor question=index starter function_name examples test /> },
            )
        }
        RoomQuestionKind::MultipleChoice { options, multiple } => {
            EitherOf3::B(view! { <Choices question=index options multiple test /> })
        }
        RoomQuestionKind::Theory => EitherOf3::C(view! { <TheoryEditor question=index test /> }),
    };
    let is_coding = matches!(question.kind, RoomQuestionKind::Coding { .. });
    view! {
        <article class="question" hidden=move || current.get() != index aria-labelledby=labelled_by data-question=id.clone()>
            <h2 id=heading_id>{heading}</h2>
            <p class="prompt">{question.prompt.clone()}</p>
            {(!is_coding).then(|| question.context.clone()).flatten().map(|context| view! {
                <pre class="context">{context}</pre>
            })}
            {editor}
            <p class="muted save-one" aria-live="polite">
                {move || match test.read(index, |q| q.and_then(|q| q.save.clone())) {
                    None => String::new(),
                    Some(Save::Pending) | Some(Save::Saving) => "Saving…".into(),
                    Some(Save::Saved) => "Saved".into(),
                    Some(Save::Failed(message)) => format!("Not saved: {message}"),
                }}
            </p>
        </article>
    }
}

/// The text in a question's editor: its answer or, until the candidate writes one, the starter
/// code (which is no answer: the question counts as answered once it is edited).
fn editor_text(test: Test, question: usize, starter: &str) -> String {
    test.read(question, |q| match q.and_then(|q| q.answer.as_ref()) {
        Some(Answer::Text(text)) => text.clone(),
        _ => starter.to_owned(),
    })
}

/// The text answer of a question to render its editor with. In the browser, while the island
/// wakes up, the editor may already hold something else: what the candidate typed meanwhile.
/// That becomes the answer (and is saved).
fn adopt_typed(test: Test, question: usize, editor_id: &str, starter: &str) -> String {
    let saved = untrack(|| editor_text(test, question, starter));
    if let Some(typed) = super::value_before_hydration(editor_id)
        && typed != saved
    {
        adopt_after_hydration(test, question, Answer::Text(typed));
    }
    saved
}

/// Makes `answer`, found in a control as the island woke up, the question's answer, once the
/// island is interactive: hydration takes the page as the server rendered it, so a change made
/// while it runs would not show in the counts and marks that depend on the answers. The editors
/// are not bound to the answers (the control holds what the candidate typed, and hydration
/// leaves it alone).
fn adopt_after_hydration(test: Test, question: usize, answer: Answer) {
    let adopted = StoredValue::new(Some(answer));
    Effect::new(move |_| {
        if let Some(answer) = adopted.try_update_value(Option::take).flatten() {
            test.edit(question, answer);
        }
    });
}

/// The options picked in a choice question's answer (0-based).
fn picked_options(test: Test, question: usize) -> Vec<u32> {
    test.peek(question, |q| match q.and_then(|q| q.answer.as_ref()) {
        Some(Answer::Picked(picked)) => picked.clone(),
        _ => Vec::new(),
    })
}

/// An option's number in an answer (a question has far fewer than `u32::MAX` options).
fn option_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Picks or drops `option` in `picked`, which stays in ascending order without duplicates. (Not
/// `sort`: its code would weigh more than the page's whole use of it.)
fn toggle_option(picked: &mut Vec<u32>, option: u32, on: bool) {
    let at = picked.partition_point(|&p| p < option);
    let there = picked.get(at) == Some(&option);
    if on && !there {
        picked.insert(at, option);
    } else if !on && there {
        picked.remove(at);
    }
}

/// The byte index of a UTF-16 offset (what the DOM's selection positions count).
fn byte_index(text: &str, utf16: u32) -> usize {
    let mut units = 0_u32;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

fn utf16_len(text: &str) -> u32 {
    text.chars().map(|c| c.len_utf16() as u32).sum()
}

#[component]
fn CodeEditor(
    /// The question's index in the test.
    question: usize,
    starter: String,
    function_name: String,
    examples: Vec<String>,
    test: Test,
) -> impl IntoView {
    let question_id = test.question_id(question);
    // The answer is in the page as rendered, and what was typed before the island woke up wins.
    let editor_id = format!("answer-{question_id}");
    let initial = adopt_typed(test, question, &editor_id, &starter);
    let gutter = NodeRef::<leptos::html::Pre>::new();
    // Escape releases the editor: the next Tab moves focus instead of indenting.
    let released = StoredValue::new(false);
    let code = StoredValue::new(starter);
    let value = move || code.with_value(|starter| editor_text(test, question, starter));
    let lines = move || value().lines().count().max(1) + usize::from(value().ends_with('\n'));
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            released.set_value(true);
            return;
        }
        if ev.key() != "Tab" || ev.shift_key() || released.get_value() {
            released.set_value(false);
            return;
        }
        ev.prevent_default();
        let area: leptos::web_sys::HtmlTextAreaElement = event_target(&ev);
        let text = area.value();
        let start = area
            .selection_start()
            .ok()
            .flatten()
            .unwrap_or(utf16_len(&text));
        let end = area.selection_end().ok().flatten().unwrap_or(start);
        let (a, b) = (byte_index(&text, start), byte_index(&text, end));
        let updated = format!("{}  {}", &text[..a], &text[b..]);
        area.set_value(&updated);
        let _ = area.set_selection_range(start + 2, start + 2);
        test.edit(question, Answer::Text(updated));
    };
    let help_id = format!("editor-help-{question_id}");
    let label = format!("Your JavaScript: define {function_name}");
    view! {
        <div class="code-editor">
            <pre class="gutter" aria-hidden="true" node_ref=gutter>
                {move || (1..=lines()).map(|n| format!("{n}\n")).collect::<String>()}
            </pre>
            <textarea
                id=editor_id
                class="code"
                spellcheck="false"
                autocomplete="off"
                aria-label=label
                aria-describedby=help_id.clone()
                data-testid="code-editor"
                on:input=move |ev| test.edit(question, Answer::Text(event_target_value(&ev)))
                on:blur=move |_| test.save_now(question)
                on:keydown=on_keydown
                on:scroll=move |ev| {
                    let area: leptos::web_sys::HtmlTextAreaElement = event_target(&ev);
                    if let Some(gutter) = gutter.get() { gutter.set_scroll_top(area.scroll_top()); }
                }
                on:paste=move |ev| test.clipboard(&ev, IntegrityKind::Paste, question)
                on:copy=move |ev| test.clipboard(&ev, IntegrityKind::Copy, question)
            >{initial}</textarea>
        </div>
        <p class="muted" id=help_id>"Tab indents; press Escape, then Tab, to leave the editor."</p>
        {(!examples.is_empty()).then(|| {
            let run_name = function_name.clone();
            view! {
                <details class="examples">
                    <summary>"Examples"</summary>
                    <ul>
                        {examples.into_iter().map(|call| view! { <li><code>{call}</code></li> }).collect_view()}
                    </ul>
                </details>
                <RunExamples question starter=code.get_value() function_name=run_name test />
            }
        })}
    }
}

/// `name(1, 2) → 3`.
fn call_text(function_name: &str, input: &[Value], expected: &Value) -> String {
    let args = input
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!("{function_name}({args}) → {expected}")
}

/// "Run examples": the code as it is in the editor, on the visible examples only. The button is
/// part of the page; the code that runs the examples and shows the results is fetched on its
/// first click (see [`mount_example_runs`]).
#[component]
fn RunExamples(
    /// The question's index in the test.
    question: usize,
    /// The code in the editor until the candidate edits it.
    starter: String,
    function_name: String,
    test: Test,
) -> impl IntoView {
    // Bumped by each click: the runner runs the code once for each.
    let requests = RwSignal::new(0_u32);
    let busy = RwSignal::new(false);
    let results = NodeRef::<leptos::html::Div>::new();
    let runner = StoredValue::new(ExampleRunner {
        question,
        starter,
        function_name,
        test,
        requests,
        busy,
    });
    super::server_erased(view! {
        <div class="run-examples" data-testid="run-examples">
            // `aria-disabled`, not `disabled`: a disabled button loses the keyboard focus.
            <button type="button" class="button secondary" aria-disabled=move || busy.get().to_string()
                on:click=move |_| {
                    if busy.get_untracked() {
                        return;
                    }
                    busy.set(true);
                    requests.update(|n| *n += 1);
                    // The first click fetches the runner, which then follows the clicks.
                    if requests.get_untracked() == 1
                        && let Some(slot) = results.get_untracked()
                    {
                        let runner = runner.get_value();
                        spawn_local(mount_example_runs(slot.into(), runner));
                    }
                }>
                "Run examples"
            </button>
            // Always there (empty when idle), so that screen readers follow what it says.
            <p class="loading" role="status">
                {move || if busy.get() { "Running your code on the examples…" } else { "" }}
            </p>
            <div aria-live="polite" node_ref=results></div>
        </div>
    })
}

/// What the example runner works with: the question (its code is in the test's answers, or the
/// starter until edited), the clicks on "Run examples" and whether a run is under way (shown by
/// the button).
#[derive(Clone)]
struct ExampleRunner {
    question: usize,
    starter: String,
    function_name: String,
    test: Test,
    requests: RwSignal<u32>,
    busy: RwSignal<bool>,
}

/// Builds the example runner into `slot` (a separate download: see [`RunExamples`]).
#[leptos::prelude::lazy]
fn mount_example_runs(slot: leptos::web_sys::HtmlElement, runner: ExampleRunner) {
    leptos::mount::mount_to(slot, move || example_runs(runner)).forget();
}

/// Runs the code in the editor on the examples for every click on "Run examples" (the first
/// included) and shows the latest results.
fn example_runs(runner: ExampleRunner) -> impl IntoView {
    let ExampleRunner {
        question,
        starter,
        function_name,
        test,
        requests,
        busy,
    } = runner;
    let name = StoredValue::new(function_name);
    let run = Action::new_local(move |code: &String| {
        let input = RunInput {
            question_id: test.question_id(question),
            code: code.clone(),
        };
        let session = test.id.get_value();
        async move { run_examples(session, input).await }
    });
    Effect::new(move |_| {
        requests.track();
        // The code as it is now; editing it does not start a run.
        run.dispatch(untrack(|| editor_text(test, question, &starter)));
    });
    Effect::new(move |_| busy.set(run.pending().get()));
    view! {
        {move || run.value().get().map(|result| match result {
            Err(err) => Either::Left(view! { <p class="form-error" role="alert">{err.detail}</p> }),
            Ok(runs) => {
                let passed = runs.iter().filter(|r| r.passed).count();
                Either::Right(view! {
                    <p class="run-summary" data-testid="run-summary">
                        {format!("{passed} of {} examples passed", runs.len())}
                    </p>
                    <ol class="runs">
                        {runs.into_iter().map(|r| view! {
                            <li class=if r.passed { "run passed" } else { "run failed" }>
                                <strong>{if r.passed { "Passed" } else { "Failed" }}</strong>" "
                                <code>{name.with_value(|n| call_text(n, &r.input, &r.expected))}</code>
                                {r.error.map(|e| view! { <p class="run-error">{e}</p> })}
                                {(!r.output.is_empty()).then(|| view! {
                                    <pre class="run-output" aria-label="Output">{r.output.join("\n")}</pre>
                                })}
                            </li>
                        }).collect_view()}
                    </ol>
                })
            }
        })}
    }
}

#[component]
fn TheoryEditor(question: usize, test: Test) -> impl IntoView {
    let editor_id = format!("answer-{}", test.question_id(question));
    let initial = adopt_typed(test, question, &editor_id, "");
    view! {
        <label class="field">
            <span>"Your answer"</span>
            <textarea
                id=editor_id
                class="theory"
                rows="10"
                data-testid="theory-editor"
                on:input=move |ev| test.edit(question, Answer::Text(event_target_value(&ev)))
                on:blur=move |_| test.save_now(question)
                on:paste=move |ev| test.clipboard(&ev, IntegrityKind::Paste, question)
                on:copy=move |ev| test.clipboard(&ev, IntegrityKind::Copy, question)
            >{initial}</textarea>
        </label>
    }
}

#[component]
fn Choices(question: usize, options: Vec<String>, multiple: bool, test: Test) -> impl IntoView {
    let question_id = test.question_id(question);
    // The options are not bound to the answer: once rendered, each holds what the candidate
    // picked, and hydration leaves them alone (see `adopt_after_hydration`).
    let saved = picked_options(test, question);
    let toggle = move |i: usize, on: bool| {
        let mut picked = picked_options(test, question);
        if multiple {
            toggle_option(&mut picked, option_number(i), on);
        } else {
            picked = vec![option_number(i)];
        }
        test.edit(question, Answer::Picked(picked));
        // A click is a complete answer: no need to wait for more typing.
        test.save_now(question);
    };
    // Options clicked before the island woke up count (see `adopt_typed`); `None` on the server.
    let ticked: Option<Vec<bool>> = (0..options.len())
        .map(|i| super::checked_before_hydration(&format!("choice-{question_id}-{i}")))
        .collect();
    if let Some(ticked) = ticked.filter(|t| !t.is_empty()) {
        let picked: Vec<u32> = (0..ticked.len())
            .filter(|&i| ticked[i])
            .map(option_number)
            .collect();
        if picked != saved {
            adopt_after_hydration(test, question, Answer::Picked(picked));
        }
    }
    let legend = if multiple {
        "Choose all that apply"
    } else {
        "Choose one"
    };
    view! {
        <fieldset class="choices">
            <legend>{legend}</legend>
            {options.into_iter().enumerate().map(|(i, option)| view! {
                <label class="choice">
                    <input
                        type=if multiple { "checkbox" } else { "radio" }
                        id=format!("choice-{question_id}-{i}")
                        name=format!("choice-{question_id}")
                        checked=saved.contains(&option_number(i))
                        on:change=move |ev| toggle(i, event_target_checked(&ev))
                    />
                    <span>{option}</span>
                </label>
            }).collect_view()}
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_offsets_in_utf16_map_to_byte_indexes() {
        let text = "a€😀b";
        assert_eq!(byte_index(text, 0), 0);
        assert_eq!(byte_index(text, 1), 1);
        assert_eq!(byte_index(text, 2), 4, "€ is one UTF-16 unit, three bytes");
        assert_eq!(byte_index(text, 4), 8, "😀 is two units, four bytes");
        assert_eq!(byte_index(text, 99), text.len());
        assert_eq!(utf16_len(text), 5);
    }

    #[test]
    fn options_picked_stay_in_order_once_each() {
        let mut picked = vec![];
        for (option, on, expected) in [
            (2, true, vec![2]),
            (0, true, vec![0, 2]),
            (3, true, vec![0, 2, 3]),
            (2, true, vec![0, 2, 3]),
            (2, false, vec![0, 3]),
            (1, false, vec![0, 3]),
            (0, false, vec![3]),
        ] {
            toggle_option(&mut picked, option, on);
            assert_eq!(picked, expected, "option {option} {on}");
        }
    }

    #[test]
    fn the_room_reaches_the_page_as_arrays_and_comes_back_whole() {
        let question = |id: &str, kind| RoomQuestion {
            id: id.into(),
            prompt: format!("Prompt of {id}"),
            context: Some("function add(a, b) {}".into()),
            kind,
        };
        let room = Room {
            session_id: "s1".into(),
            title: "Warm-up".into(),
            time_left_seconds: 1_200,
            prompt_budget: 5,
            used_prompts: 2,
            block_copy_paste: true,
            assistant: "offline".into(),
            questions: vec![
                question(
                    "q1",
                    RoomQuestionKind::Coding {
                        function_name: "add".into(),
                        examples: vec!["add(1, 2) → 3".into()],
                    },
                ),
                question(
                    "q2",
                    RoomQuestionKind::MultipleChoice {
                        options: vec!["A".into(), "B".into()],
                        multiple: true,
                    },
                ),
                question("q3", RoomQuestionKind::Theory),
            ],
            answers: vec![
                ("q1".into(), Answer::Text("return a + b".into())),
                ("q2".into(), Answer::Picked(vec![0, 1])),
            ],
        };
        let json = serde_json::to_value(&room).expect("a room is JSON");
        assert_eq!(json[0], "s1");
        assert_eq!(json[7][1][3], "m", "the kind is a one-letter tag");
        assert_eq!(json[7][1][5][1], "B");
        let back: Room = serde_json::from_value(json).expect("and reads back");
        assert_eq!(back, room);
    }

    #[test]
    fn the_clock_shows_minutes_and_hours() {
        assert_eq!(clock(0), "00:00");
        assert_eq!(clock(-5), "00:00");
        assert_eq!(clock(61), "01:01");
        assert_eq!(clock(3_725), "1:02:05");
    }
}
