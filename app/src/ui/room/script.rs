//! The open test in the browser: the room the server rendered (see [`super::TestRoom`]) made
//! interactive by hand. One state ([`Room`]) holds what the candidate has done; every change goes
//! through it and ends in [`Room::show`], which brings the rendered elements up to date. The
//! listeners sit on the room's root (events bubble up to it), the window (integrity events) and
//! one timer (the countdown).
//!
//! Handlers borrow the state only while they change it and let it go before anything that could
//! send an event back into the room synchronously (moving the focus, above all).

use super::{
    Save, answered_line, answered_mark, byte_index, call_text, clock, confirm_line, flag,
    gutter_text, is_answered, save_line, saving_state, toggle_option, utf16_len,
};
use crate::candidate::{end_test, report_event, run_examples, save_answer};
use crate::session::{Answer, IntegrityKind, RunInput};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::{JsCast, closure::Closure};
use leptos::web_sys::{
    Element, Event, EventTarget, HtmlElement, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// How long typing must pause before an answer is saved.
const AUTOSAVE_DELAY: Duration = Duration::from_millis(700);

/// Finds the rendered room and takes it over; does nothing on a page without one.
pub fn start() {
    let Some(root) = document().query_selector("[data-room]").ok().flatten() else {
        return;
    };
    let Some(room) = Room::find(&root) else {
        return;
    };
    let left = attribute(&root, "data-left").unwrap_or(0);
    let room = Shared(Rc::new(RefCell::new(room)));
    room.adopt_typed();
    room.listen(&root);
    room.count_down(left);
    room.watch_integrity();
    room.reopen_panels();
}

/// Where ending the test is: until it ends, the page stays.
#[derive(Clone, Debug, PartialEq)]
enum Ending {
    NotAsked,
    /// Asked; once the server has ended it, the page loads its result.
    UnderWay,
    Failed(String),
}

/// A question's answer control.
enum Editor {
    /// Code (with its line numbers) or free text.
    Text {
        area: HtmlTextAreaElement,
        gutter: Option<Element>,
        /// Escape was pressed: the next Tab leaves the editor instead of indenting.
        released: bool,
    },
    Choices {
        inputs: Vec<HtmlInputElement>,
        multiple: bool,
    },
}

impl Editor {
    /// The answer as the server rendered it (the control's default).
    fn rendered(&self) -> Answer {
        match self {
            Editor::Text { area, .. } => Answer::Text(area.default_value().unwrap_or_default()),
            Editor::Choices { inputs, .. } => {
                Answer::Picked(picked(inputs, |i| i.default_checked()))
            }
        }
    }

    /// The answer as the control holds it now.
    fn current(&self) -> Answer {
        match self {
            Editor::Text { area, .. } => Answer::Text(area.value()),
            Editor::Choices { inputs, .. } => Answer::Picked(picked(inputs, |i| i.checked())),
        }
    }
}

/// The numbers of the options for which `on` holds.
fn picked(inputs: &[HtmlInputElement], on: impl Fn(&HtmlInputElement) -> bool) -> Vec<u32> {
    (0..inputs.len())
        .filter(|&i| on(&inputs[i]))
        .filter_map(|i| u32::try_from(i).ok())
        .collect()
}

/// "Run examples" of a coding question.
struct Runner {
    button: Element,
    status: Element,
    slot: HtmlElement,
    function_name: String,
    busy: bool,
}

struct Question {
    id: String,
    panel: Element,
    /// Its button in the navigator, and the hidden words there saying whether it is answered.
    nav: Element,
    nav_mark: Element,
    save_line: Element,
    editor: Editor,
    answer: Option<Answer>,
    save: Option<Save>,
    /// Bumped on every edit, so that only the latest edit's timer saves.
    edits: u64,
    runner: Option<Runner>,
}

impl Question {
    fn find(panel: Element, nav: Element) -> Option<Self> {
        let editor = match first(&panel, "textarea") {
            Some(area) => Editor::Text {
                area: area.dyn_into().ok()?,
                gutter: first(&panel, "[data-gutter]"),
                released: false,
            },
            None => {
                let inputs: Vec<HtmlInputElement> = all(&panel, "input")
                    .into_iter()
                    .filter_map(|input| input.dyn_into().ok())
                    .collect();
                let multiple = inputs.first().is_some_and(|i| i.type_() == "checkbox");
                Editor::Choices { inputs, multiple }
            }
        };
        let runner = match first(&panel, "[data-run]") {
            Some(button) => Some(Runner {
                status: first(&panel, "[data-run-status]")?,
                slot: first(&panel, "[data-runs]")?.dyn_into().ok()?,
                function_name: first(&panel, "[data-function]")?.get_attribute("data-function")?,
                button,
                busy: false,
            }),
            None => None,
        };
        let saved = panel.has_attribute("data-saved");
        Some(Self {
            id: panel.get_attribute("data-question")?,
            nav_mark: first(&nav, "span")?,
            save_line: first(&panel, "[data-save-line]")?,
            answer: saved.then(|| editor.rendered()),
            save: saved.then_some(Save::Saved),
            editor,
            edits: 0,
            runner,
            panel,
            nav,
        })
    }
}

/// A panel opened on demand (the chat, the assistant): closed, its code fetched on opening.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Closed,
    Opening,
    Open,
}

