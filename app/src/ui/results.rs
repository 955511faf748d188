//! The recruiter's results: a filterable, sortable, paginated table of ended attempts with the
//! score distribution of the chosen test, and one attempt in depth.

use super::account::RequireRole;
use super::{list_view, load_failed, score_part, score_text, short_time};
use crate::model::{Role, Speaker};
use crate::recruiter::{list_results, load_result, my_templates, override_score, template_scores};
use crate::session::{
    MAX_OVERRIDE_NOTE_CHARS, OverrideInput, QuestionGrade, ResultDetail, ResultQuestion,
    ResultSummary, ResultsQuery, ResultsSort, ScoreDistribution, Scores,
};
use crate::template::QuestionKind;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::Value;

const PER_PAGE: u32 = 20;

/// The results address for `query` (what a reload or a shared link reopens).
fn results_href(query: &ResultsQuery) -> String {
    let sort = query
        .sort
        .clone()
        .filter(|s| s != ResultsSort::default().as_str());
    let page = query.page.filter(|p| *p > 1).map(|p| p.to_string());
    let params: Vec<String> = [
        ("template_id", query.template_id.clone()),
        ("candidate", query.candidate.clone()),
        ("sort", sort),
        ("page", page),
    ]
    .into_iter()
    .filter_map(|(key, value)| {
        value
            .filter(|v| !v.is_empty())
            .map(|v| format!("{key}={}", super::encode_component(&v)))
    })
    .collect();
    if params.is_empty() {
        "/recruiter/results".to_owned()
    } else {
        format!("/recruiter/results?{}", params.join("&"))
    }
}

fn duration_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds >= 3600 {
        format!("{}h {:02}m", seconds / 3600, seconds / 60 % 60)
    } else {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    }
}

