//! `/api/v1/recruiter/...`: test templates (recruiters only: a candidate gets 403, anyone
//! signed out 401).

use app::backend::AppState;
use app::backend::auth::web::{RecruiterClaimant, RecruiterUser};
use app::backend::error::AppError;
use app::backend::results;
use app::backend::templates::{self, parse_id};
use app::model::Id;
use app::session::{
    OverrideInput, ResultDetail, ResultSummary, ResultsPage, ResultsQuery, ScoreDistribution,
};
use app::template::{Template, TemplateInput};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(list))
        .routes(routes!(show, update))
        .routes(routes!(publish))
        .routes(routes!(archive))
        .routes(routes!(score_distribution))
        .routes(routes!(leaderboard))
        .routes(routes!(results))
        .routes(routes!(results_csv))
        .routes(routes!(result))
        .routes(routes!(set_override, clear_override))
        .routes(routes!(in_progress))
}

/// `?page=abc` names the parameter in a 422, like a bad body field.
fn bad_query(rejection: QueryRejection) -> AppError {
    let text = rejection.body_text();
    let message = text
        .strip_prefix("Failed to deserialize query string:")
        .unwrap_or(&text)
        .trim();
    AppError::invalid(message.to_owned())
}

/// Bytes of JSON a result summary takes, about (a list's body is written into one buffer of
/// this much per item: `Json` starts at 128 bytes and doubles, copying a page of 20 seven times).
const SUMMARY_JSON_BYTES: usize = 512;

/// Result summaries as a JSON response, written into one buffer sized for them.
fn summaries_json(items: &[ResultSummary]) -> Result<Response, AppError> {
    let mut body = Vec::with_capacity(items.len().saturating_mul(SUMMARY_JSON_BYTES) + 2);
    serde_json::to_writer(&mut body, items)
        .map_err(|e| AppError::Internal(format!("writing result summaries: {e}")))?;
    let content_type = HeaderValue::from_static("application/json");
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// A page of results as JSON, with the number on all pages in `X-Total-Count`.
fn counted(page: ResultsPage) -> Result<Response, AppError> {
    let mut response = summaries_json(&page.items)?;
    response.headers_mut().insert(
        HeaderName::from_static("x-total-count"),
        HeaderValue::from(page.total),
    );
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/recruiter/sessions/in-progress",
    tag = "recruiter",
    security(("bearer" = [])),
    responses(
        (status = OK, description = "Sessions in progress on the recruiter's templates", body = Vec<ResultSummary>),
    ),
)]
async fn in_progress(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
) -> Result<impl IntoResponse, AppError> {
    summaries_json(&results::in_progress(&state, &user.id).await?)
}

#[utoipa::path(
    get,
    path = "/recruiter/results",
    tag = "recruiter",
    security(("bearer" = [])),
    params(ResultsQuery),
    responses(
        (status = OK, description = "A page of ended sessions on the recruiter's templates", body = Vec<ResultSummary>, headers(("x-total-count" = u64, description = "Matching results on all pages"))),
    ),
)]
async fn results(
    State(state): State<AppState>,
    RecruiterClaimant(recruiter): RecruiterClaimant,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Query(query) = recruiter.confirm(&state, query.map_err(bad_query)).await?;
    counted(results::list(&state, &recruiter, &query).await?)
}

/// `?page=&per_page=`; other parameters of the results listing are ignored.
#[utoipa::path(
    get,
    path = "/recruiter/test-template/{id}/leaderboard",
    tag = "recruiter",
    security(("bearer" = [])),
    params(
        ("id" = Id, Path, description = "The template"),
        ("page" = Option<u32>, Query, description = "From 1 (the default)", minimum = 1, maximum = 1_000_000),
        ("per_page" = Option<u32>, Query, description = "1–100, 20 by default", minimum = 1, maximum = 100),
    ),
    responses(
        (status = OK, description = "A page of the template's ended sessions, best first, with `rank`", body = Vec<ResultSummary>, headers(("x-total-count" = u64, description = "Matching results on all pages"))),
        (status = BAD_REQUEST, description = "The id is not 24 hexadecimal digits", body = super::ErrorBody),
    ),
)]
async fn leaderboard(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Query(query) = query.map_err(bad_query)?;
    counted(results::leaderboard(&state, &user.id, &id, query.page, query.per_page).await?)
}

#[utoipa::path(
    get,
    path = "/recruiter/result/{session_id}",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session")),
    responses(
        (status = OK, description = "One session in depth: grades, answers, chat, prompts, integrity events", body = ResultDetail),
    ),
)]
async fn result(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(session_id): Path<String>,
) -> Result<Json<ResultDetail>, AppError> {
    Ok(Json(results::detail(&state, &user.id, &session_id).await?))
}

