//! An open test: the room the candidate works in. The server renders all of it (every question's
//! panel, the open one shown, the end dialog waiting hidden), and in the browser a script of its
//! own ([`script`], loaded by the [`RoomScript`] island) takes that page over: it keeps the
//! answers, saves them, counts down and reports integrity events by changing the rendered
//! elements in place. No framework view code ships for the room, which keeps the test page's
//! first load small (docs/BENCHMARKS.md); the panels opened on demand (chat, assistant) are
//! Leptos views, fetched when opened.

use super::assistant::Assistant;
use super::chat::Chat;
use crate::session::{Answer, CandidateQuestion, CandidateQuestionKind, SessionView};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use serde_json::Value;

#[cfg(feature = "hydrate")]
mod script;

/// The marker of the room's script: an empty island, so that the page preloads the script's
/// code and marks itself interactive once it runs.
#[island(lazy)]
fn RoomScript() -> impl IntoView {
    super::island_ready();
    #[cfg(feature = "hydrate")]
    script::start();
}

/// `12:05` (or `1:02:05` past an hour) for a number of seconds left.
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

/// What the header says about saving, from each question's save state (`None`: nothing to save).
fn saving_state<'a>(saves: impl Iterator<Item = Option<&'a Save>> + Clone) -> String {
    let mut saves = saves.flatten();
    if let Some(Save::Failed(message)) = saves.clone().find(|s| matches!(s, Save::Failed(_))) {
        format!("Not saved: {message}")
    } else if saves
        .clone()
        .any(|s| matches!(s, Save::Pending | Save::Saving))
    {
        "Saving…".to_owned()
    } else if saves.next().is_none() {
        "No answers yet".to_owned()
    } else {
        "All answers saved".to_owned()
    }
}

/// What one question's panel says about saving its answer.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn save_line(save: Option<&Save>) -> String {
    match save {
        None => String::new(),
        Some(Save::Pending | Save::Saving) => "Saving…".into(),
        Some(Save::Saved) => "Saved".into(),
        Some(Save::Failed(message)) => format!("Not saved: {message}"),
    }
}

/// Where one answer is on its way to the server. (The server renders saved answers only; the
/// helpers marked like this one are the script's, kept here for the server build's tests.)
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
enum Save {
    /// Edited; saved once typing pauses.
    Pending,
    Saving,
    Saved,
    Failed(String),
}

/// `N of T answered`.
fn answered_line(answered: usize, total: usize) -> String {
    format!("{answered} of {total} answered")
}

/// The question on ending the test.
fn confirm_line(answered: usize, total: usize) -> String {
    format!(
        "End the test now? You answered {answered} of {total} questions. You cannot change answers afterwards."
    )
}

/// The code editor's line numbers for `text`.
fn gutter_text(text: &str) -> String {
    let lines = text.lines().count().max(1) + usize::from(text.ends_with('\n'));
    (1..=lines).map(|n| format!("{n}\n")).collect()
}

/// A navigator button's hidden words about its question.
fn answered_mark(answered: bool) -> &'static str {
    if answered {
        " (answered)"
    } else {
        " (not answered)"
    }
}

/// Picks or drops `option` in `picked`, which stays in ascending order without duplicates. (Not
/// `sort`: its code would weigh more than the page's whole use of it.)
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
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
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
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

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn utf16_len(text: &str) -> u32 {
    text.chars().map(|c| c.len_utf16() as u32).sum()
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

/// `"true"` or `"false"`, for `aria-*` attributes.
fn flag(on: bool) -> &'static str {
    if on { "true" } else { "false" }
}