struct Panel {
    /// `chat` or `assistant`.
    kind: &'static str,
    /// Where the open panel goes.
    slot: HtmlElement,
    /// The closed panel and its button, with the button's text as rendered.
    closed: Element,
    button: Element,
    label: String,
    /// Its name in the tab's session storage while it is open (it opens again after a reload).
    remember: String,
    stage: Stage,
}

/// The parts of the room that change, besides the questions and panels.
struct Parts {
    timer: Element,
    clock: Element,
    save_state: Element,
    answered: Element,
    notice: Element,
    notice_text: Element,
    previous: Element,
    next: Element,
    end: HtmlElement,
    confirm: Element,
    confirm_text: Element,
    end_now: HtmlElement,
    end_error: Element,
}

struct Room {
    session_id: String,
    block_copy_paste: bool,
    budget: u32,
    used: u32,
    provider: String,
    parts: Parts,
    questions: Vec<Question>,
    panels: Vec<Panel>,
    /// The index of the question on screen.
    current: usize,
    confirming: bool,
    ending: Ending,
    notice: Option<String>,
    /// The id of the question on screen, which the assistant's panel follows.
    on_screen: RwSignal<String>,
}

impl Room {
    fn find(root: &Element) -> Option<Self> {
        let parts = Parts {
            timer: first(root, "[data-timer]")?,
            clock: first(root, "[data-clock]")?,
            save_state: first(root, "[data-save-state]")?,
            answered: first(root, "[data-answered]")?,
            notice: first(root, ".notice")?,
            notice_text: first(root, "[data-notice]")?,
            previous: first(root, "[data-step='-1']")?,
            next: first(root, "[data-step='1']")?,
            end: first(root, "[data-end]")?.dyn_into().ok()?,
            confirm: first(root, "[data-confirm]")?,
            confirm_text: first(root, "#confirm-title")?,
            end_now: first(root, "[data-end-now]")?.dyn_into().ok()?,
            end_error: first(root, "[data-end-error]")?,
        };
        let questions = all(root, "article.question")
            .into_iter()
            .zip(all(root, "[data-go]"))
            .map(|(panel, nav)| Question::find(panel, nav))
            .collect::<Option<Vec<_>>>()?;
        let session_id = root.get_attribute("data-room")?;
        let panels = ["chat", "assistant"]
            .into_iter()
            .filter_map(|kind| {
                let button = first(root, &format!("[data-open={kind}]"))?;
                Some(Panel {
                    kind,
                    slot: first(root, &format!("[data-slot={kind}]"))?
                        .dyn_into()
                        .ok()?,
                    closed: first(root, &format!("[data-closed={kind}]"))?,
                    label: button.text_content().unwrap_or_default(),
                    remember: format!("assess.{kind}.{session_id}"),
                    button,
                    stage: Stage::Closed,
                })
            })
            .collect();
        let current = attribute(root, "data-current")
            .unwrap_or(0)
            .min(questions.len().saturating_sub(1));
        let on_screen = questions.get(current).map(|q| q.id.clone());
        Some(Self {
            session_id,
            block_copy_paste: root.has_attribute("data-block-copy-paste"),
            budget: attribute(root, "data-budget").unwrap_or(0),
            used: attribute(root, "data-used").unwrap_or(0),
            provider: root.get_attribute("data-provider").unwrap_or_default(),
            parts,
            questions,
            panels,
            current,
            confirming: false,
            ending: Ending::NotAsked,
            notice: None,
            on_screen: RwSignal::new(on_screen.unwrap_or_default()),
        })
    }

