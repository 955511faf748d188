//! Test sessions: what a candidate sees and sends while taking a test, and what a recruiter reads
//! afterwards. Shared by the server and the browser. Nothing the candidate receives carries a
//! question's hidden parts (test cases, correct options, rubrics): [`CandidateQuestion`] is built
//! from a [`Question`] by dropping them.

use crate::model::Id;
use crate::template::{Question, QuestionKind, TestCase, Weights};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest answer (code or free text) a candidate may save, in characters.
pub const MAX_ANSWER_CHARS: usize = 50_000;
/// Longest detail of an integrity event, in characters.
pub const MAX_EVENT_DETAIL_CHARS: usize = 500;
/// Integrity events kept per session; later ones are refused.
pub const MAX_EVENTS_PER_SESSION: u64 = 1_000;
/// Results per page at most.
pub const MAX_PER_PAGE: u32 = 100;
/// The last page number a listing accepts.
pub const MAX_PAGE: u32 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    InProgress,
    Completed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::InProgress => "in_progress",
            SessionStatus::Completed => "completed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "in_progress" => Some(SessionStatus::InProgress),
            "completed" => Some(SessionStatus::Completed),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SessionStatus::InProgress => "In progress",
            SessionStatus::Completed => "Completed",
        }
    }
}

/// A question as the candidate sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CandidateQuestionKind {
    /// Write `function_name` in JavaScript; `examples` may be run.
    Coding {
        function_name: String,
        examples: Vec<TestCase>,
    },
    /// Choose one option, or every right one when `multiple`.
    MultipleChoice {
        options: Vec<String>,
        multiple: bool,
    },
    /// Answer in free text.
    Theory {},
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CandidateQuestion {
    pub id: String,
    pub prompt: String,
    pub context: Option<String>,
    #[serde(flatten)]
    pub kind: CandidateQuestionKind,
}

impl From<&Question> for CandidateQuestion {
    fn from(question: &Question) -> Self {
        let kind = match &question.kind {
            QuestionKind::Coding {
                function_name,
                examples,
                ..
            } => CandidateQuestionKind::Coding {
                function_name: function_name.clone(),
                examples: examples.clone(),
            },
            QuestionKind::MultipleChoice { options, correct } => {
                CandidateQuestionKind::MultipleChoice {
                    options: options.clone(),
                    multiple: correct.len() > 1,
                }
            }
            QuestionKind::Theory { .. } => CandidateQuestionKind::Theory {},
        };
        CandidateQuestion {
            id: question.id.clone(),
            prompt: question.prompt.clone(),
            context: question.context.clone(),
            kind,
        }
    }
}

/// The four scores of a finished session, each 0–100 with two decimals.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Scores {
    pub accuracy: f64,
    pub speed_efficiency: f64,
    pub prompt_wellness: f64,
    pub total_score: f64,
}

/// One hidden or visible test of a coding answer, as run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestOutcome {
    pub passed: bool,
    /// Why it failed: the thrown error, a time-out, or the value returned instead.
    pub error: Option<String>,
    pub millis: u64,
}

/// How one question was graded (shown to the recruiter).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuestionGrade {
    pub question_id: String,
    /// 0–100, two decimals.
    pub score: f64,
    /// How the score came about, in a sentence.
    pub explanation: String,
    /// Coding questions: one entry per hidden test, in order.
    #[serde(default)]
    pub tests: Vec<TestOutcome>,
    /// The recruiter's own score for the question, which counts instead of `score`.
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<ScoreOverride>,
}

impl QuestionGrade {
    /// The score that counts: the recruiter's override, or else the graded one.
    pub fn final_score(&self) -> f64 {
        self.overridden.as_ref().map_or(self.score, |o| o.score)
    }
}

/// Longest note of a score override, in characters.
pub const MAX_OVERRIDE_NOTE_CHARS: usize = 1_000;

/// A recruiter's score for one question, replacing the graded one in the totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoreOverride {
    /// 0–100, two decimals.
    pub score: f64,
    /// Why (required).
    pub note: String,
    /// The recruiter's email.
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// What a recruiter sends to override a question's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OverrideInput {
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 100))]
    pub score: f64,
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 1_000))]
    pub note: String,
}

/// The scores of a session and how each question contributed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Grading {
    pub scores: Scores,
    pub questions: Vec<QuestionGrade>,
}

/// One saved answer. Coding and theory answers are text; multiple choice is a list of option
/// indexes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SavedAnswer {
    pub question_id: String,
    pub answer: Value,
    /// RFC 3339.
    pub submitted_at: String,
}

