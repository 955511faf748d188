//! Test templates: what a recruiter designs and candidates take. Shared by the server (storage,
//! REST) and the browser (the builder validates inline with the same rules).

use crate::model::Id;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MAX_TITLE_LEN: usize = 200;
pub const MAX_DESCRIPTION_LEN: usize = 5_000;
pub const MAX_QUESTIONS: usize = 50;
pub const MAX_QUESTION_ID_LEN: usize = 64;
pub const MAX_PROMPT_LEN: usize = 10_000;
pub const MAX_CONTEXT_LEN: usize = 20_000;
pub const MAX_TEST_CASES: usize = 100;
pub const MAX_EXAMPLES: usize = 10;
/// Serialized size of one test case (its arguments and expected value).
pub const MAX_TEST_CASE_BYTES: usize = 10_000;
pub const MAX_OPTIONS: usize = 10;
pub const MAX_OPTION_LEN: usize = 500;
pub const MAX_REFERENCE_LEN: usize = 10_000;
pub const MAX_KEYWORDS: usize = 30;
pub const MAX_KEYWORD_LEN: usize = 100;
pub const MAX_FUNCTION_NAME_LEN: usize = 64;
pub const MAX_TIME_LIMIT_MINUTES: u32 = 600;
pub const MAX_PROMPT_BUDGET: u32 = 1_000;
pub const DEFAULT_TIME_LIMIT_MINUTES: u32 = 60;
/// How far the three weights may sum from 1.
pub const WEIGHT_TOLERANCE: f64 = 0.001;

/// How much each score component counts in the total; each in 0–1, summing to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Weights {
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1))]
    pub accuracy: f64,
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1))]
    pub speed_efficiency: f64,
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1))]
    pub prompt_wellness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            accuracy: 0.6,
            speed_efficiency: 0.2,
            prompt_wellness: 0.2,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Draft,
    Published,
    Archived,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Draft => "draft",
            TemplateStatus::Published => "published",
            TemplateStatus::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(TemplateStatus::Draft),
            "published" => Some(TemplateStatus::Published),
            "archived" => Some(TemplateStatus::Archived),
            _ => None,
        }
    }
}

/// One call of a coding question's function: its arguments and the value it must return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestCase {
    pub input: Vec<Value>,
    pub expected: Value,
}

/// What kind of question, with the parts only the recruiter sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// JavaScript: the candidate writes `function_name`; hidden `test_cases` grade it and
    /// `examples` are visible and runnable.
    Coding {
        #[serde(default = "default_function_name")]
        #[cfg_attr(
            feature = "ssr",
            schema(max_length = 64, pattern = "^[A-Za-z_$][A-Za-z0-9_$]*$")
        )]
        function_name: String,
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 100))]
        test_cases: Vec<TestCase>,
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(max_items = 10))]
        examples: Vec<TestCase>,
    },
    /// `correct` holds the indexes of the right options (more than one: choose all that apply).
    MultipleChoice {
        #[cfg_attr(feature = "ssr", schema(min_items = 2, max_items = 10))]
        options: Vec<String>,
        #[cfg_attr(feature = "ssr", schema(min_items = 1))]
        correct: Vec<usize>,
    },
    /// Free text graded against a reference answer and rubric keywords.
    Theory {
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(max_length = 10_000))]
        reference_answer: String,
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(max_items = 30))]
        rubric_keywords: Vec<String>,
    },
}

fn default_function_name() -> String {
    "solution".to_owned()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Question {
    /// Unique within its template; answers refer to it.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 64))]
    pub id: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 10_000))]
    pub prompt: String,
    /// Starter code or background shown with the prompt.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 20_000))]
    pub context: Option<String>,
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// What a recruiter submits to create or edit a template. `status` is absent in the seed's
/// payload; such a template is published at once (the seed had no drafts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateInput {
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 5_000))]
    pub description: String,
    #[serde(default = "default_time_limit")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 600))]
    pub time_limit_minutes: u32,
    /// Absent: the server's `DEFAULT_PROMPT_BUDGET`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1_000))]
    pub default_prompt_budget: Option<i64>,
    #[serde(default)]
    pub weights: Weights,
    #[serde(default)]
    pub block_copy_paste: bool,
    #[serde(default)]
    pub status: Option<TemplateStatus>,
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 50))]
    pub questions: Vec<Question>,
}

