//! `/api/v1/recruiter/...`: test templates (recruiters only: a candidate gets 403, anyone
//! signed out 401).

use app::backend::AppState;
use app::backend::auth::web::RecruiterUser;
use app::backend::error::AppError;
use app::backend::results;
use app::backend::templates::{self, parse_id};
use app::session::{
    OverrideInput, ResultDetail, ResultSummary, ResultsPage, ResultsQuery, ScoreDistribution,
};
use app::template::{Template, TemplateInput};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recruiter/test-template", post(create))
        .route("/recruiter/test-templates", get(list))
        .route("/recruiter/test-template/{id}", get(show).put(update))
        .route("/recruiter/test-template/{id}/publish", post(publish))
        .route("/recruiter/test-template/{id}/archive", post(archive))
        .route(
            "/recruiter/test-template/{id}/score-distribution",
            get(score_distribution),
        )
        .route(
            "/recruiter/test-template/{id}/leaderboard",
            get(leaderboard),
        )
        .route("/recruiter/results", get(results))
        .route("/recruiter/results.csv", get(results_csv))
        .route("/recruiter/result/{session_id}", get(result))
        .route(
            "/recruiter/result/{session_id}/question/{question_id}/override",
            axum::routing::put(set_override).delete(clear_override),
        )
        .route("/recruiter/sessions/in-progress", get(in_progress))
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

/// A page of results as JSON, with the number on all pages in `X-Total-Count`.
fn counted(page: ResultsPage) -> impl IntoResponse {
    (
        [(
            HeaderName::from_static("x-total-count"),
            page.total.to_string(),
        )],
        Json(page.items),
    )
}

async fn in_progress(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
) -> Result<Json<Vec<ResultSummary>>, AppError> {
    Ok(Json(results::in_progress(&state, &user.id).await?))
}

async fn results(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Query(query) = query.map_err(bad_query)?;
    Ok(counted(results::list(&state, &user.id, &query).await?))
}

/// `?page=&per_page=`; other parameters of the results listing are ignored.
async fn leaderboard(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Query(query) = query.map_err(bad_query)?;
    Ok(counted(
        results::leaderboard(&state, &user.id, &id, query.page, query.per_page).await?,
    ))
}

async fn result(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(session_id): Path<String>,
) -> Result<Json<ResultDetail>, AppError> {
    Ok(Json(results::detail(&state, &user.id, &session_id).await?))
}

/// Body `{score, note}`: the recruiter's score for the question counts instead of the grader's.
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

async fn clear_override(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path((session_id, question_id)): Path<(String, String)>,
) -> Result<Json<ResultDetail>, AppError> {
    Ok(Json(
        results::override_score(&state, &user, &session_id, &question_id, None).await?,
    ))
}

async fn score_distribution(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<ScoreDistribution>, AppError> {
    Ok(Json(results::distribution(&state, &user.id, &id).await?))
}

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

async fn create(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    body: Result<Json<TemplateInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Template>), AppError> {
    let Json(input) = body?;
    let template = templates::create(&state, &user.id, input).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

async fn list(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
) -> Result<Json<Vec<Template>>, AppError> {
    Ok(Json(templates::list(&state, &user.id).await?))
}

async fn show(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        templates::get(&state, &user.id, &parse_id(&id)?).await?,
    ))
}

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

async fn publish(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        templates::publish(&state, &user.id, &parse_id(&id)?).await?,
    ))
}

async fn archive(
    State(state): State<AppState>,
    RecruiterUser(user): RecruiterUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        templates::archive(&state, &user.id, &parse_id(&id)?).await?,
    ))
}
