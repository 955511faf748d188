//! The recruiter's test builder: every field of a template, checked as it is typed with the same
//! rules the server applies ([`TemplateInput::problems`]), a preview of what candidates will see,
//! and publish / archive.

use super::account::RequireRole;
use super::load_failed;
use crate::model::Role;
use crate::recruiter::{load_template, save_template, set_template_status};
use crate::session::{CandidateQuestion, CandidateQuestionKind};
use crate::template::{
    FieldError, Question, QuestionKind, Template, TemplateInput, TemplateStatus, TestCase, Weights,
};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

/// The path segment that opens an empty builder.
const NEW: &str = "new";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Coding,
    MultipleChoice,
    Theory,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Coding, Kind::MultipleChoice, Kind::Theory];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Coding => "coding",
            Kind::MultipleChoice => "multiple_choice",
            Kind::Theory => "theory",
        }
    }

    /// The button that adds one.
    fn add_label(self) -> &'static str {
        match self {
            Kind::Coding => "Add coding question",
            Kind::MultipleChoice => "Add multiple-choice question",
            Kind::Theory => "Add theory question",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Coding => "Coding (JavaScript)",
            Kind::MultipleChoice => "Multiple choice",
            Kind::Theory => "Theory (free text)",
        }
    }

    fn parse(raw: &str) -> Kind {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .unwrap_or(Kind::Coding)
    }
}

/// One test case as typed: arguments and expected value, each JSON.
#[derive(Clone, Copy)]
struct CaseForm {
    key: u64,
    input: RwSignal<String>,
    expected: RwSignal<String>,
}

#[derive(Clone, Copy)]
struct OptionForm {
    key: u64,
    text: RwSignal<String>,
    correct: RwSignal<bool>,
}

/// One question as typed. The fields of every type are kept, so switching the type back and
/// forth loses nothing.
#[derive(Clone, Copy)]
struct QuestionForm {
    key: u64,
    kind: RwSignal<Kind>,
    id: RwSignal<String>,
    prompt: RwSignal<String>,
    context: RwSignal<String>,
    function_name: RwSignal<String>,
    tests: RwSignal<Vec<CaseForm>>,
    examples: RwSignal<Vec<CaseForm>>,
    options: RwSignal<Vec<OptionForm>>,
    reference: RwSignal<String>,
    keywords: RwSignal<String>,
}

/// Every field of the builder.
#[derive(Clone, Copy)]
struct Fields {
    title: RwSignal<String>,
    description: RwSignal<String>,
    time_limit: RwSignal<String>,
    /// Empty: the server's default.
    budget: RwSignal<String>,
    accuracy: RwSignal<String>,
    speed: RwSignal<String>,
    wellness: RwSignal<String>,
    block_copy_paste: RwSignal<bool>,
    questions: RwSignal<Vec<QuestionForm>>,
    keys: StoredValue<u64>,
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The part of a problem naming its field (`questions[0].prompt`), and the rest.
fn split_problem(problem: &str) -> (&str, &str) {
    problem.split_once(": ").unwrap_or(("", problem))
}

impl Fields {
    fn new(template: Option<&Template>) -> Fields {
        let content = template.map(|t| &t.content);
        let weights = content.map(|c| c.weights).unwrap_or_default();
        let fields = Fields {
            title: RwSignal::new(content.map(|c| c.title.clone()).unwrap_or_default()),
            description: RwSignal::new(content.map(|c| c.description.clone()).unwrap_or_default()),
            time_limit: RwSignal::new(
                content
                    .map(|c| c.time_limit_minutes)
                    .unwrap_or(crate::template::DEFAULT_TIME_LIMIT_MINUTES)
                    .to_string(),
            ),
            budget: RwSignal::new(
                content
                    .map(|c| c.default_prompt_budget.to_string())
                    .unwrap_or_default(),
            ),
            accuracy: RwSignal::new(weights.accuracy.to_string()),
            speed: RwSignal::new(weights.speed_efficiency.to_string()),
            wellness: RwSignal::new(weights.prompt_wellness.to_string()),
            block_copy_paste: RwSignal::new(content.is_some_and(|c| c.block_copy_paste)),
            questions: RwSignal::new(Vec::new()),
            keys: StoredValue::new(0),
        };
        if let Some(content) = content {
            let questions = content
                .questions
                .iter()
                .map(|q| fields.question_form(q))
                .collect();
            fields.questions.set(questions);
        }
        fields
    }