fn default_time_limit() -> u32 {
    DEFAULT_TIME_LIMIT_MINUTES
}

/// The editable content of a template, validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateContent {
    pub title: String,
    pub description: String,
    pub time_limit_minutes: u32,
    pub default_prompt_budget: u32,
    pub weights: Weights,
    pub block_copy_paste: bool,
    pub questions: Vec<Question>,
}

/// A stored template as its recruiter sees it (hidden parts included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Template {
    pub id: Id,
    pub status: TemplateStatus,
    /// Starts at 1; editing a template that sessions were started from makes the next version
    /// (sessions keep the snapshot they started with).
    pub version: u32,
    pub created_by: Id,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten)]
    pub content: TemplateContent,
}

/// One invalid field: `"path: what is wrong"`, the path as a client would write it
/// (`questions[2].options`).
pub type FieldError = String;

fn too_long(path: &str, max: usize) -> FieldError {
    format!("{path}: must be at most {max} characters")
}

fn check_text(errors: &mut Vec<FieldError>, path: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(format!("{path}: must not be empty"));
    } else if value.chars().count() > max {
        errors.push(too_long(path, max));
    }
}

fn check_cases(errors: &mut Vec<FieldError>, path: &str, cases: &[TestCase], max: usize) {
    if cases.len() > max {
        errors.push(format!("{path}: at most {max} allowed"));
        return;
    }
    for (i, case) in cases.iter().enumerate() {
        let size = serde_json::to_string(case)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        if size > MAX_TEST_CASE_BYTES {
            errors.push(format!(
                "{path}[{i}]: must be at most {MAX_TEST_CASE_BYTES} bytes of JSON"
            ));
        }
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

impl Weights {
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        let parts = [
            ("weights.accuracy", self.accuracy),
            ("weights.speed_efficiency", self.speed_efficiency),
            ("weights.prompt_wellness", self.prompt_wellness),
        ];
        let mut each_ok = true;
        for (path, value) in parts {
            if !(0.0..=1.0).contains(&value) {
                errors.push(format!("{path}: must be between 0 and 1"));
                each_ok = false;
            }
        }
        let sum = self.accuracy + self.speed_efficiency + self.prompt_wellness;
        if each_ok && (sum - 1.0).abs() > WEIGHT_TOLERANCE {
            errors.push(format!("weights: must sum to 1 (they sum to {sum:.3})"));
        }
    }
}

impl Question {
    pub fn check(&self, index: usize, errors: &mut Vec<FieldError>) {
        let at = |field: &str| format!("questions[{index}].{field}");
        if self.id.trim().is_empty() {
            errors.push(format!("{}: must not be empty", at("id")));
        } else if self.id.chars().count() > MAX_QUESTION_ID_LEN {
            errors.push(too_long(&at("id"), MAX_QUESTION_ID_LEN));
        }
        check_text(errors, &at("prompt"), &self.prompt, MAX_PROMPT_LEN, true);
        if let Some(context) = &self.context {
            check_text(errors, &at("context"), context, MAX_CONTEXT_LEN, false);
        }
        match &self.kind {
            QuestionKind::Coding {
                function_name,
                test_cases,
                examples,
            } => {
                if function_name.len() > MAX_FUNCTION_NAME_LEN || !is_identifier(function_name) {
                    errors.push(format!(
                        "{}: must be a JavaScript identifier of at most {MAX_FUNCTION_NAME_LEN} characters",
                        at("function_name")
                    ));
                }
                if test_cases.is_empty() {
                    errors.push(format!("{}: at least one is needed", at("test_cases")));
                }
                check_cases(errors, &at("test_cases"), test_cases, MAX_TEST_CASES);
                check_cases(errors, &at("examples"), examples, MAX_EXAMPLES);
            }
            QuestionKind::MultipleChoice { options, correct } => {
                if options.len() < 2 || options.len() > MAX_OPTIONS {
                    errors.push(format!(
                        "{}: between 2 and {MAX_OPTIONS} are needed",
                        at("options")
                    ));
                }
                for (i, option) in options.iter().enumerate() {
                    check_text(
                        errors,
                        &at(&format!("options[{i}]")),
                        option,
                        MAX_OPTION_LEN,
                        true,
                    );
                }
                let mut seen = std::collections::HashSet::new();
                if correct.is_empty() {
                    errors.push(format!(
                        "{}: at least one option must be correct",
                        at("correct")
                    ));
                } else if correct
                    .iter()
                    .any(|i| *i >= options.len() || !seen.insert(*i))
                {
                    errors.push(format!(
                        "{}: must list distinct indexes of existing options",
                        at("correct")
                    ));
                }
            }
            QuestionKind::Theory {
                reference_answer,
                rubric_keywords,
            } => {
                check_text(
                    errors,
                    &at("reference_answer"),
                    reference_answer,
                    MAX_REFERENCE_LEN,
                    false,
                );
                if rubric_keywords.len() > MAX_KEYWORDS {
                    errors.push(format!(
                        "{}: at most {MAX_KEYWORDS} allowed",
                        at("rubric_keywords")
                    ));
                }
                for (i, keyword) in rubric_keywords.iter().enumerate() {
                    check_text(
                        errors,
                        &at(&format!("rubric_keywords[{i}]")),
                        keyword,
                        MAX_KEYWORD_LEN,
                        true,
                    );
                }
            }
        }
    }
}

impl TemplateInput {
    /// The validated content, with `default_budget` when the input sets none; otherwise every
    /// problem found.
    pub fn into_content(self, default_budget: u32) -> Result<TemplateContent, Vec<FieldError>> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let budget = self
            .default_prompt_budget
            .and_then(|b| u32::try_from(b).ok())
            .unwrap_or(default_budget);
        Ok(TemplateContent {
            title: self.title.trim().to_owned(),
            description: self.description.trim().to_owned(),
            time_limit_minutes: self.time_limit_minutes,
            default_prompt_budget: budget,
            weights: self.weights,
            block_copy_paste: self.block_copy_paste,
            questions: self
                .questions
                .into_iter()
                .map(|mut q| {
                    q.id = q.id.trim().to_owned();
                    q
                })
                .collect(),
        })
    }

    /// Every invalid field, in the order of the form (empty when the input is valid).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_text(&mut errors, "title", &self.title, MAX_TITLE_LEN, true);
        check_text(
            &mut errors,
            "description",
            &self.description,
            MAX_DESCRIPTION_LEN,
            false,
        );
        if self.time_limit_minutes == 0 || self.time_limit_minutes > MAX_TIME_LIMIT_MINUTES {
            errors.push(format!(
                "time_limit_minutes: must be between 1 and {MAX_TIME_LIMIT_MINUTES}"
            ));
        }
        if let Some(budget) = self.default_prompt_budget
            && !(1..=i64::from(MAX_PROMPT_BUDGET)).contains(&budget)
        {
            errors.push(format!(
                "default_prompt_budget: must be between 1 and {MAX_PROMPT_BUDGET}"
            ));
        }
        self.weights.check(&mut errors);
        if self.questions.is_empty() {
            errors.push("questions: at least one question is needed".to_owned());
        } else if self.questions.len() > MAX_QUESTIONS {
            errors.push(format!("questions: at most {MAX_QUESTIONS} allowed"));
        }
        let mut ids = std::collections::HashSet::new();
        for (index, question) in self.questions.iter().enumerate().take(MAX_QUESTIONS) {
            question.check(index, &mut errors);
            if !ids.insert(question.id.trim()) {
                errors.push(format!(
                    "questions[{index}].id: duplicate question id `{}`",
                    question.id
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_payload() -> Value {
        json!({
            "title": "Two Sum",
            "default_prompt_budget": 5,
            "weights": { "accuracy": 0.5, "speed_efficiency": 0.25, "prompt_wellness": 0.25 },
            "questions": [{
                "id": "q1",
                "type": "coding",
                "prompt": "Return the indexes of two numbers adding up to target.",
                "context": "function twoSum(nums, target) {}",
                "test_cases": [{ "input": [[2, 7, 11, 15], 9], "expected": [0, 1] }]
            }]
        })
    }

    #[test]
    fn the_seed_payload_parses_and_is_valid() {
        let input: TemplateInput = serde_json::from_value(seed_payload()).unwrap();
        assert_eq!(input.status, None);
        assert_eq!(input.time_limit_minutes, DEFAULT_TIME_LIMIT_MINUTES);
        assert!(matches!(
            &input.questions[0].kind,
            QuestionKind::Coding { function_name, test_cases, .. }
                if function_name == "solution" && test_cases.len() == 1
        ));
        assert_eq!(input.problems(), Vec::<String>::new());
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut payload = seed_payload();
        payload["title"] = json!("  ");
        payload["default_prompt_budget"] = json!(0);
        payload["weights"]["accuracy"] = json!(0.9);
        payload["questions"] = json!([
            { "id": "q1", "type": "coding", "prompt": "p", "function_name": "1bad", "test_cases": [] },
            { "id": "q1", "type": "multiple_choice", "prompt": "p", "options": ["only"], "correct": [3] },
            { "id": "q3", "type": "theory", "prompt": "", "rubric_keywords": [""] }
        ]);
        let input: TemplateInput = serde_json::from_value(payload).unwrap();
        let problems = input.problems();
        for field in [
            "title:",
            "default_prompt_budget:",
            "weights:",
            "questions[0].function_name:",
            "questions[0].test_cases:",
            "questions[1].id: duplicate",
            "questions[1].options:",
            "questions[1].correct:",
            "questions[2].prompt:",
            "questions[2].rubric_keywords[0]:",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(field)),
                "no {field} in {problems:#?}"
            );
        }
    }

    #[test]
    fn limits_are_enforced() {
        let mut payload = seed_payload();
        let question = payload["questions"][0].clone();
        payload["questions"] = Value::Array(
            (0..=MAX_QUESTIONS)
                .map(|i| {
                    let mut q = question.clone();
                    q["id"] = json!(format!("q{i}"));
                    q
                })
                .collect(),
        );
        let input: TemplateInput = serde_json::from_value(payload).unwrap();
        assert!(
            input
                .problems()
                .iter()
                .any(|p| p.starts_with("questions: at most 50"))
        );

        let mut payload = seed_payload();
        payload["questions"][0]["test_cases"] = Value::Array(vec![
            json!({ "input": [1], "expected": 1 });
            MAX_TEST_CASES + 1
        ]);
        let input: TemplateInput = serde_json::from_value(payload).unwrap();
        assert!(
            input
                .problems()
                .iter()
                .any(|p| p.starts_with("questions[0].test_cases: at most 100"))
        );
    }

    #[test]
    fn weights_must_sum_to_one_within_tolerance() {
        let mut errors = Vec::new();
        Weights {
            accuracy: 0.3334,
            speed_efficiency: 0.3333,
            prompt_wellness: 0.3333,
        }
        .check(&mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        Weights {
            accuracy: 0.5,
            speed_efficiency: 0.5,
            prompt_wellness: 0.1,
        }
        .check(&mut errors);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("weights: must sum to 1"));
    }
}
