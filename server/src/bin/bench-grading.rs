//! Benchmark (#10, grading): how long grading a 10-question session takes — four coding
//! questions with 20 hidden tests each (correct answers, so every test runs to completion),
//! three multiple-choice and three theory questions — measured on this machine, in process.
//!
//! `cargo run --release -p server --bin bench-grading [-- RUNS]` (default 30 runs after 3 warm-ups)

use app::backend::scoring;
use app::backend::store::{AnswerRecord, SessionRecord, new_id, now};
use app::session::SessionStatus;
use app::template::TemplateContent;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const CODING: [(&str, &str); 4] = [
    ("add", "function add(a, b) { return a + b; }"),
    (
        "reverse",
        "function reverse(s) { return s.split('').reverse().join(''); }",
    ),
    (
        "fib",
        "function fib(n) { let a = 0, b = 1; for (let i = 0; i < n; i++) { [a, b] = [b, a + b]; } return a; }",
    ),
    (
        "sum",
        "function sum(xs) { return xs.reduce((t, x) => t + x, 0); }",
    ),
];

fn cases(name: &str) -> Vec<Value> {
    (0..20_i64)
        .map(|i| match name {
            "add" => json!({ "input": [i, i * 3], "expected": i * 4 }),
            "reverse" => {
                let s: String = "abcdefghij".chars().cycle().take(i as usize + 1).collect();
                json!({ "input": [s], "expected": s.chars().rev().collect::<String>() })
            }
            "fib" => {
                let (mut a, mut b) = (0_i64, 1_i64);
                for _ in 0..i {
                    (a, b) = (b, a + b);
                }
                json!({ "input": [i], "expected": a })
            }
            _ => json!({ "input": [(0..=i).collect::<Vec<_>>()], "expected": i * (i + 1) / 2 }),
        })
        .collect()
}

fn session() -> SessionRecord {
    let mut questions: Vec<Value> = CODING
        .iter()
        .map(|(name, _)| {
            json!({ "id": name, "type": "coding", "prompt": format!("Write {name}."),
                    "function_name": name, "test_cases": cases(name) })
        })
        .collect();
    for i in 0..3 {
        questions.push(json!({ "id": format!("mc{i}"), "type": "multiple_choice",
            "prompt": "Pick A and C.", "options": ["A", "B", "C", "D"], "correct": [0, 2] }));
        questions.push(json!({ "id": format!("t{i}"), "type": "theory", "prompt": "What is a closure?",
            "reference_answer": "A function bundled with references to its surrounding lexical scope.",
            "rubric_keywords": ["function", "lexical scope", "references"] }));
    }
    let content: TemplateContent = serde_json::from_value(json!({
        "title": "Benchmark", "description": "", "time_limit_minutes": 60,
        "default_prompt_budget": 5, "block_copy_paste": false,
        "weights": { "accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2 },
        "questions": questions,
    }))
    .expect("a valid template");
    let started = now();
    let mut answers: Vec<AnswerRecord> = CODING
        .iter()
        .map(|(name, code)| (name.to_string(), json!(code)))
        .chain((0..3).map(|i| (format!("mc{i}"), json!([0, 2]))))
        .chain((0..3).map(|i| {
            (
                format!("t{i}"),
                json!("A closure is a function that keeps references to its lexical scope."),
            )
        }))
        .map(|(question_id, answer)| AnswerRecord {
            question_id,
            answer,
            submitted_at: started,
        })
        .collect();
    answers.sort_by(|a, b| a.question_id.cmp(&b.question_id));
    SessionRecord {
        id: new_id(),
        candidate_id: new_id(),
        candidate_email: "bench@example.com".into(),
        template_id: new_id(),
        template_version: 1,
        recruiter_id: new_id(),
        status: SessionStatus::Completed,
        prompt_budget: 5,
        used_prompts: 0,
        blocked_prompts: 0,
        started_at: started,
        deadline: started + Duration::from_secs(60 * 60),
        ended_at: Some(started + Duration::from_secs(20 * 60)),
        content,
        answers,
        grading: None,
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn main() -> ExitCode {
    let runs: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 30,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: bench-grading [RUNS]");
            return ExitCode::from(2);
        }
    };
    let record = session();
    let check = scoring::grade(&record);
    let coding_full = check
        .questions
        .iter()
        .take(CODING.len())
        .all(|g| g.score == 100.0);
    if !coding_full || check.questions.iter().map(|g| g.tests.len()).sum::<usize>() != 80 {
        eprintln!("the benchmark session does not grade as expected: {check:?}");
        return ExitCode::FAILURE;
    }
    for _ in 0..3 {
        scoring::grade(&record);
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(scoring::grade(std::hint::black_box(&record)));
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "grading a 10-question session (4 coding x 20 hidden tests, 3 multiple choice, 3 theory), {runs} runs:"
    );
    println!(
        "  min {:.1} ms · median {:.1} ms · p90 {:.1} ms · max {:.1} ms (goal: < 500 ms)",
        millis(times[0]),
        millis(at(0.5)),
        millis(at(0.9)),
        millis(times[times.len() - 1])
    );
    ExitCode::SUCCESS
}
