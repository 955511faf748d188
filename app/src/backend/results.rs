//! Results: ended attempts at a recruiter's own templates, as a page, one in depth, or CSV.

use super::AppState;
use super::auth::Claimant;
use super::error::AppError;
use super::scoring;
use super::sessions::saved_answer;
use super::store::{ResultsFilter, SessionOverview, UserRecord, now, rfc3339};
use super::templates::parse_id;
use crate::model::Id;
use crate::session::{
    MAX_OVERRIDE_NOTE_CHARS, MAX_PAGE, MAX_PER_PAGE, MAX_SEARCH_LEN, OverrideInput, ResultDetail,
    ResultQuestion, ResultSummary, ResultsPage, ResultsQuery, ResultsSort, ScoreDistribution,
    ScoreOverride,
};

const NOT_FOUND: &str = "Result not found.";
/// Chat lines shown with a result.
const TRANSCRIPT_LIMIT: u32 = 2_000;
/// Rows of one CSV export at most.
const CSV_LIMIT: u32 = 10_000;

fn summary(session: SessionOverview) -> ResultSummary {
    let ended = session.ended_at.unwrap_or(session.deadline);
    ResultSummary {
        start_time: rfc3339(session.started_at),
        ended_at: session.ended_at.map(rfc3339),
        duration_seconds: (ended - session.started_at).num_seconds().max(0),
        session_id: session.id,
        template_id: session.template_id,
        template_title: session.title,
        candidate_id: session.candidate_id,
        candidate_email: session.candidate_email,
        used_prompts: session.used_prompts,
        blocked_prompts: session.blocked_prompts,
        prompt_budget: session.prompt_budget,
        scores: session.scores,
        rank: None,
    }
}

