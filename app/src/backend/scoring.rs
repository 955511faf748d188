//! Grading an ended session. Deterministic: the same session always gets the same scores, so a
//! grading can be recomputed and stored again safely.
//!
//! - **Accuracy**: the mean of the question scores (unanswered questions score 0). Coding answers
//!   run against the hidden tests in the sandbox (passed / total); multiple choice is an exact
//!   match of the chosen set; theory, offline, is 70 % rubric-keyword coverage and 30 % overlap
//!   with the reference answer's words (either alone when only one is set).
//! - **Speed efficiency** = 100 × answered share × (1 − ½ × time used / time limit): continuous,
//!   100 for an instant complete test, 50 for a complete test that used all its time, and only
//!   answered questions earn it.
//! - **Prompt wellness** = 100 × allowed share × (½ + ½ × (1 − prompts used / budget)): 100 with
//!   no prompts, 50 when the whole budget went on allowed prompts, less for blocked ones.
//! - **Total** = the weights snapshot · the three components.
//!
//! Every score is 0–100, rounded to two decimals.

use super::sandbox::{self, LIMITS};
use super::store::SessionRecord;
use crate::session::{Grading, QuestionGrade, Scores};
use crate::template::{Question, QuestionKind, Weights};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeSet;

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Grades every question offline and computes the four scores. Runs JavaScript: call it
/// through the sandbox pool.
pub fn grade(session: &SessionRecord) -> Grading {
    grading(session, grade_questions(session))
}

/// Every question's grade, offline (theory by its rubric), in the template's order. Runs
/// JavaScript.
pub fn grade_questions(session: &SessionRecord) -> Vec<QuestionGrade> {
    session
        .content
        .questions
        .iter()
        .map(|q| grade_question(q, session.answer(&q.id).map(|a| &a.answer)))
        .collect()
}

/// The four scores from the question grades (a recruiter's override counts instead of the
/// graded score), with the grades.
pub fn grading(session: &SessionRecord, questions: Vec<QuestionGrade>) -> Grading {
    let total = session.content.questions.len().max(1) as f64;
    let accuracy = questions
        .iter()
        .map(QuestionGrade::final_score)
        .sum::<f64>()
        / total;
    let answered = session
        .content
        .questions
        .iter()
        .filter(|q| session.answer(&q.id).is_some_and(|a| !is_blank(&a.answer)))
        .count() as f64
        / total;
    let ended = session.ended_at.unwrap_or(session.deadline);
    let speed = speed_efficiency(
        session.started_at,
        ended,
        session.content.time_limit_minutes,
        answered,
    );
    let wellness = prompt_wellness(
        session.used_prompts,
        session.blocked_prompts,
        session.prompt_budget,
    );
    Grading {
        scores: combine(&session.content.weights, accuracy, speed, wellness),
        questions,
    }
}

pub fn combine(weights: &Weights, accuracy: f64, speed: f64, wellness: f64) -> Scores {
    let (accuracy, speed, wellness) = (round2(accuracy), round2(speed), round2(wellness));
    Scores {
        accuracy,
        speed_efficiency: speed,
        prompt_wellness: wellness,
        total_score: round2(
            weights.accuracy * accuracy
                + weights.speed_efficiency * speed
                + weights.prompt_wellness * wellness,
        ),
    }
}

pub fn speed_efficiency(
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    limit_minutes: u32,
    answered_share: f64,
) -> f64 {
    let limit = f64::from(limit_minutes.max(1)) * 60_000.0;
    let used = ((ended - started).num_milliseconds().max(0) as f64 / limit).clamp(0.0, 1.0);
    100.0 * answered_share.clamp(0.0, 1.0) * (1.0 - used / 2.0)
}

pub fn prompt_wellness(used: u32, blocked: u32, budget: u32) -> f64 {
    if used == 0 {
        return 100.0;
    }
    let allowed_share = f64::from(used.saturating_sub(blocked)) / f64::from(used);
    let spent = (f64::from(used) / f64::from(budget.max(1))).clamp(0.0, 1.0);
    100.0 * allowed_share * (0.5 + 0.5 * (1.0 - spent))
}