    fn next_key(self) -> u64 {
        self.keys.update_value(|k| *k += 1);
        self.keys.get_value()
    }

    fn case_form(self, case: Option<&TestCase>) -> CaseForm {
        CaseForm {
            key: self.next_key(),
            input: RwSignal::new(
                case.map(|c| json_text(&Value::Array(c.input.clone())))
                    .unwrap_or_default(),
            ),
            expected: RwSignal::new(case.map(|c| json_text(&c.expected)).unwrap_or_default()),
        }
    }

    fn option_form(self, text: &str, correct: bool) -> OptionForm {
        OptionForm {
            key: self.next_key(),
            text: RwSignal::new(text.to_owned()),
            correct: RwSignal::new(correct),
        }
    }

    fn question_form(self, q: &Question) -> QuestionForm {
        let form = self.blank_question(Kind::Coding, q.id.clone());
        form.prompt.set(q.prompt.clone());
        form.context.set(q.context.clone().unwrap_or_default());
        match &q.kind {
            QuestionKind::Coding {
                function_name,
                test_cases,
                examples,
            } => {
                form.function_name.set(function_name.clone());
                form.tests
                    .set(test_cases.iter().map(|c| self.case_form(Some(c))).collect());
                form.examples
                    .set(examples.iter().map(|c| self.case_form(Some(c))).collect());
            }
            QuestionKind::MultipleChoice { options, correct } => {
                form.kind.set(Kind::MultipleChoice);
                form.options.set(
                    options
                        .iter()
                        .enumerate()
                        .map(|(i, text)| self.option_form(text, correct.contains(&i)))
                        .collect(),
                );
            }
            QuestionKind::Theory {
                reference_answer,
                rubric_keywords,
            } => {
                form.kind.set(Kind::Theory);
                form.reference.set(reference_answer.clone());
                form.keywords.set(rubric_keywords.join(", "));
            }
        }
        form
    }

    /// A new question of `kind` with the first free id `qN`.
    fn blank_question(self, kind: Kind, id: String) -> QuestionForm {
        QuestionForm {
            key: self.next_key(),
            kind: RwSignal::new(kind),
            id: RwSignal::new(id),
            prompt: RwSignal::new(String::new()),
            context: RwSignal::new(String::new()),
            function_name: RwSignal::new("solution".into()),
            tests: RwSignal::new(vec![self.case_form(None)]),
            examples: RwSignal::new(Vec::new()),
            options: RwSignal::new(vec![
                self.option_form("", false),
                self.option_form("", false),
            ]),
            reference: RwSignal::new(String::new()),
            keywords: RwSignal::new(String::new()),
        }
    }

    fn add_question(self, kind: Kind) -> u64 {
        let taken: Vec<String> = self
            .questions
            .with_untracked(|qs| qs.iter().map(|q| q.id.get_untracked()).collect());
        let id = (1..)
            .map(|n| format!("q{n}"))
            .find(|id| !taken.contains(id))
            .unwrap_or_default();
        let question = self.blank_question(kind, id);
        self.questions.update(|qs| qs.push(question));
        question.key
    }

    fn move_question(self, key: u64, up: bool) {
        self.questions.update(|qs| {
            if let Some(i) = qs.iter().position(|q| q.key == key) {
                let j = if up { i.checked_sub(1) } else { Some(i + 1) };
                if let Some(j) = j.filter(|j| *j < qs.len()) {
                    qs.swap(i, j);
                }
            }
        });
    }