/// The open test `session` as the server renders it, with question `opened` (1-based) shown.
/// Everything the script changes is here in the state the page opens with; the script finds the
/// parts by their `data-*` attributes.
#[component]
pub fn TestRoom(session: SessionView, opened: Option<usize>) -> impl IntoView {
    let total = session.questions.len();
    let current = opened
        .filter(|n| (1..=total).contains(n))
        .map_or(0, |n| n - 1);
    let answers: Vec<Option<Answer>> = session
        .questions
        .iter()
        .map(|question| {
            session
                .answers
                .iter()
                .find(|saved| saved.question_id == question.id)
                .and_then(|saved| Answer::from_saved(saved.answer.clone()))
        })
        .collect();
    let saved = answers.iter().map(|a| a.as_ref().map(|_| &Save::Saved));
    let save_state = saving_state(saved);
    let marks: Vec<bool> = answers.iter().map(|a| is_answered(a.as_ref())).collect();
    let answered = marks.iter().filter(|&&m| m).count();
    let left = session.time_left_seconds;
    let session_id = session.session_id.to_string();
    view! {
        <RoomScript />
        <section
            class="test"
            aria-labelledby="test-title"
            data-room=session_id
            data-left=left
            data-block-copy-paste=session.block_copy_paste.then_some("")
            data-current=current
            data-budget=session.prompt_budget
            data-used=session.used_prompts
            data-provider=session.assistant.clone()
        >
            <header class="test-bar">
                <h1 id="test-title">{session.title}</h1>
                <p class="timer" class:urgent=left < 60 role="timer" aria-live="off" data-testid="time-left" data-timer>
                    <span class="visually-hidden">"Time left "</span><span data-clock>{clock(left)}</span>
                </p>
                <p class="save-state" role="status" data-testid="save-state" data-save-state>{save_state}</p>
                <p class="muted" data-answered>{answered_line(answered, total)}</p>
                <button type="button" class="button secondary" data-fullscreen>"Full screen"</button>
            </header>
            <p class="notice" role="alert" hidden>
                <span data-notice></span>" "
                <button type="button" class="link" data-dismiss>"Dismiss"</button>
            </p>
            <nav class="question-nav" aria-label="Questions">
                <ol>
                    {marks.into_iter().enumerate().map(|(i, answered)| view! {
                        <li>
                            <button
                                type="button"
                                class="question-link"
                                class:answered=answered
                                aria-current=(i == current).then_some("step")
                                data-go=i
                            >
                                {format!("{}", i + 1)}
                                <span class="visually-hidden">{answered_mark(answered)}</span>
                            </button>
                        </li>
                    }).collect_view()}
                </ol>
            </nav>
            // Every question's panel is on the page, the open one shown: switching questions keeps
            // each editor as it was (its undo history, caret and scroll position).
            // (Type-erased: the whole room's view type is nested deeper than the compiler's
            // limits. Only the server renders it, so erasing costs the download nothing.)
            {session.questions.into_iter().zip(answers).enumerate().map(|(index, (question, answer))| view! {
                <QuestionPanel question answer index total shown=index == current />
            }.into_any()).collect_view()}
            <Chat />
            <Assistant budget=session.prompt_budget used=session.used_prompts />
            <div class="test-actions">
                // `aria-disabled` at either end, not `disabled`, which would take the keyboard
                // focus away from the button just pressed.
                <button type="button" class="button secondary" aria-disabled=flag(current == 0) data-step="-1">"Previous"</button>
                <button type="button" class="button secondary" aria-disabled=flag(current + 1 >= total) data-step="1">"Next"</button>
                <button type="button" class="button danger" data-end>"End test"</button>
            </div>
            <div class="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-modal="false" hidden data-confirm>
                <p id="confirm-title">{confirm_line(answered, total)}</p>
                <button type="button" class="button danger" aria-disabled="false" data-end-now>"Yes, end the test"</button>
                <button type="button" class="button secondary" data-keep-working>"Keep working"</button>
                // Always there (empty while nothing failed), so that screen readers follow it.
                <p class="form-error" role="alert" data-end-error></p>
            </div>
        </section>
    }
}

#[component]
fn QuestionPanel(
    question: CandidateQuestion,
    /// Its saved answer.
    answer: Option<Answer>,
    index: usize,
    total: usize,
    shown: bool,
) -> impl IntoView {
    let id = question.id;
    let heading_id = format!("question-heading-{id}");
    let labelled_by = heading_id.clone();
    let saved = answer.is_some();
    let is_coding = matches!(question.kind, CandidateQuestionKind::Coding { .. });
    let context = question.context;
    let editor = match question.kind {
        CandidateQuestionKind::Coding {
            function_name,
            examples,
        } => {
            let examples = examples
                .iter()
                .map(|e| call_text(&function_name, &e.input, &e.expected))
                .collect();
            // The starter code is no answer: the question counts as answered once it is edited.
            let text = match answer {
                Some(Answer::Text(text)) => text,
                _ => context.clone().unwrap_or_default(),
            };
            EitherOf3::A(view! { <CodeEditor id=id.clone() text function_name examples /> })
        }
        CandidateQuestionKind::MultipleChoice { options, multiple } => {
            let picked = match answer {
                Some(Answer::Picked(picked)) => picked,
                _ => Vec::new(),
            };
            EitherOf3::B(view! { <Choices id=id.clone() options multiple picked /> })
        }
        CandidateQuestionKind::Theory {} => {
            let text = match answer {
                Some(Answer::Text(text)) => text,
                _ => String::new(),
            };
            EitherOf3::C(view! { <TheoryEditor id=id.clone() text /> })
        }
    };
    view! {
        <article
            class="question"
            hidden=!shown
            aria-labelledby=labelled_by
            data-question=id
            data-index=index
            data-saved=saved.then_some("")
        >
            <h2 id=heading_id>{format!("Question {} of {total}", index + 1)}</h2>
            <p class="prompt">{question.prompt}</p>
            {(!is_coding).then_some(context).flatten().map(|context| view! {
                <pre class="context">{context}</pre>
            })}
            {editor}
            <p class="muted save-one" aria-live="polite" data-save-line>{saved.then_some("Saved")}</p>
        </article>
    }
}

