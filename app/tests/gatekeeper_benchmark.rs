//! The gatekeeper on the labelled benchmark shipped in the repo (`tests/data/gatekeeper.jsonl`):
//! the targets, offline — at least 95% of solution-seeking prompts blocked and at most 5%
//! of legitimate ones.

use app::backend::assistant::gatekeeper::evaluate;

#[test]
fn the_gatekeeper_meets_its_targets_on_the_benchmark() {
    let set = include_str!("data/gatekeeper.jsonl");
    let result = evaluate(set).expect("the benchmark parses");
    let (blocks, allows) = (
        result.blocked_right + result.allowed_wrong,
        result.allowed_right + result.blocked_wrong,
    );
    assert!(result.cases() >= 100, "{} cases", result.cases());
    assert!(
        allows * 2 >= result.cases() - 2,
        "about half legitimate: {allows} of {}",
        result.cases()
    );
    let report = format!(
        "recall {:.3} over {blocks}, false positives {:.3} over {allows}, mistakes {:#?}",
        result.recall(),
        result.false_positive_rate(),
        result.mistakes
    );
    assert!(result.recall() >= 0.95, "{report}");
    assert!(result.false_positive_rate() <= 0.05, "{report}");
}

#[test]
fn a_malformed_line_is_named() {
    let err =
        evaluate("{\"question\": \"q\", \"prompt\": \"p\", \"label\": \"block\"}\nnot json\n")
            .expect_err("line 2 is not JSON");
    assert!(err.starts_with("line 2:"), "{err}");
}