    /// What the form says, as the server would receive it, and the problems only the form can
    /// see (numbers and JSON that do not parse).
    fn read(self) -> (TemplateInput, Vec<FieldError>) {
        let mut local = Vec::new();
        let time_limit = self
            .time_limit
            .with(|t| t.trim().parse::<u32>())
            .unwrap_or_else(|_| {
                local.push("time_limit_minutes: must be a whole number of minutes".to_owned());
                0
            });
        let budget = self.budget.with(|b| {
            let b = b.trim();
            if b.is_empty() {
                None
            } else {
                Some(b.parse::<i64>().unwrap_or_else(|_| {
                    local.push("default_prompt_budget: must be a whole number".to_owned());
                    0
                }))
            }
        });
        let mut weight = |path: &str, value: RwSignal<String>| {
            value.with(|v| super::parse_number(v)).unwrap_or_else(|| {
                local.push(format!("{path}: must be a number between 0 and 1"));
                f64::NAN
            })
        };
        let weights = Weights {
            accuracy: weight("weights.accuracy", self.accuracy),
            speed_efficiency: weight("weights.speed_efficiency", self.speed),
            prompt_wellness: weight("weights.prompt_wellness", self.wellness),
        };
        let questions = self.questions.with(|qs| {
            qs.iter()
                .enumerate()
                .map(|(i, q)| q.read(i, &mut local))
                .collect()
        });
        let input = TemplateInput {
            title: self.title.get(),
            description: self.description.get(),
            time_limit_minutes: time_limit,
            default_prompt_budget: budget,
            weights,
            block_copy_paste: self.block_copy_paste.get(),
            status: None,
            questions,
        };
        (input, local)
    }

    /// Every problem of the form, in its order; one message per field.
    fn problems(self) -> Vec<FieldError> {
        let (input, mut local) = self.read();
        let mut seen: Vec<String> = local
            .iter()
            .map(|p| split_problem(p).0.to_owned())
            .collect();
        for problem in input.problems() {
            let path = split_problem(&problem).0.to_owned();
            if !seen.contains(&path) {
                seen.push(path);
                local.push(problem);
            }
        }
        local
    }
}

fn read_cases(
    cases: RwSignal<Vec<CaseForm>>,
    path: &str,
    local: &mut Vec<FieldError>,
) -> Vec<TestCase> {
    cases.with(|cases| {
        cases
            .iter()
            .enumerate()
            .map(|(j, case)| {
                let input = case.input.with(|raw| match serde_json::from_str::<Value>(raw) {
                    Ok(Value::Array(args)) => args,
                    _ => {
                        local.push(format!(
                            "{path}[{j}].input: must be a JSON array of the arguments, e.g. [[1, 2], 3]"
                        ));
                        Vec::new()
                    }
                });
                let expected = case
                    .expected
                    .with(|raw| serde_json::from_str::<Value>(raw))
                    .unwrap_or_else(|_| {
                        local.push(format!(
                            "{path}[{j}].expected: must be JSON, e.g. 42, \"text\" or [0, 1]"
                        ));
                        Value::Null
                    });
                TestCase { input, expected }
            })
            .collect()
    })
}

impl QuestionForm {
    fn read(&self, index: usize, local: &mut Vec<FieldError>) -> Question {
        let at = |field: &str| format!("questions[{index}].{field}");
        let kind = match self.kind.get() {
            Kind::Coding => QuestionKind::Coding {
                function_name: self.function_name.with(|f| f.trim().to_owned()),
                test_cases: read_cases(self.tests, &at("test_cases"), local),
                examples: read_cases(self.examples, &at("examples"), local),
            },
            Kind::MultipleChoice => {
                let options = self.options.get();
                QuestionKind::MultipleChoice {
                    options: options.iter().map(|o| o.text.get()).collect(),
                    correct: options
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| o.correct.get())
                        .map(|(i, _)| i)
                        .collect(),
                }
            }
            Kind::Theory => QuestionKind::Theory {
                reference_answer: self.reference.get(),
                rubric_keywords: self.keywords.with(|k| {
                    k.split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned)
                        .collect()
                }),
            },
        };
        let context = self.context.get();
        Question {
            id: self.id.get(),
            prompt: self.prompt.get(),
            context: (!context.trim().is_empty()).then_some(context),
            kind,
        }
    }
}

/// The fields and their problems, as one handle for every part of the page.
#[derive(Clone, Copy)]
struct Form {
    fields: Fields,
    problems: Memo<Vec<FieldError>>,
    /// Set by the first save: from then on every problem shows, touched or not.
    submitted: RwSignal<bool>,
}

impl Form {
    fn new(template: Option<&Template>) -> Form {
        let fields = Fields::new(template);
        Form {
            fields,
            problems: Memo::new(move |_| fields.problems()),
            submitted: RwSignal::new(false),
        }
    }