/// Body `{score, note}`: the recruiter's score for the question counts instead of the grader's.
#[utoipa::path(
    put,
    path = "/recruiter/result/{session_id}/question/{question_id}/override",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session"), ("question_id" = String, Path, description = "The question's id within the template")),
    request_body = OverrideInput,
    responses(
        (status = OK, description = "The result with the override counted", body = ResultDetail),
        (status = BAD_REQUEST, description = "The session is still in progress", body = super::ErrorBody),
    ),
)]
async fn set_override(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path((session_id, question_id)): Path<(String, String)>,
    body: Result<Json<OverrideInput>, JsonRejection>,
) -> Result<Json<ResultDetail>, AppError> {
    let Json(input) = body?;
    Ok(Json(
        results::override_score(&state, &user, &session_id, &question_id, Some(input)).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/recruiter/result/{session_id}/question/{question_id}/override",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "The session"), ("question_id" = String, Path, description = "The question's id within the template")),
    responses(
        (status = OK, description = "The result with the grader's score back", body = ResultDetail),
        (status = BAD_REQUEST, description = "The session is still in progress", body = super::ErrorBody),
    ),
)]
async fn clear_override(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path((session_id, question_id)): Path<(String, String)>,
) -> Result<Json<ResultDetail>, AppError> {
    Ok(Json(
        results::override_score(&state, &user, &session_id, &question_id, None).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/recruiter/test-template/{id}/score-distribution",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("id" = Id, Path, description = "The template")),
    responses(
        (status = OK, description = "Totals of the template's ended sessions in ten buckets", body = ScoreDistribution),
        (status = BAD_REQUEST, description = "The id is not 24 hexadecimal digits", body = super::ErrorBody),
    ),
)]
async fn score_distribution(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<ScoreDistribution>, AppError> {
    Ok(Json(results::distribution(&state, &user.id, &id).await?))
}

#[utoipa::path(
    get,
    path = "/recruiter/results.csv",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("template_id" = Option<String>, Query, description = "Only sessions of this template (blank: all)", pattern = r"^\s*([0-9a-fA-F]{24})?\s*$")),
    responses(
        (status = OK, description = "Every ended session (optionally of one template) as CSV", body = String, content_type = "text/csv"),
    ),
)]
async fn results_csv(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Query(query) = query.map_err(bad_query)?;
    let body = results::csv(&state, &user.id, query.template_id.as_deref()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"results.csv\"",
            ),
        ],
        body,
    ))
}

#[utoipa::path(
    post,
    path = "/recruiter/test-template",
    tag = "recruiter",
    security(("bearer" = [])),
    request_body = TemplateInput,
    responses(
        (status = CREATED, description = "The template (published unless `status` is `draft`)", body = Template),
    ),
)]
async fn create(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    body: Result<Json<TemplateInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Template>), AppError> {
    let Json(input) = body?;
    let template = templates::create(&state, &user.id, input).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

#[utoipa::path(
    get,
    path = "/recruiter/test-templates",
    tag = "recruiter",
    security(("bearer" = [])),
    responses(
        (status = OK, description = "The recruiter's templates, newest first", body = Vec<Template>),
    ),
)]
async fn list(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
) -> Result<Json<Vec<Template>>, AppError> {
    Ok(Json(templates::list(&state, &user.id).await?))
}

#[utoipa::path(
    get,
    path = "/recruiter/test-template/{id}",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("id" = Id, Path, description = "The template")),
    responses(
        (status = OK, description = "The template with its hidden parts", body = Template),
        (status = BAD_REQUEST, description = "The id is not 24 hexadecimal digits", body = super::ErrorBody),
    ),
)]
async fn show(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        templates::get(&state, &user.id, &parse_id(&id)?).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/recruiter/test-template/{id}",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("id" = Id, Path, description = "The template")),
    request_body = TemplateInput,
    responses(
        (status = OK, description = "The edited template (a new version if sessions were started from it)", body = Template),
        (status = BAD_REQUEST, description = "The id is not 24 hexadecimal digits", body = super::ErrorBody),
        (status = CONFLICT, description = "The template was changed meanwhile; reload and apply the edit again", body = super::ErrorBody),
    ),
)]
async fn update(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
    body: Result<Json<TemplateInput>, JsonRejection>,
) -> Result<Json<Template>, AppError> {
    let id = parse_id(&id)?;
    let Json(input) = body?;
    Ok(Json(templates::update(&state, &user.id, &id, input).await?))
}

#[utoipa::path(
    post,
    path = "/recruiter/test-template/{id}/publish",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("id" = Id, Path, description = "The template")),
    responses(
        (status = OK, description = "The template, published", body = Template),
        (status = BAD_REQUEST, description = "The id is not 24 hexadecimal digits", body = super::ErrorBody),
    ),
)]
async fn publish(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        templates::publish(&state, &user.id, &parse_id(&id)?).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/recruiter/test-template/{id}/archive",
    tag = "recruiter",
    security(("bearer" = [])),
    params(("id" = Id, Path, description = "The template")),
    responses(
        (status = OK, description = "The template, archived (no new sessions)", body = Template),
        (status = BAD_REQUEST, description = "The id is not 24 hexadecimal digits", body = super::ErrorBody),
    ),
)]
async fn archive(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        templates::archive(&state, &user.id, &parse_id(&id)?).await?,
    ))
}