#[component]
fn CodeEditor(
    id: String,
    text: String,
    function_name: String,
    examples: Vec<String>,
) -> impl IntoView {
    let help_id = format!("editor-help-{id}");
    let label = format!("Your JavaScript: define {function_name}");
    view! {
        <div class="code-editor">
            <pre class="gutter" aria-hidden="true" data-gutter>{gutter_text(&text)}</pre>
            <textarea
                id=format!("answer-{id}")
                class="code"
                spellcheck="false"
                autocomplete="off"
                aria-label=label
                aria-describedby=help_id.clone()
                data-testid="code-editor"
                inner_html=super::text_area_content(&text)
            ></textarea>
        </div>
        <p class="muted" id=help_id>"Tab indents; press Escape, then Tab, to leave the editor."</p>
        {(!examples.is_empty()).then(|| view! {
            <details class="examples">
                <summary>"Examples"</summary>
                <ul>
                    {examples.into_iter().map(|call| view! { <li><code>{call}</code></li> }).collect_view()}
                </ul>
            </details>
            // "Run examples": the code as it is in the editor, on the visible examples only. The
            // code that runs them and shows the results is fetched on the first click.
            <div class="run-examples" data-testid="run-examples" data-function=function_name>
                // `aria-disabled`, not `disabled`: a disabled button loses the keyboard focus.
                <button type="button" class="button secondary" aria-disabled="false" data-run>"Run examples"</button>
                // Always there (empty when idle), so that screen readers follow what it says.
                <p class="loading" role="status" data-run-status></p>
                <div aria-live="polite" data-runs></div>
            </div>
        })}
    }
}

#[component]
fn TheoryEditor(id: String, text: String) -> impl IntoView {
    view! {
        <label class="field">
            <span>"Your answer"</span>
            <textarea id=format!("answer-{id}") class="theory" rows="10" data-testid="theory-editor"
                inner_html=super::text_area_content(&text)></textarea>
        </label>
    }
}

#[component]
fn Choices(id: String, options: Vec<String>, multiple: bool, picked: Vec<u32>) -> impl IntoView {
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
                        id=format!("choice-{id}-{i}")
                        name=format!("choice-{id}")
                        checked=u32::try_from(i).is_ok_and(|i| picked.contains(&i))
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
    fn the_header_says_the_worst_save_state() {
        let (pending, saved, failed) = (Save::Pending, Save::Saved, Save::Failed("offline".into()));
        assert_eq!(saving_state([None, None].into_iter()), "No answers yet");
        assert_eq!(
            saving_state([None, Some(&saved)].into_iter()),
            "All answers saved"
        );
        assert_eq!(
            saving_state([Some(&saved), Some(&pending)].into_iter()),
            "Saving…"
        );
        assert_eq!(
            saving_state([Some(&failed), Some(&pending)].into_iter()),
            "Not saved: offline"
        );
        assert_eq!(save_line(None), "");
        assert_eq!(save_line(Some(&failed)), "Not saved: offline");
    }

    #[test]
    fn the_gutter_numbers_every_line_the_editor_shows() {
        assert_eq!(gutter_text(""), "1\n");
        assert_eq!(gutter_text("a"), "1\n");
        assert_eq!(gutter_text("a\n"), "1\n2\n");
        assert_eq!(gutter_text("a\nb"), "1\n2\n");
    }

    #[test]
    fn the_clock_shows_minutes_and_hours() {
        assert_eq!(clock(0), "00:00");
        assert_eq!(clock(-5), "00:00");
        assert_eq!(clock(61), "01:01");
        assert_eq!(clock(3_725), "1:02:05");
    }
}