    /// The problems of the field at `path` (and, with `items`, of its items `path[i]…`).
    fn problem_at(self, path: &str, items: bool) -> Option<String> {
        self.problems.with(|problems| {
            let found: Vec<&str> = problems
                .iter()
                .filter(|p| {
                    let at = split_problem(p).0;
                    at == path
                        || (items && at.strip_prefix(path).is_some_and(|r| r.starts_with('[')))
                })
                .map(|p| split_problem(p).1)
                .collect();
            (!found.is_empty()).then(|| found.join("; "))
        })
    }
}

/// Moves keyboard focus to the element with `id` once the view has updated.
fn focus_soon(id: String) {
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// A labelled input or text area with its problem shown once touched (or after a save).
#[component]
fn Field(
    form: Form,
    #[prop(into)] id: String,
    #[prop(into)] label: TextProp,
    value: RwSignal<String>,
    #[prop(into)] path: Signal<String>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] code: bool,
    #[prop(optional)] items: bool,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(default = "text")] kind: &'static str,
) -> impl IntoView {
    // The page is rendered with the value, and what was typed before the island woke up wins.
    super::adopt_value(&id, value);
    let initial = value.get_untracked();
    let touched = RwSignal::new(false);
    let problem = Memo::new(move |_| {
        (touched.get() || form.submitted.get())
            .then(|| form.problem_at(&path.get(), items))
            .flatten()
    });
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id, has_hint) = (error_id.clone(), hint_id.clone(), hint.is_some());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if problem.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let invalid = move || problem.with(Option::is_some).then_some("true");
    let class = if code { "code" } else { "" };
    let control = if multiline {
        Either::Left(view! {
            <textarea id=id.clone() class=class rows=if code { 6 } else { 3 } spellcheck=if code { "false" } else { "true" }
                aria-invalid=invalid aria-describedby=described.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| touched.set(true)
                inner_html=super::text_area_content(&initial)
            ></textarea>
        })
    } else {
        Either::Right(view! {
            <input id=id.clone() type=kind class=class
                aria-invalid=invalid aria-describedby=described
                value=initial
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| touched.set(true)
            />
        })
    };
    super::server_erased(view! {
        <div class="field">
            <label for=id>{move || label.get()}</label>
            {control}
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {move || problem.get().map(|p| view! { <p class="field-error" id=error_id.clone()>{p}</p> })}
        </div>
    })
}

/// A problem of a whole list (`questions[0].test_cases: at least one is needed`), once saving
/// was tried.
fn list_problem(form: Form, path: Signal<String>) -> impl IntoView {
    move || {
        form.submitted
            .get()
            .then(|| form.problem_at(&path.get(), false))
            .flatten()
            .map(|p| view! { <p class="field-error" role="alert">{p}</p> })
    }
}

#[component]
pub fn BuilderPage() -> AnyView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let loaded = Resource::new(id, |id| async move {
        if id == NEW {
            Ok(None)
        } else {
            load_template(id).await.map(Some)
        }
    });
    view! {
        <RequireRole role=Role::Recruiter>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the test…"</p> }>
                {move || loaded.get().map(|result| match result {
                    Err(err) => load_failed("Cannot open this test", err.detail, "/recruiter", "Back to your tests"),
                    Ok(template) => view! {
                        <Title text=builder_heading(template.as_ref()) />
                        <Builder template />
                    }.into_any(),
                })}
            </Suspense>
        </RequireRole>
    }
    .into_any()
}

fn builder_heading(template: Option<&Template>) -> String {
    match template {
        Some(t) => format!("Edit “{}”", t.content.title),
        None => "New test".to_owned(),
    }
}