    fn answered(&self) -> usize {
        self.questions
            .iter()
            .filter(|q| is_answered(q.answer.as_ref()))
            .count()
    }

    /// Brings every changing part of the room up to date with the state.
    fn show(&self) {
        let total = self.questions.len();
        for (i, q) in self.questions.iter().enumerate() {
            let answered = is_answered(q.answer.as_ref());
            toggle(&q.panel, "hidden", i != self.current);
            let _ = q.nav.class_list().toggle_with_force("answered", answered);
            match i == self.current {
                true => set(&q.nav, "aria-current", "step"),
                false => {
                    let _ = q.nav.remove_attribute("aria-current");
                }
            }
            text(&q.nav_mark, answered_mark(answered));
            text(&q.save_line, &save_line(q.save.as_ref()));
            if let Some(runner) = &q.runner {
                set(&runner.button, "aria-disabled", flag(runner.busy));
                let running = if runner.busy {
                    "Running your code on the examples…"
                } else {
                    ""
                };
                text(&runner.status, running);
            }
        }
        let p = &self.parts;
        text(
            &p.save_state,
            &saving_state(self.questions.iter().map(|q| q.save.as_ref())),
        );
        let answered = self.answered();
        text(&p.answered, &answered_line(answered, total));
        set(&p.previous, "aria-disabled", flag(self.current == 0));
        set(&p.next, "aria-disabled", flag(self.current + 1 >= total));
        toggle(&p.notice, "hidden", self.notice.is_none());
        text(&p.notice_text, self.notice.as_deref().unwrap_or_default());
        toggle(&p.confirm, "hidden", !self.confirming);
        text(&p.confirm_text, &confirm_line(answered, total));
        let under_way = self.ending == Ending::UnderWay;
        set(&p.end_now, "aria-disabled", flag(under_way));
        text(
            &p.end_now,
            if under_way {
                "Ending…"
            } else {
                "Yes, end the test"
            },
        );
        let failed = match &self.ending {
            Ending::Failed(detail) => detail.as_str(),
            _ => "",
        };
        text(&p.end_error, failed);
        for panel in &self.panels {
            let opening = panel.stage == Stage::Opening;
            set(&panel.button, "aria-disabled", flag(opening));
            set(&panel.button, "aria-busy", flag(opening));
            text(
                &panel.button,
                if opening { "Opening…" } else { &panel.label },
            );
        }
    }
}

/// The room's state, shared by its listeners.
#[derive(Clone)]
struct Shared(Rc<RefCell<Room>>);

impl Shared {
    /// Changes the state with `f`, then shows it. `None` when the state is in use (an event sent
    /// synchronously by a change being shown), which handlers treat as nothing to do.
    fn change<T>(&self, f: impl FnOnce(&mut Room) -> T) -> Option<T> {
        let mut room = self.0.try_borrow_mut().ok()?;
        let out = f(&mut room);
        room.show();
        Some(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Room) -> T) -> Option<T> {
        self.0.try_borrow().ok().map(|room| f(&room))
    }