/// Sessions of the recruiter's tests in progress right now (for watching them live), most
/// recently started first.
pub async fn in_progress(state: &AppState, recruiter: &Id) -> Result<Vec<ResultSummary>, AppError> {
    Ok(state
        .store
        .sessions
        .in_progress_for_recruiter(recruiter, MAX_PER_PAGE)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// Competition ranking: one more than the number of strictly higher totals.
fn rank_of(total: f64, totals: &[f64]) -> u32 {
    let higher = totals.iter().filter(|t| **t > total).count();
    u32::try_from(higher).map_or(u32::MAX, |h| h.saturating_add(1))
}

/// `?template_id=`: blank means every template; anything else must be an id (422 otherwise, like
/// any other invalid query parameter).
fn template_filter(raw: Option<&str>) -> Result<Option<Id>, AppError> {
    raw.filter(|t| !t.trim().is_empty())
        .map(|raw| {
            Id::parse(raw)
                .map_err(|_| AppError::invalid("template_id: must be 24 hexadecimal digits".into()))
        })
        .transpose()
}

fn results_filter(query: &ResultsQuery) -> Result<ResultsFilter, AppError> {
    let sort = match query
        .sort
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => ResultsSort::default(),
        Some(raw) => ResultsSort::parse(raw).ok_or_else(|| {
            let names: Vec<_> = ResultsSort::ALL.iter().map(|s| s.as_str()).collect();
            AppError::invalid(format!("sort: must be one of {}", names.join(", ")))
        })?,
    };
    let candidate = query
        .candidate
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if candidate.is_some_and(|c| c.chars().count() > MAX_SEARCH_LEN) {
        return Err(AppError::invalid(format!(
            "candidate: must be at most {MAX_SEARCH_LEN} characters"
        )));
    }
    Ok(ResultsFilter {
        template_id: template_filter(query.template_id.as_deref())?,
        candidate: candidate.map(str::to_owned),
        sort,
    })
}

/// A listing's query, checked: the filter, how many rows to skip and the page's size.
fn page_of(query: &ResultsQuery) -> Result<(ResultsFilter, u64, u32), AppError> {
    let filter = results_filter(query)?;
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(20);
    if page == 0 || page > MAX_PAGE {
        return Err(AppError::invalid(format!(
            "page: pages are numbered from 1 to {MAX_PAGE}"
        )));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(AppError::invalid(format!(
            "per_page: must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    Ok((filter, u64::from(page - 1) * u64::from(per_page), per_page))
}

/// A page of the recruiter's results. The recruiter is named by their token alone: the
/// listing's read checks that their account still exists (see [`Claimant`]).
pub async fn list(
    state: &AppState,
    recruiter: &Claimant,
    query: &ResultsQuery,
) -> Result<ResultsPage, AppError> {
    let (filter, skip, per_page) = recruiter.confirm(state, page_of(query)).await?;
    page(state, &recruiter.id, &filter, skip, per_page).await
}

/// One page of the recruiter's results (401 when their account no longer exists).
async fn page(
    state: &AppState,
    recruiter: &Id,
    filter: &ResultsFilter,
    skip: u64,
    per_page: u32,
) -> Result<ResultsPage, AppError> {
    let found = state
        .store
        .sessions
        .list_completed_for_recruiter(recruiter, filter, skip, per_page)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut items: Vec<ResultSummary> = found.items.into_iter().map(summary).collect();
    if let Some(template_id) = &filter.template_id {
        let totals = state
            .store
            .sessions
            .completed_totals(recruiter, template_id)
            .await?;
        for item in &mut items {
            item.rank = item.scores.map(|s| rank_of(s.total_score, &totals));
        }
    }
    Ok(ResultsPage {
        items,
        total: found.total,
    })
}

/// One template's leaderboard: its ended attempts, highest total first, each with its rank.
pub async fn leaderboard(
    state: &AppState,
    recruiter: &Id,
    template_id: &str,
    page: Option<u32>,
    per_page: Option<u32>,
) -> Result<ResultsPage, AppError> {
    let id = parse_id(template_id)?;
    super::templates::get(state, recruiter, &id).await?;
    let (filter, skip, per_page) = page_of(&ResultsQuery {
        template_id: Some(id.to_string()),
        sort: Some(ResultsSort::ScoreDesc.as_str().to_owned()),
        page,
        per_page,
        candidate: None,
    })?;
    self::page(state, recruiter, &filter, skip, per_page).await
}

/// How the total scores of one of the recruiter's templates spread.
pub async fn distribution(
    state: &AppState,
    recruiter: &Id,
    template_id: &str,
) -> Result<ScoreDistribution, AppError> {
    let template_id = parse_id(template_id)?;
    super::templates::get(state, recruiter, &template_id).await?;
    let totals = state
        .store
        .sessions
        .completed_totals(recruiter, &template_id)
        .await?;
    Ok(ScoreDistribution::of(&totals))
}

pub async fn detail(
    state: &AppState,
    recruiter: &Id,
    raw_id: &str,
) -> Result<ResultDetail, AppError> {
    let id = parse_id(raw_id)?;
    let record = match state.store.sessions.find(&id).await? {
        Some(r) if &r.recruiter_id == recruiter => r,
        _ => return Err(AppError::NotFound(NOT_FOUND.into())),
    };
    let chat = state.store.chat.history(&id, TRANSCRIPT_LIMIT).await?;
    let events = state.store.sessions.events(&id).await?;
    let prompts = state.store.sessions.prompts(&id).await?;
    let grades = record.grading.as_ref().map(|g| &g.questions);
    Ok(ResultDetail {
        summary: summary(record.overview()),
        status: record.status,
        weights: record.content.weights,
        time_limit_minutes: record.content.time_limit_minutes,
        questions: record
            .content
            .questions
            .iter()
            .map(|q| ResultQuestion {
                question: q.clone(),
                answer: record.answer(&q.id).map(saved_answer),
                grade: grades.and_then(|g| g.iter().find(|g| g.question_id == q.id).cloned()),
            })
            .collect(),
        chat: chat.into_iter().map(super::chat::transcript_line).collect(),
        prompts: prompts.into_iter().map(super::assistant::line).collect(),
        integrity_events: events
            .into_iter()
            .map(super::sessions::integrity_event)
            .collect(),
    })
}

/// Overrides are read-modify-write of a session's grading: one at a time, so that two of them
/// (on different questions of one session) cannot lose each other.
static OVERRIDES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn valid_override(input: OverrideInput, by: &str) -> Result<ScoreOverride, AppError> {
    if !input.score.is_finite() || !(0.0..=100.0).contains(&input.score) {
        return Err(AppError::invalid(
            "score: must be a number from 0 to 100".into(),
        ));
    }
    let note = input.note.trim();
    if note.is_empty() {
        return Err(AppError::invalid(
            "note: say why the score is overridden".into(),
        ));
    }
    if note.chars().count() > MAX_OVERRIDE_NOTE_CHARS {
        return Err(AppError::invalid(format!(
            "note: must be at most {MAX_OVERRIDE_NOTE_CHARS} characters"
        )));
    }
    Ok(ScoreOverride {
        score: scoring::round2(input.score),
        note: note.to_owned(),
        by: by.to_owned(),
        at: rfc3339(now()),
    })
}

/// Sets the recruiter's own score for one question of an ended attempt at their test (or, with
/// `None`, removes it) and recomputes the attempt's scores; the grader's score stays beside it.
pub async fn override_score(
    state: &AppState,
    recruiter: &UserRecord,
    raw_session_id: &str,
    question_id: &str,
    input: Option<OverrideInput>,
) -> Result<ResultDetail, AppError> {
    let id = parse_id(raw_session_id)?;
    let overridden = input
        .map(|input| valid_override(input, &recruiter.email))
        .transpose()?;
    let _one_at_a_time = OVERRIDES.lock().await;
    let record = match state.store.sessions.find(&id).await? {
        Some(r) if r.recruiter_id == recruiter.id => super::sessions::settle(state, r).await?,
        _ => return Err(AppError::NotFound(NOT_FOUND.into())),
    };
    let Some(grading) = record.grading.clone() else {
        return Err(AppError::BadRequest(
            "The attempt is still in progress: scores can be overridden once it has ended.".into(),
        ));
    };
    let mut questions = grading.questions;
    let grade = questions
        .iter_mut()
        .find(|g| g.question_id == question_id)
        .ok_or_else(|| AppError::NotFound(super::sessions::QUESTION_NOT_FOUND.into()))?;
    grade.overridden = overridden;
    let regraded = scoring::grading(&record, questions);
    state.store.sessions.set_grading(&id, &regraded).await?;
    tracing::info!(session_id = %id, question_id, total = regraded.scores.total_score, "score overridden");
    detail(state, &recruiter.id, raw_session_id).await
}

/// A CSV field: quoted when needed, and never read as a formula by a spreadsheet.
fn csv_field(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

pub const CSV_HEADER: &str = "session_id,template,candidate_email,start_time,end_time,duration_seconds,prompts_used,prompts_blocked,accuracy,speed_efficiency,prompt_wellness,total_score";

/// One row per ended attempt (most recently ended first).
pub async fn csv(
    state: &AppState,
    recruiter: &Id,
    template_id: Option<&str>,
) -> Result<String, AppError> {
    let filter = ResultsFilter {
        template_id: template_filter(template_id)?,
        ..ResultsFilter::default()
    };
    let found = state
        .store
        .sessions
        .list_completed_for_recruiter(recruiter, &filter, 0, CSV_LIMIT)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for record in found.items {
        let s = summary(record);
        let score = |f: fn(&crate::session::Scores) -> f64| {
            s.scores
                .as_ref()
                .map(|x| format!("{:.2}", f(x)))
                .unwrap_or_default()
        };
        let row = [
            s.session_id.to_string(),
            csv_field(&s.template_title),
            csv_field(&s.candidate_email),
            s.start_time.clone(),
            s.ended_at.clone().unwrap_or_default(),
            s.duration_seconds.to_string(),
            s.used_prompts.to_string(),
            s.blocked_prompts.to_string(),
            score(|x| x.accuracy),
            score(|x| x.speed_efficiency),
            score(|x| x.prompt_wellness),
            score(|x| x.total_score),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_totals_share_a_place_and_the_next_place_is_skipped() {
        let totals = [90.0, 75.5, 75.5, 40.0];
        let ranks: Vec<u32> = totals.iter().map(|t| super::rank_of(*t, &totals)).collect();
        assert_eq!(ranks, [1, 2, 2, 4]);
    }

    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
