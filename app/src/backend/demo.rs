//! First run in development: an empty store gets a demo recruiter, a demo candidate and two
//! published sample tests, so the run command shows a working product at once. Never in
//! production mode.

use super::AppState;
use super::auth;
use super::error::AppError;
use super::templates;
use crate::model::Role;
use crate::template::TemplateInput;

pub const RECRUITER_EMAIL: &str = "demo-recruiter@example.com";
pub const CANDIDATE_EMAIL: &str = "demo-candidate@example.com";
pub const PASSWORD: &str = "demo-password";

fn sample_tests() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({
            "title": "JavaScript: Two Sum",
            "description": "A classic warm-up: arrays, hash maps and a little complexity analysis.",
            "time_limit_minutes": 30,
            "default_prompt_budget": 5,
            "weights": { "accuracy": 0.6, "speed_efficiency": 0.2, "prompt_wellness": 0.2 },
            "status": "published",
            "questions": [{
                "id": "two-sum",
                "type": "coding",
                "prompt": "Write `twoSum(nums, target)`: return the indexes [i, j] (i < j) of the two numbers in `nums` that add up to `target`. Exactly one answer exists.",
                "context": "function twoSum(nums, target) {\n  // your code here\n}\n",
                "function_name": "twoSum",
                "examples": [{ "input": [[2, 7, 11, 15], 9], "expected": [0, 1] }],
                "test_cases": [
                    { "input": [[2, 7, 11, 15], 9], "expected": [0, 1] },
                    { "input": [[3, 2, 4], 6], "expected": [1, 2] },
                    { "input": [[3, 3], 6], "expected": [0, 1] },
                    { "input": [[-1, -2, -3, -4, -5], -8], "expected": [2, 4] },
                    { "input": [[0, 4, 3, 0], 0], "expected": [0, 3] }
                ]
            }]
        }),
        serde_json::json!({
            "title": "Web fundamentals",
            "description": "Short theory and multiple-choice questions about HTTP and the browser.",
            "time_limit_minutes": 20,
            "default_prompt_budget": 3,
            "weights": { "accuracy": 0.7, "speed_efficiency": 0.15, "prompt_wellness": 0.15 },
            "status": "published",
            "questions": [
                {
                    "id": "http-idempotent",
                    "type": "multiple_choice",
                    "prompt": "Which HTTP methods are idempotent? Choose all that apply.",
                    "options": ["GET", "POST", "PUT", "DELETE"],
                    "correct": [0, 2, 3]
                },
                {
                    "id": "cookie-httponly",
                    "type": "multiple_choice",
                    "prompt": "What does the HttpOnly cookie attribute do?",
                    "options": [
                        "Sends the cookie only over HTTP, never HTTPS",
                        "Hides the cookie from JavaScript (document.cookie)",
                        "Makes the cookie expire when the tab closes"
                    ],
                    "correct": [1]
                },
                {
                    "id": "event-loop",
                    "type": "theory",
                    "prompt": "Explain how the JavaScript event loop lets a single thread handle many I/O operations.",
                    "reference_answer": "The call stack runs one task at a time; I/O is handed to the host, whose callbacks are queued and run when the stack is empty. Microtasks (promises) run before the next macrotask.",
                    "rubric_keywords": ["call stack", "queue", "callback", "microtask", "non-blocking"]
                }
            ]
        }),
    ]
}

/// Seeds the demo data when the store has no account at all; returns whether it did.
pub async fn seed_if_empty(state: &AppState) -> Result<bool, AppError> {
    if state.config.is_production() || state.store.users.count().await? > 0 {
        return Ok(false);
    }
    let recruiter = auth::register(state, Role::Recruiter, RECRUITER_EMAIL, PASSWORD).await?;
    auth::register(state, Role::Candidate, CANDIDATE_EMAIL, PASSWORD).await?;
    for test in sample_tests() {
        let input: TemplateInput = serde_json::from_value(test)
            .map_err(|e| AppError::Internal(format!("sample test does not parse: {e}")))?;
        templates::create(state, &recruiter.id, input).await?;
    }
    tracing::warn!(
        recruiter = RECRUITER_EMAIL,
        candidate = CANDIDATE_EMAIL,
        password = PASSWORD,
        "empty store: created demo accounts and two sample tests (development mode only)"
    );
    Ok(true)
}