    /// What the candidate changed in the controls before the script ran becomes their answer
    /// (and is saved): the page is usable, as rendered, from the start.
    fn adopt_typed(&self) {
        let changed: Vec<(usize, Answer)> = self
            .read(|room| {
                room.questions
                    .iter()
                    .enumerate()
                    .filter_map(|(i, q)| {
                        let now = q.editor.current();
                        let rendered = q.answer.clone().unwrap_or_else(|| q.editor.rendered());
                        (now != rendered).then_some((i, now))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (question, answer) in changed {
            self.edit(question, answer);
        }
        self.read(Room::show);
    }

    /// Records an edit of question `question` and saves it once typing pauses.
    fn edit(&self, question: usize, answer: Answer) {
        let edit = self.change(|room| {
            let q = room.questions.get_mut(question)?;
            if let (
                Editor::Text {
                    gutter: Some(gutter),
                    ..
                },
                Answer::Text(code),
            ) = (&q.editor, &answer)
            {
                text(gutter, &gutter_text(code));
            }
            q.answer = Some(answer);
            q.save = Some(Save::Pending);
            q.edits += 1;
            Some(q.edits)
        });
        let Some(Some(edit)) = edit else {
            return;
        };
        let room = self.clone();
        set_timeout(
            move || {
                if room.latest_edit(question) == Some(edit) {
                    room.save_now(question);
                }
            },
            AUTOSAVE_DELAY,
        );
    }

    fn latest_edit(&self, question: usize) -> Option<u64> {
        self.read(|room| room.questions.get(question).map(|q| q.edits))
            .flatten()
    }

    fn save_now(&self, question: usize) {
        let call = self.change(|room| {
            let session_id = room.session_id.clone();
            let q = room.questions.get_mut(question)?;
            let answer = q.answer.clone()?;
            q.save = Some(Save::Saving);
            Some((session_id, q.id.clone(), answer, q.edits))
        });
        let Some(Some((session_id, question_id, answer, edit))) = call else {
            return;
        };
        let room = self.clone();
        spawn_local(async move {
            let state = match save_answer(session_id, question_id, answer).await {
                // A later edit is saved by its own timer.
                Ok(()) if room.latest_edit(question) != Some(edit) => return,
                Ok(()) => Save::Saved,
                Err(err) => Save::Failed(err.detail),
            };
            room.change(|r| {
                if let Some(q) = r.questions.get_mut(question) {
                    q.save = Some(state);
                }
            });
        });
    }

    fn report(&self, kind: IntegrityKind, detail: Option<String>) {
        let Some(session_id) = self.read(|room| room.session_id.clone()) else {
            return;
        };
        spawn_local(async move {
            // Best effort: a lost report must never disturb the candidate.
            let _ = report_event(session_id, kind, detail).await;
        });
    }

    /// Paste and copy in an answer editor: reported, and refused when the test forbids them.
    fn clipboard(&self, ev: &Event, kind: IntegrityKind, question: usize) {
        let Some((blocked, id)) = self.read(|room| {
            let id = room.questions.get(question).map(|q| q.id.clone());
            (room.block_copy_paste, id.unwrap_or_default())
        }) else {
            return;
        };
        if blocked {
            ev.prevent_default();
            self.change(|room| {
                room.notice =
                    Some("Copy and paste are turned off for this test by the recruiter.".into());
            });
            self.report(kind, Some(format!("blocked in question {id}")));
        } else {
            self.report(kind, Some(format!("in question {id}")));
        }
    }

    /// Shows question `question`, keeping its number in the address (`?q=2`) for a reload.
    fn go(&self, question: usize) {
        let on_screen = self.change(|room| {
            let q = room.questions.get(question)?;
            room.current = question;
            Some((room.on_screen, q.id.clone()))
        });
        if let Some(Some((on_screen, id))) = on_screen {
            on_screen.set(id);
            if let Ok(history) = window().history() {
                let _ = history.replace_state_with_url(
                    &leptos::wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&format!("?q={}", question + 1)),
                );
            }
        }
    }

    /// Ends the test once; the page then loads its result.
    fn end(&self) {
        let session_id = self.change(|room| {
            if room.ending == Ending::UnderWay {
                return None;
            }
            room.ending = Ending::UnderWay;
            Some(room.session_id.clone())
        });
        let Some(Some(session_id)) = session_id else {
            return;
        };
        let room = self.clone();
        spawn_local(async move {
            match end_now(session_id.clone()).await {
                Ok(()) => super::super::go(&format!("/candidate/session/{session_id}")),
                Err(err) => {
                    room.change(|r| r.ending = Ending::Failed(err.detail));
                }
            }
        });
    }

    /// "Yes, end the test": whatever is still waiting for the pause in typing is saved first.
    fn confirm_end(&self) {
        let waiting = self.read(|room| {
            if room.ending == Ending::UnderWay {
                return None;
            }
            Some(
                (0..room.questions.len())
                    .filter(|&i| room.questions[i].save == Some(Save::Pending))
                    .collect::<Vec<_>>(),
            )
        });
        let Some(Some(waiting)) = waiting else {
            return;
        };
        for question in waiting {
            self.save_now(question);
        }
        self.end();
    }

    /// Asks "End the test now?" (`true`) with the focus on the answer that ends it, or puts the
    /// question away and gives the focus back to "End test".
    fn confirming(&self, asking: bool) {
        let focus = self.change(|room| {
            room.confirming = asking;
            match asking {
                true => room.parts.end_now.clone(),
                false => room.parts.end.clone(),
            }
        });
        if let Some(element) = focus {
            let _ = element.focus();
        }
    }

    fn run_examples(&self, question: usize) {
        let call = self.change(|room| {
            let session_id = room.session_id.clone();
            let q = room.questions.get_mut(question)?;
            let code = match &q.editor {
                Editor::Text { area, .. } => area.value(),
                Editor::Choices { .. } => return None,
            };
            let runner = q.runner.as_mut().filter(|r| !r.busy)?;
            runner.busy = true;
            Some((
                runner.slot.clone(),
                session_id,
                q.id.clone(),
                runner.function_name.clone(),
                code,
            ))
        });
        let Some(Some((slot, session_id, question_id, function_name, code))) = call else {
            return;
        };
        let room = self.clone();
        spawn_local(async move {
            show_runs(slot, session_id, question_id, function_name, code).await;
            room.change(|r| {
                if let Some(runner) = r
                    .questions
                    .get_mut(question)
                    .and_then(|q| q.runner.as_mut())
                {
                    runner.busy = false;
                }
            });
        });
    }

    /// Opens panel `index` (fetching its code); `focus` puts the focus in its first field.
    fn open_panel(&self, index: usize, focus: bool) {
        let opening = self.change(|room| {
            let (session_id, setup) = (
                room.session_id.clone(),
                super::super::assistant::AssistantSetup {
                    session_id: room.session_id.clone(),
                    budget: room.budget,
                    used: room.used,
                    provider: room.provider.clone(),
                    question_id: room.on_screen,
                },
            );
            let panel = room.panels.get_mut(index)?;
            if panel.stage != Stage::Closed {
                return None;
            }
            panel.stage = Stage::Opening;
            let remember = panel.remember.clone();
            Some((panel.kind, panel.slot.clone(), remember, session_id, setup))
        });
        let Some(Some((kind, slot, remember, session_id, setup))) = opening else {
            return;
        };
        let room = self.clone();
        spawn_local(async move {
            match kind {
                "chat" => super::super::chat::mount_chat(slot.clone(), session_id).await,
                _ => super::super::assistant::mount_assistant(slot.clone(), setup).await,
            }
            room.change(|r| {
                if let Some(panel) = r.panels.get_mut(index) {
                    panel.stage = Stage::Open;
                    panel.closed.remove();
                }
            });
            if let Ok(Some(storage)) = window().session_storage() {
                let _ = storage.set_item(&remember, "open");
            }
            if focus
                && let Some(field) = first(&slot, "textarea, input")
                && let Ok(field) = field.dyn_into::<HtmlElement>()
            {
                let _ = field.focus();
            }
        });
    }

    /// Panels left open open again by themselves after a reload of the tab.
    fn reopen_panels(&self) {
        let Some(kinds) = self.read(|room| {
            room.panels
                .iter()
                .map(|p| p.remember.clone())
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        let Ok(Some(storage)) = window().session_storage() else {
            return;
        };
        for (index, key) in kinds.iter().enumerate() {
            if storage.get_item(key).ok().flatten().is_some() {
                self.open_panel(index, false);
            }
        }
    }

    /// The countdown follows the server's deadline: `left` seconds when the page loaded, counted
    /// down by this browser's clock (immune to a wrong system time). At zero the test ends.
    fn count_down(&self, left: i64) {
        let loaded_at = js_sys::Date::now();
        let room = self.clone();
        set_interval(
            move || {
                let remaining = (left - ((js_sys::Date::now() - loaded_at) / 1000.0) as i64).max(0);
                let ending = room.read(|r| {
                    text(&r.parts.clock, &clock(remaining));
                    let _ = r
                        .parts
                        .timer
                        .class_list()
                        .toggle_with_force("urgent", remaining < 60);
                    r.ending == Ending::NotAsked
                });
                if remaining == 0 && ending == Some(true) {
                    room.end();
                }
            },
            Duration::from_millis(500),
        );
    }

    /// Integrity: leaving the tab, the window losing focus, leaving full screen.
    fn watch_integrity(&self) {
        let room = self.clone();
        let _ = window_event_listener_untyped("visibilitychange", move |_| {
            if document().hidden() {
                room.report(IntegrityKind::TabHidden, None);
            }
        });
        let room = self.clone();
        let _ = window_event_listener_untyped("blur", move |_| {
            room.report(IntegrityKind::WindowBlur, None);
        });
        let room = self.clone();
        let _ = window_event_listener_untyped("fullscreenchange", move |_| {
            if document().fullscreen_element().is_none() {
                room.report(IntegrityKind::FullscreenExit, None);
            }
        });
    }

    /// The room's listeners, on its root: every event of its controls bubbles up to it (scroll
    /// does not bubble: it is caught on its way down).
    fn listen(&self, root: &Element) {
        let room = self.clone();
        on(root, "click", false, move |ev| room.on_click(&ev));
        let room = self.clone();
        on(root, "input", false, move |ev| room.on_input(&ev));
        let room = self.clone();
        on(root, "change", false, move |ev| room.on_change(&ev));
        let room = self.clone();
        on(root, "focusout", false, move |ev| {
            if let Some((question, _)) = question_area(&ev) {
                // Deferred: moving the focus may happen while the state is being shown.
                let room = room.clone();
                spawn_local(async move { room.save_now(question) });
            }
        });
        let room = self.clone();
        on(root, "keydown", false, move |ev| room.on_keydown(&ev));
        let room = self.clone();
        on(root, "scroll", true, move |ev| room.on_scroll(&ev));
        for (event, kind) in [
            ("paste", IntegrityKind::Paste),
            ("copy", IntegrityKind::Copy),
        ] {
            let room = self.clone();
            on(root, event, false, move |ev| {
                if let Some((question, _)) = question_area(&ev) {
                    room.clipboard(&ev, kind, question);
                }
            });
        }
    }

    fn on_click(&self, ev: &Event) {
        let Some(button) = target(ev).and_then(|t| t.closest("button").ok().flatten()) else {
            return;
        };
        if let Some(question) = attribute::<usize>(&button, "data-go") {
            self.go(question);
        } else if let Some(step) = attribute::<i64>(&button, "data-step") {
            let Some((current, total)) = self.read(|r| (r.current, r.questions.len())) else {
                return;
            };
            // At either end the button is marked unavailable and does nothing.
            let to = i64::try_from(current).unwrap_or(0) + step;
            if let Ok(to) = usize::try_from(to)
                && to < total
            {
                self.go(to);
            }
        } else if button.has_attribute("data-end") {
            self.confirming(true);
        } else if button.has_attribute("data-keep-working") {
            self.confirming(false);
        } else if button.has_attribute("data-end-now") {
            self.confirm_end();
        } else if button.has_attribute("data-dismiss") {
            self.change(|r| r.notice = None);
        } else if button.has_attribute("data-fullscreen") {
            // Leaving full screen again is reported like leaving the tab.
            if let Some(root) = document().document_element() {
                let _ = root.request_fullscreen();
            }
        } else if button.has_attribute("data-run") {
            if let Some(question) = question_of(&button) {
                self.run_examples(question);
            }
        } else if let Some(kind) = button.get_attribute("data-open") {
            let index = self.read(|r| r.panels.iter().position(|p| p.kind == kind));
            if let Some(Some(index)) = index {
                self.open_panel(index, true);
            }
        }
    }

    fn on_input(&self, ev: &Event) {
        if let Some((question, area)) = question_area(ev) {
            self.edit(question, Answer::Text(area.value()));
        }
    }

    /// A choice ticked or unticked. A click is a complete answer: it is saved at once.
    fn on_change(&self, ev: &Event) {
        let Some(input) = target(ev).and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else {
            return;
        };
        let Some(question) = question_of(&input) else {
            return;
        };
        let answer = self.read(|room| {
            let q = room.questions.get(question)?;
            let Editor::Choices { inputs, multiple } = &q.editor else {
                return None;
            };
            let option = inputs.iter().position(|i| *i == input)?;
            let option = u32::try_from(option).ok()?;
            let mut picked = match &q.answer {
                Some(Answer::Picked(picked)) => picked.clone(),
                _ => Vec::new(),
            };
            if *multiple {
                toggle_option(&mut picked, option, input.checked());
            } else {
                picked = vec![option];
            }
            Some(Answer::Picked(picked))
        });
        if let Some(Some(answer)) = answer {
            self.edit(question, answer);
            self.save_now(question);
        }
    }

    fn on_keydown(&self, ev: &Event) {
        let Some(key) = ev.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        if key.key() == "Escape"
            && target(ev).is_some_and(|t| t.closest("[data-confirm]").ok().flatten().is_some())
        {
            self.confirming(false);
            return;
        }
        let Some((question, area)) = question_area(ev) else {
            return;
        };
        // Tab indents in the code editor; Escape releases it, so that the next Tab leaves.
        let indent = self.change(|room| {
            let q = room.questions.get_mut(question)?;
            let Editor::Text {
                gutter: Some(_),
                released,
                ..
            } = &mut q.editor
            else {
                return None;
            };
            if key.key() == "Escape" {
                *released = true;
                return None;
            }
            if key.key() != "Tab" || key.shift_key() || *released {
                *released = false;
                return None;
            }
            Some(())
        });
        if indent != Some(Some(())) {
            return;
        }
        ev.prevent_default();
        let code = area.value();
        let start = area
            .selection_start()
            .ok()
            .flatten()
            .unwrap_or(utf16_len(&code));
        let end = area.selection_end().ok().flatten().unwrap_or(start);
        let (a, b) = (byte_index(&code, start), byte_index(&code, end));
        let updated = format!("{}  {}", &code[..a], &code[b..]);
        area.set_value(&updated);
        let _ = area.set_selection_range(start + 2, start + 2);
        self.edit(question, Answer::Text(updated));
    }

    /// The line numbers scroll with the code.
    fn on_scroll(&self, ev: &Event) {
        let Some((question, area)) = question_area(ev) else {
            return;
        };
        self.read(|room| {
            if let Some(Editor::Text {
                gutter: Some(gutter),
                ..
            }) = room.questions.get(question).map(|q| &q.editor)
            {
                gutter.set_scroll_top(area.scroll_top());
            }
        });
    }
}

/// Ends the test and keeps none of the result: the page shows it once reloaded. (A separate
/// download: it is needed once.)
#[leptos::prelude::lazy]
async fn end_now(session_id: String) -> Result<(), crate::error::ApiError> {
    end_test(session_id).await.map(|_scores| ())
}

/// Runs `code` on the visible examples of question `question_id` and shows the results in
/// `slot`, replacing the last ones. (A separate download: fetched on the first run.)
#[leptos::prelude::lazy]
async fn show_runs(
    slot: HtmlElement,
    session_id: String,
    question_id: String,
    function_name: String,
    code: String,
) {
    let result = run_examples(session_id, RunInput { question_id, code }).await;
    slot.set_text_content(None);
    match result {
        Err(err) => {
            let p = child(&slot, "p", Some("form-error"), &err.detail);
            set(&p, "role", "alert");
        }
        Ok(runs) => {
            let passed = runs.iter().filter(|r| r.passed).count();
            let summary = format!("{passed} of {} examples passed", runs.len());
            let summary = child(&slot, "p", Some("run-summary"), &summary);
            set(&summary, "data-testid", "run-summary");
            let list = child(&slot, "ol", Some("runs"), "");
            for run in runs {
                let (class, verdict) = match run.passed {
                    true => ("run passed", "Passed"),
                    false => ("run failed", "Failed"),
                };
                let item = child(&list, "li", Some(class), "");
                child(&item, "strong", None, verdict);
                let _ = item.append_with_str_1(" ");
                let call = call_text(&function_name, &run.input, &run.expected);
                child(&item, "code", None, &call);
                if let Some(error) = run.error {
                    child(&item, "p", Some("run-error"), &error);
                }
                if !run.output.is_empty() {
                    let output = child(&item, "pre", Some("run-output"), &run.output.join("\n"));
                    set(&output, "aria-label", "Output");
                }
            }
        }
    }
}

/// A new `tag` element with `class` and `text`, appended to `parent`.
fn child(parent: &Element, tag: &str, class: Option<&str>, content: &str) -> Element {
    let Ok(element) = document().create_element(tag) else {
        return parent.clone();
    };
    if let Some(class) = class {
        element.set_class_name(class);
    }
    if !content.is_empty() {
        element.set_text_content(Some(content));
    }
    let _ = parent.append_child(&element);
    element
}

/// Calls `f` for every `event` reaching `target` (`capture`: on its way down).
fn on(target: &EventTarget, event: &str, capture: bool, f: impl FnMut(Event) + 'static) {
    let listener = Closure::<dyn FnMut(Event)>::new(f);
    let _ = target.add_event_listener_with_callback_and_bool(
        event,
        listener.as_ref().unchecked_ref(),
        capture,
    );
    // The room lives as long as the page.
    listener.forget();
}

fn target(ev: &Event) -> Option<Element> {
    ev.target()?.dyn_into().ok()
}

/// The index of the question whose panel holds `element`.
fn question_of(element: &Element) -> Option<usize> {
    attribute(&element.closest("article.question").ok()??, "data-index")
}

/// The question and text area an event happened in, if it did in one.
fn question_area(ev: &Event) -> Option<(usize, HtmlTextAreaElement)> {
    let area: HtmlTextAreaElement = ev.target()?.dyn_into().ok()?;
    Some((question_of(&area)?, area))
}

fn first(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

fn all(root: &Element, selector: &str) -> Vec<Element> {
    let Ok(list) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i)?.dyn_into().ok())
        .collect()
}

fn attribute<T: std::str::FromStr>(element: &Element, name: &str) -> Option<T> {
    element.get_attribute(name)?.parse().ok()
}

fn set(element: &Element, name: &str, value: &str) {
    if element.get_attribute(name).as_deref() != Some(value) {
        let _ = element.set_attribute(name, value);
    }
}

fn toggle(element: &Element, name: &str, on: bool) {
    let _ = element.toggle_attribute_with_force(name, on);
}

/// Sets `element`'s text, only when it changes (live regions announce every change).
fn text(element: &Element, content: &str) {
    if element.text_content().as_deref() != Some(content) {
        element.set_text_content(Some(content));
    }
}