/// A session as its candidate sees it: returned when it starts and when it is resumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub session_id: Id,
    pub template_id: Id,
    pub title: String,
    pub description: String,
    pub status: SessionStatus,
    /// RFC 3339.
    pub start_time: String,
    /// RFC 3339: past it nothing more is accepted and the session is scored.
    pub deadline: String,
    pub ended_at: Option<String>,
    pub time_limit_minutes: u32,
    /// Seconds until the deadline (0 once passed or ended).
    pub time_left_seconds: i64,
    pub prompt_budget: u32,
    pub used_prompts: u32,
    pub block_copy_paste: bool,
    pub questions: Vec<CandidateQuestion>,
    pub answers: Vec<SavedAnswer>,
    pub scores: Option<Scores>,
    /// When starting: whether an attempt already in progress was returned instead of a new one.
    pub resumed: bool,
    /// Who answers prompts: `offline` (the built-in assistant) or the model's name.
    pub assistant: String,
}

/// One of a candidate's attempts, for their dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub session_id: Id,
    pub template_id: Id,
    pub title: String,
    pub status: SessionStatus,
    pub start_time: String,
    pub deadline: String,
    pub ended_at: Option<String>,
    pub scores: Option<Scores>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnswerInput {
    pub question_id: String,
    pub answer: Value,
}

/// An answer as the test page holds and sends it. The REST API's answers are free JSON values
/// (checked against the question on the server); the page only ever has these two shapes, and a
/// typed answer keeps `serde_json::Value` and its parser out of the page's WebAssembly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// Code or free text.
    Text(String),
    /// The options picked, numbered from 0.
    Picked(Vec<u32>),
}

impl Answer {
    /// A saved answer as the page shows it; `None` for a shape the page cannot edit (the server
    /// only saves these two, see `normalize_answer`).
    pub fn from_saved(value: Value) -> Option<Answer> {
        match value {
            Value::String(text) => Some(Answer::Text(text)),
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect::<Option<Vec<u32>>>()
                .map(Answer::Picked),
            _ => None,
        }
    }

    /// Whether there is something in it: text other than blanks, or an option picked.
    pub fn is_given(&self) -> bool {
        match self {
            Answer::Text(text) => !text.trim().is_empty(),
            Answer::Picked(picked) => !picked.is_empty(),
        }
    }
}

impl From<Answer> for Value {
    fn from(answer: Answer) -> Value {
        match answer {
            Answer::Text(text) => Value::String(text),
            Answer::Picked(picked) => Value::from(picked),
        }
    }
}

/// A plain confirmation, as the seed sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Message {
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntegrityKind {
    TabHidden,
    WindowBlur,
    FullscreenExit,
    Paste,
    Copy,
}

impl IntegrityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrityKind::TabHidden => "tab_hidden",
            IntegrityKind::WindowBlur => "window_blur",
            IntegrityKind::FullscreenExit => "fullscreen_exit",
            IntegrityKind::Paste => "paste",
            IntegrityKind::Copy => "copy",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            IntegrityKind::TabHidden,
            IntegrityKind::WindowBlur,
            IntegrityKind::FullscreenExit,
            IntegrityKind::Paste,
            IntegrityKind::Copy,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            IntegrityKind::TabHidden => "Left the tab",
            IntegrityKind::WindowBlur => "Window lost focus",
            IntegrityKind::FullscreenExit => "Left full screen",
            IntegrityKind::Paste => "Pasted",
            IntegrityKind::Copy => "Copied",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrityInput {
    pub kind: IntegrityKind,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrityEvent {
    pub kind: IntegrityKind,
    pub detail: String,
    /// RFC 3339, the server's clock.
    pub timestamp: String,
}

/// One completed attempt in the recruiter's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResultSummary {
    pub session_id: Id,
    pub template_id: Id,
    pub template_title: String,
    pub candidate_id: Id,
    pub candidate_email: String,
    pub start_time: String,
    pub ended_at: Option<String>,
    pub duration_seconds: i64,
    pub used_prompts: u32,
    pub blocked_prompts: u32,
    pub prompt_budget: u32,
    pub scores: Option<Scores>,
    /// Listing one template's results: this attempt's place on its leaderboard by total score
    /// (equal totals share a place: 1, 2, 2, 4); absent across templates or before grading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
}

/// Longest prompt to the AI assistant.
pub const MAX_PROMPT_CHARS: usize = 4_000;

/// A prompt to the AI assistant, about one question when `question_id` is given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptInput {
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 4_000))]
    pub prompt: String,
    #[serde(default)]
    pub question_id: Option<String>,
}

/// The assistant's answer, or the gatekeeper's refusal, and what is left of the budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptReply {
    pub response: String,
    pub was_blocked: bool,
    /// Why it was blocked, in words.
    pub reason: Option<String>,
    pub used_prompts: u32,
    pub prompt_budget: u32,
    /// `offline`, or the model that answered.
    pub provider: String,
}

