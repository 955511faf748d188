//! `/api/v1/auth/...`: registration, OAuth2-password-form log-in, and the current user.

use app::backend::AppState;
use app::backend::auth::{self, web::AuthUser, web::ClientIp};
use app::backend::error::AppError;
use app::model::{Role, UserView};
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/{role}/register", post(register))
        .route("/auth/{role}/login", post(login))
        .route("/auth/me", get(me))
}

fn role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| AppError::NotFound("Not Found".into()))
}

#[derive(Deserialize)]
struct Registration {
    email: String,
    password: String,
}

async fn register(
    State(state): State<AppState>,
    Path(role_name): Path<String>,
    body: Result<Json<Registration>, JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    let role = role(&role_name)?;
    let Json(body) = body?;
    let user = auth::register(&state, role, &body.email, &body.password).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The OAuth2 password grant form (`grant_type`, `scope` and client fields are accepted and
/// ignored, as in the seed).
#[derive(Deserialize)]
struct PasswordForm {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    role: Role,
    email: String,
}

async fn login(
    State(state): State<AppState>,
    Path(role_name): Path<String>,
    ClientIp(client): ClientIp,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Json<TokenResponse>, AppError> {
    let role = role(&role_name)?;
    let Form(form) = form?;
    let logged_in = auth::login(&state, role, &form.username, &form.password, client).await?;
    Ok(Json(TokenResponse {
        access_token: logged_in.access_token,
        token_type: "bearer",
        role: logged_in.user.role,
        email: logged_in.user.email,
    }))
}

async fn me(AuthUser(user): AuthUser) -> Json<UserView> {
    Json(auth::view(&user))
}
