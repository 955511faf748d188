//! Prints how the gatekeeper does on a labelled JSONL file (`{question, prompt, label:
//! block|allow, function_name?}` per line): precision, recall, false-positive rate, and every
//! prompt it got wrong.
//!
//! `cargo run --release -p server --bin gatekeeper-eval -- app/tests/data/gatekeeper.jsonl`

use app::backend::assistant::gatekeeper::{Label, evaluate};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: gatekeeper-eval FILE.jsonl");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("{path}: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match evaluate(&text) {
        Ok(result) => result,
        Err(err) => {
            eprintln!("{path}: {err}");
            return ExitCode::from(2);
        }
    };
    let solution_seeking = result.blocked_right + result.allowed_wrong;
    let legitimate = result.allowed_right + result.blocked_wrong;
    println!(
        "{path}: {} cases ({solution_seeking} solution-seeking, {legitimate} legitimate)",
        result.cases()
    );
    println!("precision           {:.1}%", 100.0 * result.precision());
    println!(
        "recall              {:.1}%  (solution-seeking prompts blocked: {} of {solution_seeking})",
        100.0 * result.recall(),
        result.blocked_right
    );
    println!(
        "false-positive rate {:.1}%  (legitimate prompts blocked: {} of {legitimate})",
        100.0 * result.false_positive_rate(),
        result.blocked_wrong
    );
    for (line, expected, prompt) in &result.mistakes {
        let what = match expected {
            Label::Block => "let through",
            Label::Allow => "blocked   ",
        };
        println!("  line {line:>4} {what} {prompt}");
    }
    ExitCode::SUCCESS
}