/// One message of a reply streamed as it is generated (`Accept: text/event-stream` on
/// `llm-prompt`; the event's name is its `event` field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AssistantEvent {
    /// More of the reply; the deltas so far joined are what may be shown. Code is held back
    /// until the whole reply has been checked.
    Delta { text: String },
    /// The end: the reply as recorded (a refusal if the check blocked it, which replaces what
    /// was shown) and the budget.
    Done(PromptReply),
    /// The provider failed or timed out; the prompt was not counted.
    Failed { status: u16, detail: String },
}

/// One recorded exchange with the assistant, for the candidate's history and the recruiter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptLine {
    pub question_id: Option<String>,
    pub prompt: String,
    pub response: String,
    pub was_blocked: bool,
    pub reason: Option<String>,
    pub provider: String,
    /// RFC 3339.
    pub timestamp: String,
}

/// Longest candidate search accepted (an email is at most 254 characters).
pub const MAX_SEARCH_LEN: usize = 254;

/// `?template_id=&candidate=&sort=&page=&per_page=` of a results listing; pages count from 1.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct ResultsQuery {
    /// Only sessions of this template (blank: all).
    #[cfg_attr(feature = "ssr", param(pattern = r"^\s*([0-9a-fA-F]{24})?\s*$"))]
    pub template_id: Option<String>,
    /// Part of the candidate's email.
    #[cfg_attr(feature = "ssr", param(max_length = 254))]
    pub candidate: Option<String>,
    /// One of the sort names; newest first when absent.
    #[cfg_attr(feature = "ssr", param(value_type = Option<ResultsSort>))]
    pub sort: Option<String>,
    /// From 1 (the default).
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 1_000_000))]
    pub page: Option<u32>,
    /// 1–100, 20 by default.
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}

/// One page of results and how many there are on all pages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResultsPage {
    pub items: Vec<ResultSummary>,
    pub total: u64,
}

/// The orders a recruiter may list results in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResultsSort {
    /// Most recently ended first.
    #[default]
    Newest,
    Oldest,
    /// Highest total score first (the leaderboard's order).
    ScoreDesc,
    ScoreAsc,
    /// By candidate email, A to Z.
    Candidate,
}

impl ResultsSort {
    pub const ALL: [ResultsSort; 5] = [
        ResultsSort::Newest,
        ResultsSort::Oldest,
        ResultsSort::ScoreDesc,
        ResultsSort::ScoreAsc,
        ResultsSort::Candidate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResultsSort::Newest => "newest",
            ResultsSort::Oldest => "oldest",
            ResultsSort::ScoreDesc => "score_desc",
            ResultsSort::ScoreAsc => "score_asc",
            ResultsSort::Candidate => "candidate",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            ResultsSort::Newest => "Newest first",
            ResultsSort::Oldest => "Oldest first",
            ResultsSort::ScoreDesc => "Highest score first",
            ResultsSort::ScoreAsc => "Lowest score first",
            ResultsSort::Candidate => "Candidate email (A–Z)",
        }
    }
}

/// How a template's total scores spread: ten buckets of ten points (the last one includes 100).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoreDistribution {
    pub buckets: [u32; 10],
    pub count: u32,
    pub mean: Option<f64>,
    pub median: Option<f64>,
}

impl ScoreDistribution {
    pub fn of(totals: &[f64]) -> Self {
        let mut buckets = [0u32; 10];
        let mut sorted: Vec<f64> = totals.iter().copied().filter(|t| t.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        for total in &sorted {
            // Scores are 0–100; 100 belongs to the last bucket.
            let index = (total.clamp(0.0, 100.0) / 10.0).floor() as usize;
            buckets[index.min(9)] += 1;
        }
        let count = sorted.len();
        let mean = (count > 0).then(|| sorted.iter().sum::<f64>() / count as f64);
        let median = (count > 0).then(|| {
            if count % 2 == 1 {
                sorted[count / 2]
            } else {
                (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
            }
        });
        ScoreDistribution {
            buckets,
            count: u32::try_from(count).unwrap_or(u32::MAX),
            mean,
            median,
        }
    }
}

/// One question of a result: what was asked (hidden parts included), answered and scored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResultQuestion {
    pub question: Question,
    pub answer: Option<SavedAnswer>,
    pub grade: Option<QuestionGrade>,
}

/// Code to run on a coding question's visible examples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunInput {
    pub question_id: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 50_000))]
    pub code: String,
}

/// One visible example run against the candidate's code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExampleRun {
    pub input: Vec<Value>,
    pub expected: Value,
    pub passed: bool,
    /// Why it failed: the wrong result ("expected 4, got 5"), the error thrown, a time-out.
    pub error: Option<String>,
    pub millis: u64,
    /// What the code printed with `console.log`.
    pub output: Vec<String>,
}

