//! `/api/v1/recruiter/...`: test templates (recruiters only: a candidate gets 403, anyone
//! signed out 401).

use app::backend::AppState;
use app::backend::auth::web::RecruiterUser;
use app::backend::error::AppError;
use app::backend::templates::{self, parse_id};
use app::template::{Template, TemplateInput};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recruiter/test-template", post(create))
        .route("/recruiter/test-templates", get(list))
        .route("/recruiter/test-template/{id}", get(show).put(update))
        .route("/recruiter/test-template/{id}/publish", post(publish))
        .route("/recruiter/test-template/{id}/archive", post(archive))
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