#[component]
pub fn ResultsPage() -> AnyView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        // The filter form sends its empty fields too, and the search as typed.
        let given = |key: &str| {
            q.get(key)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        ResultsQuery {
            template_id: given("template_id"),
            candidate: given("candidate"),
            sort: given("sort"),
            page: q.get("page").and_then(|p| p.parse().ok()),
            per_page: Some(PER_PAGE),
        }
    });
    let results = Resource::new(move || query.get(), list_results);
    let templates = Resource::new(|| (), |_| my_templates());
    let chosen_template = Memo::new(move |_| query.get().template_id.filter(|t| !t.is_empty()));
    let distribution = Resource::new(
        move || chosen_template.get(),
        |template_id| async move {
            match template_id {
                Some(id) => template_scores(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    // The filter form is a plain GET form: the address always describes the table, and the
    // sort order is kept.
    let (template_choice, candidate_choice, sort) = query.with_untracked(|q| {
        (
            q.template_id.clone().unwrap_or_default(),
            q.candidate.clone().unwrap_or_default(),
            q.sort.clone(),
        )
    });
    let template_choice = StoredValue::new(template_choice);

    view! {
        <RequireRole role=Role::Recruiter>
            <Title text="Results" />
            <section class="panel" aria-labelledby="results-title">
                <p><A href="/recruiter">"← Your tests"</A></p>
                <h1 id="results-title">"Results"</h1>
                <form class="filters" role="search" method="get" action="/recruiter/results">
                    {sort.clone().map(|sort| view! { <input type="hidden" name="sort" value=sort /> })}
                    <div class="field">
                        <label for="filter-template">"Test"</label>
                        <select id="filter-template" name="template_id">
                            <option value="" selected=template_choice.with_value(String::is_empty)>"All tests"</option>
                            <Suspense fallback=|| ()>
                                {move || templates.get().and_then(Result::ok).map(|list| list.into_iter().map(|t| {
                                    let id = t.id.to_string();
                                    let selected = template_choice.with_value(|c| *c == id);
                                    view! { <option value=id selected=selected>{t.title}</option> }
                                }).collect_view())}
                            </Suspense>
                        </select>
                    </div>
                    <div class="field">
                        <label for="filter-candidate">"Candidate email contains"</label>
                        <input id="filter-candidate" name="candidate" type="search" maxlength=crate::session::MAX_SEARCH_LEN
                            value=candidate_choice.clone() />
                    </div>
                    <button type="submit" class="button">"Apply"</button>
                </form>
            </section>
            <Suspense fallback=|| ()>
                {move || distribution.get().map(|result| match result {
                    Ok(Some(d)) => view! { <ScoreChart distribution=d /> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(err) => view! { <p class="form-error" role="alert">{err.detail}</p> }.into_any(),
                })}
            </Suspense>
            <section class="panel" aria-labelledby="attempts-title">
                <h2 id="attempts-title">"Attempts"</h2>
                <Transition fallback=|| view! { <p class="loading" role="status">"Loading results…"</p> }>
                    {move || results.get().map(|result| {
                        let q = query.get_untracked();
                        let total = result.as_ref().map_or(0, |page| page.total);
                        list_view(result.map(|page| page.items), "No ended attempts match.", move |items| view! {
                            <ResultsTable items query=q.clone() />
                            <Pager query=q total />
                        })
                    })}
                </Transition>
            </section>
        </RequireRole>
    }
    .into_any()
}

/// A column header that sorts the table: the first click uses `first`, a second `second`.
fn sort_header(
    query: &ResultsQuery,
    label: &'static str,
    first: ResultsSort,
    second: Option<ResultsSort>,
) -> impl IntoView + use<> {
    let current = query
        .sort
        .as_deref()
        .and_then(ResultsSort::parse)
        .unwrap_or_default();
    let next = match second {
        Some(second) if current == first => second,
        _ => first,
    };
    let ascending = matches!(
        current,
        ResultsSort::Oldest | ResultsSort::ScoreAsc | ResultsSort::Candidate
    );
    let aria_sort = (current == first || Some(current) == second).then_some(if ascending {
        "ascending"
    } else {
        "descending"
    });
    let href = results_href(&ResultsQuery {
        sort: Some(next.as_str().to_owned()),
        page: None,
        ..query.clone()
    });
    view! {
        <th scope="col" aria-sort=aria_sort>
            <A href=href attr:title=format!("Sort: {}", next.label())>{label}</A>
        </th>
    }
}

#[component]
fn ResultsTable(items: Vec<ResultSummary>, query: ResultsQuery) -> AnyView {
    // One test's results carry each attempt's place on its leaderboard.
    let ranked = items.iter().any(|r| r.rank.is_some());
    view! {
        <div class="table-scroll">
            <table class="data" data-testid="results">
                <thead>
                    <tr>
                        {ranked.then(|| view! { <th scope="col">"Rank"</th> })}
                        {sort_header(&query, "Candidate", ResultsSort::Candidate, None)}
                        <th scope="col">"Test"</th>
                        {sort_header(&query, "Ended", ResultsSort::Newest, Some(ResultsSort::Oldest))}
                        <th scope="col">"Duration"</th>
                        <th scope="col">"Prompts"</th>
                        <th scope="col">"Accuracy"</th>
                        <th scope="col">"Speed"</th>
                        <th scope="col">"Wellness"</th>
                        {sort_header(&query, "Total", ResultsSort::ScoreDesc, Some(ResultsSort::ScoreAsc))}
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|r| {
                        let href = format!("/recruiter/results/{}", r.session_id);
                        let ended = r.ended_at.clone().unwrap_or_default();
                        view! {
                            <tr>
                                {ranked.then(|| view! { <td data-testid="result-rank">{r.rank.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td> })}
                                <th scope="row"><A href=href>{r.candidate_email.clone()}</A></th>
                                <td>{r.template_title.clone()}</td>
                                <td><time datetime=ended.clone()>{short_time(&ended)}</time></td>
                                <td>{duration_text(r.duration_seconds)}</td>
                                <td>{format!("{} / {}", r.used_prompts, r.prompt_budget)}
                                    {(r.blocked_prompts > 0).then(|| format!(" ({} blocked)", r.blocked_prompts))}</td>
                                <td>{score_part(&r.scores, |s| s.accuracy)}</td>
                                <td>{score_part(&r.scores, |s| s.speed_efficiency)}</td>
                                <td>{score_part(&r.scores, |s| s.prompt_wellness)}</td>
                                <td class="total" data-testid="result-total">{score_text(&r.scores)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn Pager(query: ResultsQuery, total: u64) -> AnyView {
    let page = query.page.unwrap_or(1).max(1);
    let pages = total.div_ceil(u64::from(PER_PAGE)).max(1);
    let link = |page: u32| {
        results_href(&ResultsQuery {
            page: Some(page),
            ..query.clone()
        })
    };
    let previous = (page > 1).then(|| link(page - 1));
    let next = (u64::from(page) < pages).then(|| link(page + 1));
    view! {
        <nav class="pager" aria-label="Result pages">
            {previous.map(|href| view! { <A href=href attr:rel="prev">"← Previous"</A> })}
            <span data-testid="page-info">{format!("Page {page} of {pages} · {total} attempts")}</span>
            {next.map(|href| view! { <A href=href attr:rel="next">"Next →"</A> })}
        </nav>
    }
    .into_any()
}

/// A bar per ten points of total score, drawn by the app (no chart library).
#[component]
fn ScoreChart(distribution: ScoreDistribution) -> AnyView {
    const LEFT: f64 = 32.0;
    const BAR: f64 = 34.0;
    const GAP: f64 = 6.0;
    const TOP: f64 = 16.0;
    const HEIGHT: f64 = 140.0;
    let highest = distribution
        .buckets
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let width = LEFT + 10.0 * (BAR + GAP);
    let label = |i: usize| {
        if i == 9 {
            "90–100".to_owned()
        } else {
            format!("{}–{}", i * 10, i * 10 + 9)
        }
    };
    let description = distribution
        .buckets
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{}: {n}", label(i)))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = match (distribution.mean, distribution.median) {
        (Some(mean), Some(median)) => format!(
            "{} graded attempts · mean {mean:.2} · median {median:.2}",
            distribution.count
        ),
        _ => "No graded attempts yet.".to_owned(),
    };
    view! {
        <section class="panel" aria-labelledby="chart-title">
            <h2 id="chart-title">"Score distribution"</h2>
            <p class="muted" data-testid="chart-summary">{summary}</p>
            <svg class="chart" data-testid="score-chart" role="img" aria-labelledby="chart-svg-title chart-svg-desc"
                viewBox=format!("0 0 {width} {}", TOP + HEIGHT + 36.0) width="100%">
                <title id="chart-svg-title">"Attempts per total score band"</title>
                <desc id="chart-svg-desc">{description}</desc>
                <line x1=LEFT y1=TOP + HEIGHT x2=width y2=TOP + HEIGHT class="axis" />
                {distribution.buckets.iter().enumerate().map(|(i, n)| {
                    let h = HEIGHT * f64::from(*n) / f64::from(highest);
                    let x = LEFT + i as f64 * (BAR + GAP);
                    view! {
                        <g>
                            <rect class="bar" x=x y=TOP + HEIGHT - h width=BAR height=h>
                                <title>{format!("{}: {n} attempts", label(i))}</title>
                            </rect>
                            <text class="count" x=x + BAR / 2.0 y=TOP + HEIGHT - h - 3.0 text-anchor="middle">{*n}</text>
                            <text class="tick" x=x + BAR / 2.0 y=TOP + HEIGHT + 14.0 text-anchor="middle">{i * 10}</text>
                        </g>
                    }
                }).collect_view()}
                <text class="tick" x=LEFT y=TOP + HEIGHT + 32.0>"total score (bands of 10 points)"</text>
            </svg>
        </section>
    }
    .into_any()
}

#[component]
pub fn ResultDetailPage() -> AnyView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, load_result);
    view! {
        <RequireRole role=Role::Recruiter>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the result…"</p> }>
                {move || detail.get().map(|result| match result {
                    Err(err) => load_failed("Cannot open this result", err.detail, "/recruiter/results", "Back to results"),
                    Ok(detail) => view! {
                        <Title text=result_title(&detail) />
                        <ResultView detail />
                    }.into_any(),
                })}
            </Suspense>
        </RequireRole>
    }
    .into_any()
}

fn result_title(detail: &ResultDetail) -> String {
    format!(
        "{} · {}",
        detail.summary.candidate_email, detail.summary.template_title
    )
}

/// One attempt in depth (an island: overriding a score updates the totals in place).
#[island(lazy)]
fn ResultView(detail: ResultDetail) -> impl IntoView {
    super::island_ready();
    let s = detail.summary.clone();
    let title = result_title(&detail);
    let back = results_href(&ResultsQuery {
        template_id: Some(s.template_id.to_string()),
        ..ResultsQuery::default()
    });
    let weights = detail.weights;
    let ended = s.ended_at.clone().unwrap_or_default();
    // Overrides change them without reloading the page.
    let scores = RwSignal::new(s.scores);
    super::server_erased(view! {
        <section class="panel" aria-labelledby="detail-title" data-testid="result-detail">
            <p><a href=back>"← Results of this test"</a></p>
            <h1 id="detail-title">{title}</h1>
            <dl class="facts">
                <div><dt>"Status"</dt><dd>{detail.status.label()}</dd></div>
                <div><dt>"Started"</dt><dd><time datetime=s.start_time.clone()>{short_time(&s.start_time)}</time></dd></div>
                <div><dt>"Ended"</dt><dd><time datetime=ended.clone()>{short_time(&ended)}</time></dd></div>
                <div><dt>"Time used"</dt><dd>{format!("{} of {} min", duration_text(s.duration_seconds), detail.time_limit_minutes)}</dd></div>
                <div><dt>"AI prompts"</dt><dd>{format!("{} of {} used, {} blocked", s.used_prompts, s.prompt_budget, s.blocked_prompts)}</dd></div>
            </dl>
            <div aria-live="polite">
                {move || match scores.get() {
                    Some(scores) => Either::Left(view! {
                        <p class="total">"Total score "<strong data-testid="detail-total">{format!("{:.2}", scores.total_score)}</strong>" / 100"</p>
                        <dl class="scores">
                            <div><dt>{format!("Accuracy (weight {})", weights.accuracy)}</dt><dd data-testid="detail-accuracy">{format!("{:.2}", scores.accuracy)}</dd></div>
                            <div><dt>{format!("Speed (weight {})", weights.speed_efficiency)}</dt><dd>{format!("{:.2}", scores.speed_efficiency)}</dd></div>
                            <div><dt>{format!("Prompt wellness (weight {})", weights.prompt_wellness)}</dt><dd>{format!("{:.2}", scores.prompt_wellness)}</dd></div>
                        </dl>
                    }),
                    None => Either::Right(view! { <p class="muted">"Not graded yet."</p> }),
                }}
            </div>
        </section>
        <section class="panel" aria-labelledby="answers-title">
            <h2 id="answers-title">"Answers"</h2>
            <ol class="result-questions">
                {detail.questions.into_iter().map(|q| {
                    let session_id = s.session_id.to_string();
                    view! { <ResultQuestionView q session_id scores /> }
                }).collect_view()}
            </ol>
        </section>
        <section class="panel" aria-labelledby="prompts-title">
            <h2 id="prompts-title">"AI assistant"</h2>
            <p>{format!("{} prompts of a budget of {}; {} blocked by the gatekeeper.", s.used_prompts, s.prompt_budget, s.blocked_prompts)}</p>
            {(!detail.prompts.is_empty()).then(|| view! {
                <ol class="exchanges" data-testid="prompt-history">
                    {detail.prompts.into_iter().map(|p| view! {
                        <li class=if p.was_blocked { "exchange blocked" } else { "exchange" }>
                            <p class="you">
                                <time datetime=p.timestamp.clone()>{short_time(&p.timestamp)}</time>
                                {p.question_id.map(|q| format!(" · question {q}"))}
                                {format!(" · {}", p.provider)}
                            </p>
                            <p><strong>"Prompt: "</strong>{p.prompt}</p>
                            {p.was_blocked.then(|| view! {
                                <p class="blocked-mark">{format!("Blocked: {}", p.reason.unwrap_or_default())}</p>
                            })}
                            <div class="reply">{p.response}</div>
                        </li>
                    }).collect_view()}
                </ol>
            })}
        </section>
        <section class="panel" aria-labelledby="chat-title">
            <h2 id="chat-title">"Interviewer chat"</h2>
            {if detail.chat.is_empty() {
                Either::Left(view! { <p class="muted">"No messages."</p> })
            } else {
                Either::Right(view! {
                    <ol class="transcript" data-testid="transcript">
                        {detail.chat.into_iter().map(|line| {
                            let who = match line.speaker {
                                Speaker::Candidate => "Candidate",
                                Speaker::Interviewer => "Interviewer",
                                Speaker::System => "System",
                            };
                            view! {
                                <li class=format!("line {}", who.to_ascii_lowercase())>
                                    <time datetime=line.timestamp.clone()>{short_time(&line.timestamp)}</time>
                                    " "<strong>{who}": "</strong>{line.message}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                })
            }}
        </section>
        <section class="panel" aria-labelledby="integrity-title">
            <h2 id="integrity-title">"Integrity timeline"</h2>
            {if detail.integrity_events.is_empty() {
                Either::Left(view! { <p class="muted">"No events: the candidate stayed on the test."</p> })
            } else {
                Either::Right(view! {
                    <ol class="timeline" data-testid="integrity-timeline">
                        {detail.integrity_events.into_iter().map(|e| view! {
                            <li>
                                <time datetime=e.timestamp.clone()>{short_time(&e.timestamp)}</time>
                                " "<strong>{e.kind.label()}</strong>
                                {(!e.detail.is_empty()).then(|| format!(" — {}", e.detail))}
                            </li>
                        }).collect_view()}
                    </ol>
                })
            }}
        </section>
    })
}

fn answer_text(answer: &Value) -> String {
    match answer {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[component]
fn ResultQuestionView(
    q: ResultQuestion,
    session_id: String,
    scores: RwSignal<Option<Scores>>,
) -> impl IntoView {
    let ResultQuestion {
        question,
        answer,
        grade,
    } = q;
    let question_id = question.id.clone();
    let answer = answer.map(|a| a.answer);
    let body = match &question.kind {
        QuestionKind::MultipleChoice { options, correct } => {
            let chosen: Vec<usize> = answer
                .as_ref()
                .and_then(|a| serde_json::from_value(a.clone()).ok())
                .unwrap_or_default();
            EitherOf3::A(view! {
                <ul class="choices">
                    {options.iter().enumerate().map(|(i, option)| {
                        let picked = chosen.contains(&i);
                        let right = correct.contains(&i);
                        let mark = match (picked, right) {
                            (true, true) => "✔ chosen, correct",
                            (true, false) => "✘ chosen, wrong",
                            (false, true) => "correct, not chosen",
                            (false, false) => "",
                        };
                        view! { <li class:picked=picked>{option.clone()}{(!mark.is_empty()).then(|| view! { <span class="muted">{format!(" ({mark})")}</span> })}</li> }
                    }).collect_view()}
                </ul>
            })
        }
        QuestionKind::Coding { .. } | QuestionKind::Theory { .. } => match &answer {
            Some(a) => EitherOf3::B(view! { <pre class="code answer">{answer_text(a)}</pre> }),
            None => EitherOf3::C(view! { <p class="muted">"No answer."</p> }),
        },
    };
    let hidden = match &question.kind {
        QuestionKind::Coding { test_cases, .. } => Some(test_cases.clone()),
        _ => None,
    };
    let reference = match &question.kind {
        QuestionKind::Theory {
            reference_answer,
            rubric_keywords,
        } => Some((reference_answer.clone(), rubric_keywords.join(", "))),
        _ => None,
    };
    super::server_erased(view! {
        <li class="result-question">
            <h3>{question.prompt.clone()}</h3>
            {body}
            {reference.map(|(answer, keywords)| view! {
                <details>
                    <summary>"Reference answer and rubric"</summary>
                    <p>{answer}</p>
                    <p class="muted">{format!("Keywords: {keywords}")}</p>
                </details>
            })}
            {match grade {
                Some(g) => {
                    let tests = g.tests.clone();
                    let cases = hidden.unwrap_or_default();
                    let grade = RwSignal::new(g);
                    Either::Left(view! {
                        <GradeLine grade />
                        {(!tests.is_empty()).then(|| view! {
                            <table class="data tests">
                                <thead><tr><th scope="col">"Test"</th><th scope="col">"Input"</th><th scope="col">"Expected"</th><th scope="col">"Outcome"</th><th scope="col">"Time"</th></tr></thead>
                                <tbody>
                                    {tests.into_iter().enumerate().map(|(i, t)| {
                                        let case = cases.get(i);
                                        view! {
                                            <tr class:failed=!t.passed>
                                                <th scope="row">{i + 1}</th>
                                                <td><code>{case.map(|c| Value::Array(c.input.clone()).to_string())}</code></td>
                                                <td><code>{case.map(|c| c.expected.to_string())}</code></td>
                                                <td>{if t.passed { "passed".to_owned() } else { format!("failed: {}", t.error.unwrap_or_default()) }}</td>
                                                <td>{format!("{} ms", t.millis)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })}
                        <OverrideScore session_id question_id grade scores />
                    })
                }
                None => Either::Right(view! { <p class="muted">"Not graded."</p> }),
            }}
        </li>
    })
}

/// A question's score and how it came about; an override shows beside the graded score.
#[component]
fn GradeLine(grade: RwSignal<QuestionGrade>) -> impl IntoView {
    super::server_erased(view! {
        <div aria-live="polite">
            {move || {
                let g = grade.get();
                match g.overridden {
                    None => Either::Left(view! {
                        <p class="grade">
                            <strong data-testid="question-score">{format!("{:.2} / 100", g.score)}</strong>
                            " — "{g.explanation}
                        </p>
                    }),
                    Some(o) => Either::Right(view! {
                        <p class="grade">
                            <strong data-testid="question-score">{format!("{:.2} / 100", o.score)}</strong>
                            <span class="badge">"overridden"</span>
                            {format!(" (graded {:.2}) — ", g.score)}{g.explanation}
                        </p>
                        <p class="override-note" data-testid="override-note">
                            <strong>"Override: "</strong>{o.note}
                            <span class="muted">{format!(" — {}, ", o.by)}<time datetime=o.at.clone()>{short_time(&o.at)}</time></span>
                        </p>
                    }),
                }
            }}
        </div>
    })
}

/// The recruiter's own score for a question (with a required note), or taking it back. The
/// totals above follow without a reload.
#[component]
fn OverrideScore(
    session_id: String,
    question_id: String,
    grade: RwSignal<QuestionGrade>,
    scores: RwSignal<Option<Scores>>,
) -> impl IntoView {
    let ids = StoredValue::new((session_id, question_id));
    let score = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let save = Action::new_local(move |input: &Option<OverrideInput>| {
        let (session_id, question_id) = ids.get_value();
        let input = input.clone();
        async move {
            let result = override_score(session_id, question_id.clone(), input).await;
            match result {
                Ok(detail) => {
                    if let Some(updated) = detail
                        .questions
                        .into_iter()
                        .find(|q| q.question.id == question_id)
                        .and_then(|q| q.grade)
                    {
                        grade.set(updated);
                    }
                    scores.set(detail.summary.scores);
                    score.set(String::new());
                    note.set(String::new());
                    problem.set(None);
                }
                Err(err) => problem.set(Some(err.detail)),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        match super::parse_number(&score.get_untracked()) {
            Some(value) if (0.0..=100.0).contains(&value) => {
                save.dispatch(Some(OverrideInput {
                    score: value,
                    note: note.get_untracked(),
                }));
            }
            _ => problem.set(Some("Enter a score from 0 to 100.".into())),
        }
    };
    let field = |suffix: &str| ids.with_value(|(_, q)| format!("override-{q}-{suffix}"));
    let (score_id, note_id) = (field("score"), field("note"));
    super::server_erased(view! {
        <div class="override" data-testid="override">
            {move || grade.with(|g| g.overridden.is_some()).then(|| view! {
                <button type="button" class="button secondary" aria-disabled=move || save.pending().get().to_string()
                    on:click=move |_| { if !save.pending().get_untracked() { save.dispatch(None); } }>
                    "Remove override"
                </button>
            })}
            <details>
                <summary>"Override this score"</summary>
                <form class="override-form" on:submit=submit>
                    <label class="field">
                        <span>"Score (0–100)"</span>
                        <input id=score_id type="number" min="0" max="100" step="0.01" required
                            prop:value=move || score.get()
                            on:input=move |ev| score.set(event_target_value(&ev)) />
                    </label>
                    <label class="field">
                        <span>"Why (kept with the score)"</span>
                        <textarea id=note_id rows="2" maxlength=MAX_OVERRIDE_NOTE_CHARS.to_string() required
                            prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                    </label>
                    // `aria-disabled`, not `disabled`, which would take the keyboard focus away
                    // from the button just pressed; `submit` ignores it meanwhile.
                    <button type="submit" class="button" aria-disabled=move || save.pending().get().to_string()>
                        {move || if save.pending().get() { "Saving…" } else { "Save override" }}
                    </button>
                </form>
            </details>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
        </div>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_results_address_names_only_what_differs_from_the_defaults() {
        assert_eq!(results_href(&ResultsQuery::default()), "/recruiter/results");
        let query = ResultsQuery {
            template_id: Some("6b08e8c2e3c8ef86009de52a".into()),
            candidate: Some("ann@example.com".into()),
            sort: Some("score_desc".into()),
            page: Some(2),
            per_page: Some(PER_PAGE),
        };
        assert_eq!(
            results_href(&query),
            "/recruiter/results?template_id=6b08e8c2e3c8ef86009de52a\
             &candidate=ann%40example.com&sort=score_desc&page=2"
        );
        let first_page_default_sort = ResultsQuery {
            sort: Some(ResultsSort::default().as_str().into()),
            page: Some(1),
            candidate: Some(String::new()),
            ..ResultsQuery::default()
        };
        assert_eq!(results_href(&first_page_default_sort), "/recruiter/results");
    }
}