/// Runs of the examples one session may start per minute.
pub const EXAMPLE_RUNS_PER_MINUTE: u32 = 10;

/// One line of the interviewer chat transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TranscriptLine {
    pub id: crate::model::Id,
    pub speaker: crate::model::Speaker,
    pub message: String,
    pub timestamp: String,
}

/// Everything about one attempt, for the recruiter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResultDetail {
    #[serde(flatten)]
    pub summary: ResultSummary,
    pub status: SessionStatus,
    pub weights: Weights,
    pub time_limit_minutes: u32,
    pub questions: Vec<ResultQuestion>,
    pub chat: Vec<TranscriptLine>,
    /// Every prompt to the AI assistant, blocked ones included, oldest first.
    pub prompts: Vec<PromptLine>,
    pub integrity_events: Vec<IntegrityEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saved_answers_become_the_page_s_typed_answers_and_back() {
        for (saved, typed) in [
            (json!("fn"), Some(Answer::Text("fn".into()))),
            (json!([0, 2]), Some(Answer::Picked(vec![0, 2]))),
            (json!([]), Some(Answer::Picked(vec![]))),
            (json!([1, -1]), None),
            (json!([1, "2"]), None),
            (json!(3), None),
            (Value::Null, None),
        ] {
            let answer = Answer::from_saved(saved.clone());
            assert_eq!(answer, typed, "{saved}");
            if let Some(answer) = answer {
                assert_eq!(Value::from(answer), saved);
            }
        }
        assert!(!Answer::Text(" \n".into()).is_given());
        assert!(Answer::Text("x".into()).is_given());
        assert!(!Answer::Picked(vec![]).is_given());
        assert!(Answer::Picked(vec![0]).is_given());
    }

    #[test]
    fn the_distribution_buckets_by_tens_with_100_in_the_last() {
        let d = ScoreDistribution::of(&[0.0, 9.99, 10.0, 55.5, 100.0, 90.0]);
        assert_eq!(d.buckets, [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(d.count, 6);
        assert_eq!(d.median, Some((10.0 + 55.5) / 2.0));
        let mean = d.mean.expect("mean");
        assert!((mean - 265.49 / 6.0).abs() < 1e-9, "{mean}");
        let empty = ScoreDistribution::of(&[]);
        assert_eq!((empty.count, empty.mean, empty.median), (0, None, None));
        assert_eq!(ScoreDistribution::of(&[42.0]).median, Some(42.0));
    }

    #[test]
    fn results_sorts_round_trip_their_names() {
        for sort in ResultsSort::ALL {
            assert_eq!(ResultsSort::parse(sort.as_str()), Some(sort));
        }
        assert_eq!(ResultsSort::parse("score"), None);
    }

    #[test]
    fn the_candidate_view_of_a_question_drops_every_hidden_part() {
        let questions: Vec<Question> = serde_json::from_value(json!([
            {"id": "c", "type": "coding", "prompt": "Add", "function_name": "add",
             "test_cases": [{"input": [1, 2], "expected": 3}],
             "examples": [{"input": [0, 0], "expected": 0}]},
            {"id": "m", "type": "multiple_choice", "prompt": "Pick", "options": ["a", "b", "c"],
             "correct": [0, 2]},
            {"id": "t", "type": "theory", "prompt": "Explain", "reference_answer": "SECRET-REF",
             "rubric_keywords": ["SECRET-KEYWORD"]},
        ]))
        .expect("questions");
        let seen: Vec<CandidateQuestion> = questions.iter().map(CandidateQuestion::from).collect();
        let text = serde_json::to_string(&seen).expect("json");
        for hidden in [
            "test_cases",
            "expected\":3",
            "correct",
            "SECRET-REF",
            "SECRET-KEYWORD",
        ] {
            assert!(!text.contains(hidden), "{hidden} leaked in {text}");
        }
        assert!(text.contains("\"examples\""));
        assert_eq!(
            seen[1].kind,
            CandidateQuestionKind::MultipleChoice {
                options: vec!["a".into(), "b".into(), "c".into()],
                multiple: true
            }
        );
    }

    #[test]
    fn integrity_kinds_round_trip_through_their_names() {
        for raw in [
            "tab_hidden",
            "window_blur",
            "fullscreen_exit",
            "paste",
            "copy",
        ] {
            let kind = IntegrityKind::parse(raw).expect(raw);
            assert_eq!(kind.as_str(), raw);
            assert_eq!(
                serde_json::to_value(kind).expect("json"),
                Value::String(raw.into())
            );
        }
        assert_eq!(IntegrityKind::parse("screenshot"), None);
    }
}