/// The test builder (an island): questions edited, previewed, saved and published in place.
#[island(lazy)]
fn Builder(template: Option<Template>) -> impl IntoView {
    super::island_ready();
    let form = Form::new(template.as_ref());
    let fields = form.fields;
    let current = RwSignal::new(template);
    let previewing = RwSignal::new(false);
    // What the last save or archive did: `Ok` a confirmation, `Err` why it failed.
    let notice = RwSignal::new(None::<Result<String, String>>);
    let save = Action::new_local(|(id, input): &(Option<String>, TemplateInput)| {
        save_template(id.clone(), input.clone())
    });
    let archive = Action::new_local(|id: &String| set_template_status(id.clone(), false));
    let busy = move || save.pending().get() || archive.pending().get();

    let submit = move |status: Option<TemplateStatus>| {
        if busy() {
            return;
        }
        form.submitted.set(true);
        notice.set(None);
        if !form.problems.get_untracked().is_empty() {
            focus_soon("builder-problems".into());
            return;
        }
        let (mut input, _) = fields.read();
        input.status = status;
        let id = current.with_untracked(|t| t.as_ref().map(|t| t.id.to_string()));
        save.dispatch((id, input));
    };
    let saved = move |result: Result<Template, crate::error::ApiError>, what: &str| match result {
        Ok(template) => {
            // A new test gets its own address, so that a reload opens it again.
            let path = format!("/recruiter/templates/{}", template.id);
            if let Ok(history) = window().history() {
                let _ = history.replace_state_with_url(
                    &leptos::wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&path),
                );
            }
            notice.set(Some(Ok(format!("{what} (version {}).", template.version))));
            current.set(Some(template));
        }
        Err(err) => notice.set(Some(Err(err.detail))),
    };
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            saved(result, "Saved");
        }
    });
    Effect::new(move |_| {
        if let Some(result) = archive.value().get() {
            saved(result, "Archived: candidates can no longer start it");
        }
    });

    let heading = move || current.with(|t| builder_heading(t.as_ref()));
    // The server titled the page; a save can rename the test.
    Effect::new(move |_| document().set_title(&super::page_title(&heading())));
    let status = move || current.with(|t| t.as_ref().map(|t| t.status));
    super::adopt_checked("block-copy-paste", fields.block_copy_paste);
    super::server_erased(view! {
        <section class="panel builder" aria-labelledby="builder-title">
            <p><a href="/recruiter">"← Your tests"</a></p>
            <h1 id="builder-title">{heading}</h1>
            <p class="muted" data-testid="builder-status">
                {move || match current.get() {
                    Some(t) => format!("Status: {} · version {}", t.status.as_str(), t.version),
                    None => "Not saved yet: it is saved as a draft that candidates cannot see.".to_owned(),
                }}
            </p>
            <p class="hint">"Once a candidate has started this test, saving makes a new version; running and finished attempts keep the version they started with."</p>
            <form class="builder-form" novalidate on:submit=move |ev| { ev.prevent_default(); submit(None); }>
                <fieldset>
                    <legend>"About the test"</legend>
                    <Field form id="title" label="Title" value=fields.title path="title" />
                    <Field form id="description" label="Description (shown to candidates)" value=fields.description path="description" multiline=true />
                    <div class="field-row">
                        <Field form id="time-limit" label="Time limit (minutes)" value=fields.time_limit path="time_limit_minutes" kind="number" />
                        <Field form id="budget" label="AI prompt budget" value=fields.budget path="default_prompt_budget" kind="number"
                            hint="Empty: the server's default." />
                    </div>
                    <div class="field-row">
                        <Field form id="w-accuracy" label="Weight: accuracy" value=fields.accuracy path="weights.accuracy" kind="number" />
                        <Field form id="w-speed" label="Weight: speed" value=fields.speed path="weights.speed_efficiency" kind="number" />
                        <Field form id="w-wellness" label="Weight: prompt wellness" value=fields.wellness path="weights.prompt_wellness" kind="number" />
                    </div>
                    {move || form.problem_at("weights", false).map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
                    <label class="check">
                        <input type="checkbox" id="block-copy-paste" checked=fields.block_copy_paste.get_untracked()
                            prop:checked=move || fields.block_copy_paste.get()
                            on:change=move |ev| fields.block_copy_paste.set(event_target_checked(&ev)) />
                        "Block copy and paste in answers"
                    </label>
                </fieldset>

                <h2>"Questions"</h2>
                {move || fields.questions.with(Vec::is_empty).then(|| view! { <p class="muted">"No questions yet: add one below."</p> })}
                {list_problem(form, Signal::derive(|| "questions".to_owned()))}
                <For each=move || fields.questions.get() key=|q| q.key let:question>
                    <QuestionEditor form question />
                </For>
                <div class="add-question" role="group" aria-label="Add a question">
                    {Kind::ALL.into_iter().map(|kind| view! {
                        <button type="button" class="button secondary" on:click=move |_| {
                            let key = fields.add_question(kind);
                            focus_soon(format!("q{key}-prompt"));
                        }>{kind.add_label()}</button>
                    }).collect_view()}
                </div>

                {move || (form.submitted.get() && !form.problems.with(Vec::is_empty)).then(|| view! {
                    <div class="form-problems" id="builder-problems" tabindex="-1" role="alert">
                        <p>"Fix these before saving:"</p>
                        <ul>{form.problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    </div>
                })}
                {move || notice.get().map(|n| match n {
                    Ok(done) => Either::Left(view! { <p class="notice ok" role="status" data-testid="builder-notice">{done}</p> }),
                    Err(why) => Either::Right(view! { <p class="form-error" role="alert" data-testid="builder-notice">{why}</p> }),
                })}
                // `aria-disabled` while a save is under way, not `disabled`, which would take the
                // keyboard focus away from the button just pressed; the handlers ignore them.
                <div class="form-actions">
                    <button type="submit" class="button" aria-disabled=move || busy().to_string()>
                        {move || if current.with(Option::is_none) { "Save draft" } else { "Save" }}
                    </button>
                    <Show when=move || status() != Some(TemplateStatus::Published)>
                        <button type="button" class="button" aria-disabled=move || busy().to_string()
                            on:click=move |_| submit(Some(TemplateStatus::Published))>"Save and publish"</button>
                    </Show>
                    <Show when=move || matches!(status(), Some(TemplateStatus::Published) | Some(TemplateStatus::Draft))>
                        <button type="button" class="button danger" aria-disabled=move || busy().to_string() on:click=move |_| {
                            if busy() {
                                return;
                            }
                            if let Some(id) = current.with_untracked(|t| t.as_ref().map(|t| t.id.to_string())) {
                                archive.dispatch(id);
                            }
                        }>"Archive"</button>
                    </Show>
                    <button type="button" class="button secondary" aria-pressed=move || previewing.get().to_string()
                        on:click=move |_| previewing.update(|p| *p = !*p)>
                        {move || if previewing.get() { "Hide preview" } else { "Preview as candidate" }}
                    </button>
                </div>
            </form>
        </section>
        <Show when=move || previewing.get()>
            <Preview form />
        </Show>
    })
}

#[component]
fn QuestionEditor(form: Form, question: QuestionForm) -> impl IntoView {
    let fields = form.fields;
    let key = question.key;
    let index = Memo::new(move |_| {
        fields
            .questions
            .with(|qs| qs.iter().position(|q| q.key == key).unwrap_or(0))
    });
    let count = move || fields.questions.with(Vec::len);
    let path = move |field: &'static str| {
        Signal::derive(move || format!("questions[{}].{field}", index.get()))
    };
    let hid = move |field: &str| format!("q{key}-{field}");
    let number = move || index.get() + 1;
    let move_by = move |up: bool| {
        fields.move_question(key, up);
        focus_soon(hid(if up { "up" } else { "down" }));
    };
    super::server_erased(view! {
        <fieldset class="question-editor" data-testid="question-editor">
            <legend>{move || format!("Question {} · {}", number(), question.kind.get().label())}</legend>
            // At either end `aria-disabled`, not `disabled`: moving a question to the top or bottom
            // keeps the keyboard focus on its button (`move_question` does nothing there).
            <div class="question-tools">
                <button type="button" class="button small secondary" id=hid("up") aria-disabled=move || (index.get() == 0).to_string()
                    aria-label=move || format!("Move question {} up", number()) on:click=move |_| move_by(true)>"↑"</button>
                <button type="button" class="button small secondary" id=hid("down") aria-disabled=move || (number() >= count()).to_string()
                    aria-label=move || format!("Move question {} down", number()) on:click=move |_| move_by(false)>"↓"</button>
                <button type="button" class="button small danger"
                    aria-label=move || format!("Remove question {}", number())
                    on:click=move |_| fields.questions.update(|qs| qs.retain(|q| q.key != key))>"Remove"</button>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for=hid("kind")>"Type"</label>
                    <select id=hid("kind") on:change=move |ev| question.kind.set(Kind::parse(&event_target_value(&ev)))>
                        {Kind::ALL.into_iter().map(|kind| view! {
                            <option value=kind.as_str() selected=move || question.kind.get() == kind>{kind.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <Field form id=hid("id") label="Question id" value=question.id path=path("id") />
            </div>
            <Field form id=hid("prompt") label="Question" value=question.prompt path=path("prompt") multiline=true />
            <Field form id=hid("context") label="Starter code or context (optional)" value=question.context path=path("context")
                multiline=true code=true />
            {move || match question.kind.get() {
                Kind::Coding => EitherOf3::A(view! { <CodingFields form question index /> }),
                Kind::MultipleChoice => EitherOf3::B(view! { <ChoiceFields form question index /> }),
                Kind::Theory => EitherOf3::C(view! {
                    <Field form id=hid("reference") label="Reference answer (hidden)" value=question.reference
                        path=path("reference_answer") multiline=true />
                    <Field form id=hid("keywords") label="Rubric keywords (hidden, comma-separated)" value=question.keywords
                        path=path("rubric_keywords") items=true />
                }),
            }}
        </fieldset>
    })
}

#[component]
fn CodingFields(form: Form, question: QuestionForm, index: Memo<usize>) -> impl IntoView {
    let key = question.key;
    let path = Signal::derive(move || format!("questions[{}].function_name", index.get()));
    super::server_erased(view! {
        <Field form id=format!("q{key}-function") label="Function name" value=question.function_name path
            hint="The function the candidate writes; the tests call it." />
        <CaseList form question index list=question.tests field="test_cases" title="Hidden tests" singular="hidden test" />
        <CaseList form question index list=question.examples field="examples" title="Visible examples (optional: candidates may run these)" singular="example" />
    })
}

#[component]
fn CaseList(
    form: Form,
    question: QuestionForm,
    index: Memo<usize>,
    list: RwSignal<Vec<CaseForm>>,
    field: &'static str,
    title: &'static str,
    singular: &'static str,
) -> impl IntoView {
    let fields = form.fields;
    let qkey = question.key;
    let list_path = Signal::derive(move || format!("questions[{}].{field}", index.get()));
    super::server_erased(view! {
        <fieldset class="cases">
            <legend>{title}</legend>
            {list_problem(form, list_path)}
            <For each=move || list.get() key=|c| c.key let:case>
                {
                    let position = Memo::new(move |_| list.with(|l| l.iter().position(|c| c.key == case.key).unwrap_or(0)));
                    let at = move |part: &'static str| Signal::derive(move || format!("{}[{}]{part}", list_path.get(), position.get()));
                    let label = move |what: &'static str| move || format!("{what} of {singular} {}", position.get() + 1);
                    view! {
                        <div class="case-row">
                            <Field form id=format!("q{qkey}-{field}-{}-input", case.key) label=label("Arguments (JSON array)")
                                value=case.input path=at(".input") code=true />
                            <Field form id=format!("q{qkey}-{field}-{}-expected", case.key) label=label("Expected (JSON)")
                                value=case.expected path=at(".expected") code=true />
                            <button type="button" class="button small danger"
                                aria-label=move || format!("Remove {singular} {}", position.get() + 1)
                                on:click=move |_| list.update(|l| l.retain(|c| c.key != case.key))>"Remove"</button>
                            {move || form.problem_at(&at("").get(), false).map(|p| view! { <p class="field-error">{p}</p> })}
                        </div>
                    }
                }
            </For>
            <button type="button" class="button small secondary" on:click=move |_| {
                let case = fields.case_form(None);
                list.update(|l| l.push(case));
                focus_soon(format!("q{qkey}-{field}-{}-input", case.key));
            }>{format!("Add {singular}")}</button>
        </fieldset>
    })
}

#[component]
fn ChoiceFields(form: Form, question: QuestionForm, index: Memo<usize>) -> impl IntoView {
    let fields = form.fields;
    let qkey = question.key;
    let list = question.options;
    let correct_path = Signal::derive(move || format!("questions[{}].correct", index.get()));
    let options_path = Signal::derive(move || format!("questions[{}].options", index.get()));
    super::server_erased(view! {
        <fieldset class="cases">
            <legend>"Options (tick every correct one)"</legend>
            {list_problem(form, options_path)}
            {list_problem(form, correct_path)}
            <For each=move || list.get() key=|o| o.key let:option>
                {
                    let position = Memo::new(move |_| list.with(|l| l.iter().position(|o| o.key == option.key).unwrap_or(0)));
                    let path = Signal::derive(move || format!("{}[{}]", options_path.get(), position.get()));
                    // Like the fields: the page shows the tick, and a tick made before the island
                    // woke up wins.
                    let correct_id = format!("q{qkey}-option-{}-correct", option.key);
                    super::adopt_checked(&correct_id, option.correct);
                    view! {
                        <div class="option-row">
                            <label class="check">
                                <input type="checkbox" id=correct_id checked=option.correct.get_untracked()
                                    prop:checked=move || option.correct.get()
                                    on:change=move |ev| option.correct.set(event_target_checked(&ev)) />
                                {move || format!("Option {} is correct", position.get() + 1)}
                            </label>
                            <Field form id=format!("q{qkey}-option-{}", option.key) label=move || format!("Option {}", position.get() + 1)
                                value=option.text path />
                            <button type="button" class="button small danger"
                                aria-label=move || format!("Remove option {}", position.get() + 1)
                                on:click=move |_| list.update(|l| l.retain(|o| o.key != option.key))>"Remove"</button>
                        </div>
                    }
                }
            </For>
            <button type="button" class="button small secondary" on:click=move |_| {
                let option = fields.option_form("", false);
                list.update(|l| l.push(option));
                focus_soon(format!("q{qkey}-option-{}", option.key));
            }>"Add option"</button>
        </fieldset>
    })
}

/// What candidates will see: the form read through the same conversion the server applies, so
/// nothing hidden can show here by mistake.
#[component]
fn Preview(form: Form) -> impl IntoView {
    let fields = form.fields;
    let preview = Memo::new(move |_| {
        let (input, _) = fields.read();
        let questions: Vec<CandidateQuestion> = input
            .questions
            .iter()
            .map(CandidateQuestion::from)
            .collect();
        (
            input.title,
            input.description,
            input.time_limit_minutes,
            questions,
        )
    });
    super::server_erased(view! {
        <section class="panel candidate-preview" aria-labelledby="preview-title" data-testid="preview">
            <h2 id="preview-title">"Candidate preview"</h2>
            {move || {
                let (title, description, minutes, questions) = preview.get();
                let count = questions.len();
                view! {
                    <h3>{title}</h3>
                    <p>{description}</p>
                    <p class="muted">{format!("{count} questions · {minutes} min")}</p>
                    <ol class="preview-questions">
                        {questions.into_iter().map(|q| view! {
                            <li>
                                <p class="prompt">{q.prompt}</p>
                                {q.context.map(|c| view! { <pre class="code">{c}</pre> })}
                                {match q.kind {
                                    CandidateQuestionKind::Coding { function_name, examples } => EitherOf3::A(view! {
                                        <p class="muted">{format!("Write the JavaScript function {function_name}.")}</p>
                                        <ul class="examples">
                                            {examples.into_iter().map(|e| view! {
                                                <li><code>{format!("{function_name}({}) → {}",
                                                    e.input.iter().map(json_text).collect::<Vec<_>>().join(", "),
                                                    json_text(&e.expected))}</code></li>
                                            }).collect_view()}
                                        </ul>
                                    }),
                                    CandidateQuestionKind::MultipleChoice { options, multiple } => EitherOf3::B(view! {
                                        <p class="muted">{if multiple { "Choose every right answer." } else { "Choose one answer." }}</p>
                                        <ul class="choices">
                                            {options.into_iter().map(|o| view! {
                                                <li><label class="check"><input type=if multiple { "checkbox" } else { "radio" } disabled=true />{o}</label></li>
                                            }).collect_view()}
                                        </ul>
                                    }),
                                    CandidateQuestionKind::Theory {} => EitherOf3::C(view! {
                                        <p class="muted">"Answered in free text."</p>
                                    }),
                                }}
                            </li>
                        }).collect_view()}
                    </ol>
                }
            }}
        </section>
    })
}