pub fn is_blank(answer: &Value) -> bool {
    match answer {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn scored(question_id: &str, score: f64, explanation: String) -> QuestionGrade {
    QuestionGrade {
        question_id: question_id.to_owned(),
        score: round2(score),
        explanation,
        tests: Vec::new(),
        overridden: None,
    }
}

pub fn grade_question(question: &Question, answer: Option<&Value>) -> QuestionGrade {
    let Some(answer) = answer.filter(|a| !is_blank(a)) else {
        return scored(&question.id, 0.0, "Not answered.".into());
    };
    match &question.kind {
        QuestionKind::Coding {
            function_name,
            test_cases,
            ..
        } => {
            let code = answer.as_str().unwrap_or_default();
            let runs = sandbox::run_tests(code, function_name, test_cases, LIMITS);
            let passed = runs.iter().filter(|r| r.outcome.passed).count();
            let total = runs.len().max(1);
            QuestionGrade {
                tests: runs.into_iter().map(|r| r.outcome).collect(),
                ..scored(
                    &question.id,
                    100.0 * passed as f64 / total as f64,
                    format!("{passed} of {} hidden tests passed.", test_cases.len()),
                )
            }
        }
        QuestionKind::MultipleChoice { options, correct } => {
            let chosen = choices(answer);
            let right: BTreeSet<usize> = correct.iter().copied().collect();
            let label = |set: &BTreeSet<usize>| {
                set.iter()
                    .map(|i| options.get(*i).map_or("?", String::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if chosen == right {
                scored(
                    &question.id,
                    100.0,
                    format!("Chose {}: correct.", label(&chosen)),
                )
            } else {
                scored(
                    &question.id,
                    0.0,
                    format!("Chose {}; the answer is {}.", label(&chosen), label(&right)),
                )
            }
        }
        QuestionKind::Theory {
            reference_answer,
            rubric_keywords,
        } => theory(
            &question.id,
            answer.as_str().unwrap_or_default(),
            reference_answer,
            rubric_keywords,
        ),
    }
}

/// The chosen option indexes of a multiple-choice answer (a number or a list of numbers).
pub fn choices(answer: &Value) -> BTreeSet<usize> {
    let as_index = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    match answer {
        Value::Array(items) => items.iter().filter_map(as_index).collect(),
        single => as_index(single).into_iter().collect(),
    }
}

/// Lower-cased words of at least three letters or digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

fn theory(id: &str, answer: &str, reference: &str, keywords: &[String]) -> QuestionGrade {
    let answer_words = words(answer);
    let answer_text = format!(" {} ", answer_words.join(" "));
    let covered: Vec<&String> = keywords
        .iter()
        .filter(|k| {
            let phrase = words(k).join(" ");
            !phrase.is_empty() && answer_text.contains(&format!(" {phrase} "))
        })
        .collect();
    let coverage = (!keywords.is_empty()).then(|| covered.len() as f64 / keywords.len() as f64);
    let reference_words: BTreeSet<String> = words(reference).into_iter().collect();
    let overlap = (!reference_words.is_empty()).then(|| {
        let answered: BTreeSet<&String> = answer_words.iter().collect();
        reference_words
            .iter()
            .filter(|w| answered.contains(w))
            .count() as f64
            / reference_words.len() as f64
    });
    let (score, explanation) = match (coverage, overlap) {
        (Some(c), Some(o)) => (
            0.7 * c + 0.3 * o,
            format!(
                "Covers {} of {} rubric keywords; {:.0} % of the reference answer's words.",
                covered.len(),
                keywords.len(),
                o * 100.0
            ),
        ),
        (Some(c), None) => (
            c,
            format!(
                "Covers {} of {} rubric keywords.",
                covered.len(),
                keywords.len()
            ),
        ),
        (None, Some(o)) => (
            o,
            format!("{:.0} % of the reference answer's words.", o * 100.0),
        ),
        (None, None) => (1.0, "No rubric was set: any answer counts.".into()),
    };
    scored(id, 100.0 * score, explanation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn question(value: Value) -> Question {
        serde_json::from_value(value).expect("question")
    }

    #[test]
    fn speed_falls_continuously_with_time_used_and_needs_answers() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = |minutes: i64| start + chrono::Duration::minutes(minutes);
        assert_eq!(speed_efficiency(start, at(0), 60, 1.0), 100.0);
        assert_eq!(speed_efficiency(start, at(30), 60, 1.0), 75.0);
        assert_eq!(speed_efficiency(start, at(60), 60, 1.0), 50.0);
        assert_eq!(
            speed_efficiency(start, at(90), 60, 1.0),
            50.0,
            "capped at the limit"
        );
        assert_eq!(speed_efficiency(start, at(30), 60, 0.5), 37.5);
        assert_eq!(speed_efficiency(start, at(1), 60, 0.0), 0.0);
        // No cliffs: one second more changes the score by a sliver.
        let a = speed_efficiency(start, at(30), 60, 1.0);
        let b = speed_efficiency(start, at(30) + chrono::Duration::seconds(1), 60, 1.0);
        assert!(a > b && a - b < 0.02);
    }

    #[test]
    fn wellness_rewards_few_and_allowed_prompts() {
        assert_eq!(prompt_wellness(0, 0, 5), 100.0);
        assert_eq!(prompt_wellness(5, 0, 5), 50.0);
        assert_eq!(prompt_wellness(1, 0, 10), 95.0);
        assert_eq!(prompt_wellness(4, 2, 8), 37.5);
        assert_eq!(prompt_wellness(3, 3, 5), 0.0);
    }

    #[test]
    fn the_total_applies_the_weights_and_rounds() {
        let weights = Weights {
            accuracy: 0.5,
            speed_efficiency: 0.3,
            prompt_wellness: 0.2,
        };
        let scores = combine(&weights, 66.666_666, 75.0, 100.0);
        assert_eq!(scores.accuracy, 66.67);
        assert_eq!(
            scores.total_score, 75.84,
            "0.5 × 66.67 + 0.3 × 75 + 0.2 × 100"
        );
    }

    #[test]
    fn multiple_choice_is_an_exact_match_of_the_chosen_set() {
        let q = question(json!({"id": "m", "type": "multiple_choice", "prompt": "p",
            "options": ["a", "b", "c"], "correct": [0, 2]}));
        assert_eq!(grade_question(&q, Some(&json!([2, 0]))).score, 100.0);
        assert_eq!(grade_question(&q, Some(&json!([0]))).score, 0.0);
        assert_eq!(grade_question(&q, Some(&json!([0, 1, 2]))).score, 0.0);
        assert_eq!(grade_question(&q, None).score, 0.0);
        let single = question(json!({"id": "s", "type": "multiple_choice", "prompt": "p",
            "options": ["a", "b"], "correct": [1]}));
        assert_eq!(grade_question(&single, Some(&json!(1))).score, 100.0);
    }

    #[test]
    fn theory_scores_keyword_coverage_and_reference_overlap() {
        let q = question(json!({"id": "t", "type": "theory", "prompt": "p",
            "reference_answer": "A closure captures variables from its enclosing scope.",
            "rubric_keywords": ["closure", "enclosing scope", "lexical"]}));
        let full = grade_question(
            &q,
            Some(&json!(
                "A closure keeps the lexical enclosing scope's variables it captures."
            )),
        );
        let partial = grade_question(&q, Some(&json!("It is a function.")));
        assert!(full.score > 80.0, "{full:?}");
        assert!(partial.score < 20.0, "{partial:?}");
        assert_eq!(grade_question(&q, Some(&json!("   "))).score, 0.0);
    }

    #[test]
    fn coding_answers_score_the_share_of_hidden_tests_passed() {
        let q = question(
            json!({"id": "c", "type": "coding", "prompt": "p", "function_name": "add",
            "test_cases": [
                {"input": [1, 2], "expected": 3},
                {"input": [2, 2], "expected": 4},
                {"input": [0, 0], "expected": 0},
                {"input": [5, 0], "expected": 5}]}),
        );
        let right = grade_question(&q, Some(&json!("function add(a, b) { return a + b; }")));
        assert_eq!(right.score, 100.0);
        assert_eq!(right.tests.len(), 4);
        let wrong = grade_question(&q, Some(&json!("function add(a, b) { return a * b; }")));
        assert_eq!(wrong.score, 50.0, "{wrong:?}");
        assert_eq!(wrong.explanation, "2 of 4 hidden tests passed.");
    }
}
