//! Runs candidates' JavaScript in an embedded QuickJS, one fresh runtime per test: no file system,
//! network, process or module loading exists in it (QuickJS without its libc modules and without a
//! loader), memory and stack are capped, and an interrupt handler stops any test at its time cap.
//! Blocking: run it through a [`Pool`].

use super::error::AppError;
use crate::session::TestOutcome;
use crate::template::TestCase;
use rquickjs::function::Rest;
use rquickjs::{Context, Ctx, Error as JsError, Runtime, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub memory_bytes: usize,
    pub stack_bytes: usize,
    /// Wall-clock cap of one test (loading the code included).
    pub per_test: Duration,
    /// Cap on all the tests of one answer together; tests past it are failed without running.
    pub per_answer: Duration,
}

pub const LIMITS: Limits = Limits {
    memory_bytes: 32 * 1024 * 1024,
    stack_bytes: 512 * 1024,
    per_test: Duration::from_secs(1),
    per_answer: Duration::from_secs(10),
};

/// Where candidates' code runs: the blocking threads, at most `workers` answers at a time, so
/// that hostile code can neither stall the async runtime nor take every core from the requests.
/// Work waiting for a turn queues; its time caps start when it runs.
pub struct Pool {
    permits: Arc<Semaphore>,
}

impl Pool {
    pub fn new(workers: usize) -> Pool {
        Pool {
            permits: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    /// Runs `work` when a worker is free. The worker stays taken until `work` returns, even if
    /// the caller stops waiting.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| AppError::Internal("the sandbox pool is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let _taken = permit;
            work()
        })
        .await
        .map_err(|e| AppError::Internal(format!("sandbox work failed: {e}")))
    }
}

/// Lines of `console.log` output kept per test.
const MAX_OUTPUT_LINES: usize = 50;
const MAX_MESSAGE_CHARS: usize = 500;

/// Defines a `console` whose output the runner collects (the engine has none of its own).
const PRELUDE: &str = r#"
(() => {
  const lines = [];
  const log = (...args) => {
    if (lines.length < 50) lines.push(args.map((a) => typeof a === "string" ? a : JSON.stringify(a)).join(" "));
  };
  globalThis.console = { log, info: log, warn: log, error: log, debug: log };
  Object.defineProperty(globalThis, "__assess_output", { value: () => lines.slice(), enumerable: false });
})();
"#;

/// One test as run: its outcome and what the code printed.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub outcome: TestOutcome,
    pub output: Vec<String>,
}

fn shorten(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_MESSAGE_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Runs `function_name` from `code` on every case, in order.
pub fn run_tests(code: &str, function_name: &str, cases: &[TestCase], limits: Limits) -> Vec<Run> {
    let budget_end = Instant::now() + limits.per_answer;
    cases
        .iter()
        .map(|case| {
            if Instant::now() >= budget_end {
                return Run {
                    outcome: TestOutcome {
                        passed: false,
                        error: Some(format!(
                            "not run: the answer used up its {} s of test time",
                            limits.per_answer.as_secs()
                        )),
                        millis: 0,
                    },
                    output: Vec::new(),
                };
            }
            run_one(code, function_name, case, limits)
        })
        .collect()
}

fn run_one(code: &str, function_name: &str, case: &TestCase, limits: Limits) -> Run {
    let started = Instant::now();
    let deadline = started + limits.per_test;
    let mut output = Vec::new();
    let result = (|| -> Result<(), String> {
        let runtime = Runtime::new().map_err(|e| format!("engine error: {e}"))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        runtime.set_interrupt_handler(Some(Box::new(move || Instant::now() >= deadline)));
        let context = Context::full(&runtime).map_err(|e| format!("engine error: {e}"))?;
        context.with(|ctx| {
            let failed = |e: JsError| describe(&ctx, e, deadline, limits);
            ctx.eval::<(), _>(PRELUDE).map_err(failed)?;
            let outcome = call(&ctx, code, function_name, case, &failed);
            if let Ok(collect) = ctx.eval::<rquickjs::Function, _>("__assess_output")
                && let Ok(lines) = collect.call::<_, Vec<String>>(())
            {
                output = lines
                    .into_iter()
                    .take(MAX_OUTPUT_LINES)
                    .map(shorten)
                    .collect();
            }
            outcome
        })
    })();
    Run {
        outcome: TestOutcome {
            passed: result.is_ok(),
            error: result.err().map(shorten),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        },
        output,
    }
}

fn call<'js>(
    ctx: &Ctx<'js>,
    code: &str,
    function_name: &str,
    case: &TestCase,
    failed: &dyn Fn(JsError) -> String,
) -> Result<(), String> {
    ctx.eval::<(), _>(code).map_err(failed)?;
    // Top-level `const f = …` is not a property of the global object, but a later script sees it.
    let function: Value = ctx
        .eval(format!(
            "typeof {function_name} === 'function' ? {function_name} : undefined"
        ))
        .map_err(failed)?;
    let function = function
        .into_function()
        .ok_or_else(|| format!("`{function_name}` is not defined as a function"))?;
    let input = serde_json::to_string(&case.input).map_err(|e| format!("bad test input: {e}"))?;
    let args = ctx
        .json_parse(input)
        .map_err(failed)?
        .into_array()
        .ok_or_else(|| "bad test input: not an array".to_owned())?;
    let args = args
        .iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let returned: Value = function.call((Rest(args),)).map_err(failed)?;
    let json = ctx
        .json_stringify(returned)
        .map_err(failed)?
        .map(|s| s.to_string())
        .transpose()
        .map_err(failed)?;
    let got = match json {
        None => serde_json::Value::Null,
        Some(text) => serde_json::from_str(&text).map_err(|e| format!("unreadable result: {e}"))?,
    };
    if same(&got, &case.expected) {
        Ok(())
    } else {
        Err(format!("expected {}, got {got}", case.expected))
    }
}

/// Why a call failed, in the candidate's terms.
fn describe(ctx: &Ctx<'_>, error: JsError, deadline: Instant, limits: Limits) -> String {
    if Instant::now() >= deadline {
        return format!(
            "timed out after {} ms (infinite loop?)",
            limits.per_test.as_millis()
        );
    }
    match error {
        JsError::Exception => {
            let thrown = ctx.catch();
            if let Some(exception) = thrown.as_exception() {
                let message = exception.message().unwrap_or_default();
                if message.contains("out of memory") {
                    return format!(
                        "ran out of memory (limit {} MiB)",
                        limits.memory_bytes / (1024 * 1024)
                    );
                }
                let name = exception
                    .get::<_, String>("name")
                    .unwrap_or_else(|_| "Error".into());
                format!("{name}: {message}")
            } else {
                let text = ctx
                    .json_stringify(thrown)
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| "a value".into());
                format!("threw {text}")
            }
        }
        JsError::Allocation => format!(
            "ran out of memory (limit {} MiB)",
            limits.memory_bytes / (1024 * 1024)
        ),
        other => other.to_string(),
    }
}

/// Deep equality, numbers compared with a small relative tolerance (floating-point results).
pub fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(input: serde_json::Value, expected: serde_json::Value) -> TestCase {
        serde_json::from_value(json!({"input": input, "expected": expected})).expect("case")
    }

    fn quick() -> Limits {
        Limits {
            per_test: Duration::from_millis(300),
            per_answer: Duration::from_secs(2),
            ..LIMITS
        }
    }

    fn first(code: &str, name: &str, c: TestCase) -> Run {
        run_tests(code, name, &[c], quick()).remove(0)
    }

    #[tokio::test]
    async fn the_pool_runs_at_most_its_workers_at_once_and_all_work_finishes() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = Arc::new(Pool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // Long enough for the others to pile up behind the two workers.
                        let spin = first(
                            "function f() { while (true) {} }",
                            "f",
                            case(json!([]), json!(1)),
                        );
                        running.fetch_sub(1, Ordering::SeqCst);
                        (i, spin.outcome.passed)
                    })
                    .await
                })
            })
            .collect();
        let mut done = Vec::new();
        for job in jobs {
            done.push(job.await.expect("join").expect("ran"));
        }
        assert_eq!(done.len(), 8);
        assert!(done.iter().all(|(_, passed)| !passed));
        assert_eq!(most.load(Ordering::SeqCst), 2, "two at a time, no more");
    }

    #[test]
    fn a_correct_function_passes_and_a_wrong_one_says_what_it_returned() {
        let cases = [
            case(json!([[2, 7, 11, 15], 9]), json!([0, 1])),
            case(json!([[3, 2, 4], 6]), json!([1, 2])),
        ];
        let right = "function twoSum(nums, target) {
            const seen = new Map();
            for (let i = 0; i < nums.length; i++) {
                if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];
                seen.set(nums[i], i);
            }
        }";
        assert!(
            run_tests(right, "twoSum", &cases, quick())
                .iter()
                .all(|r| r.outcome.passed)
        );
        let wrong = "const twoSum = (nums, target) => [0, 1];";
        let runs = run_tests(wrong, "twoSum", &cases, quick());
        assert!(runs[0].outcome.passed, "arrow functions in const count");
        assert!(!runs[1].outcome.passed);
        assert_eq!(
            runs[1].outcome.error.as_deref(),
            Some("expected [1,2], got [0,1]")
        );
    }

    #[test]
    fn output_is_captured_and_errors_are_reported() {
        let run = first(
            "function f(x) { console.log('got', x); throw new TypeError('nope'); }",
            "f",
            case(json!([3]), json!(3)),
        );
        assert_eq!(run.output, vec!["got 3"]);
        assert_eq!(run.outcome.error.as_deref(), Some("TypeError: nope"));
        let missing = first("function g() {}", "f", case(json!([]), json!(null)));
        assert_eq!(
            missing.outcome.error.as_deref(),
            Some("`f` is not defined as a function")
        );
        let syntax = first("function f( {", "f", case(json!([]), json!(null)));
        assert!(syntax.outcome.error.unwrap().starts_with("SyntaxError"));
    }

    #[test]
    fn infinite_loops_stop_at_the_time_cap_and_the_answer_budget_bounds_the_rest() {
        let limits = Limits {
            per_test: Duration::from_millis(200),
            per_answer: Duration::from_millis(500),
            ..LIMITS
        };
        let cases: Vec<_> = (0..10).map(|_| case(json!([]), json!(1))).collect();
        let started = Instant::now();
        let runs = run_tests("function f() { while (true) {} }", "f", &cases, limits);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            runs[0]
                .outcome
                .error
                .as_deref()
                .unwrap()
                .starts_with("timed out")
        );
        assert!(
            runs[9]
                .outcome
                .error
                .as_deref()
                .unwrap()
                .starts_with("not run")
        );
        assert!(runs.iter().all(|r| !r.outcome.passed));
    }

    #[test]
    fn memory_and_stack_exhaustion_are_contained() {
        let hog = first(
            "function f() { const a = []; while (true) a.push(new Array(100000).fill(1)); }",
            "f",
            case(json!([]), json!(1)),
        );
        let error = hog.outcome.error.unwrap();
        assert!(
            error.contains("memory") || error.starts_with("timed out"),
            "{error}"
        );
        let deep = first(
            "function f(n) { return f(n + 1) + 1; }",
            "f",
            case(json!([0]), json!(1)),
        );
        assert!(!deep.outcome.passed);
    }

    #[test]
    fn the_host_is_out_of_reach() {
        for probe in [
            "require('fs')",
            "process.exit(1)",
            "fetch('http://example.com')",
            "import('os')",
            "globalThis.std.open('/etc/passwd')",
            "globalThis.os.exec(['ls'])",
        ] {
            let code = format!("function f() {{ return {probe}; }}");
            let run = first(&code, "f", case(json!([]), json!(null)));
            assert!(!run.outcome.passed, "{probe} passed");
        }
        let probe = first(
            "function f() { return [typeof require, typeof process, typeof fetch, typeof std, typeof os]; }",
            "f",
            case(
                json!([]),
                json!([
                    "undefined",
                    "undefined",
                    "undefined",
                    "undefined",
                    "undefined"
                ]),
            ),
        );
        assert!(probe.outcome.passed, "{:?}", probe.outcome.error);
    }

    #[test]
    fn numbers_compare_with_tolerance_and_structures_deeply() {
        assert!(same(&json!(0.30000000000000004), &json!(0.3)));
        assert!(!same(&json!(0.31), &json!(0.3)));
        assert!(same(
            &json!({"a": [1, {"b": 2}]}),
            &json!({"a": [1.0, {"b": 2}]})
        ));
        assert!(!same(&json!([1, 2]), &json!([2, 1])));
        let undefined = first("function f() {}", "f", case(json!([]), json!(null)));
        assert!(
            undefined.outcome.passed,
            "undefined returns compare as null"
        );
    }
}
