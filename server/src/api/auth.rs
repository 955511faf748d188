//! `/api/v1/auth/...`: registration, OAuth2-password-form log-in, and the current user.

use app::backend::AppState;
use app::backend::auth::{self, web::AuthUser, web::ClientIp};
use app::backend::error::AppError;
use app::model::{Role, UserView};
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
}

fn role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| AppError::NotFound("Not Found".into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Registration {
    /// At most 254 characters; stored trimmed and lower-cased.
    #[schema(format = "email", max_length = 254)]
    email: String,
    /// 8–128 characters.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
}

/// Create an account of the role in the path.
#[utoipa::path(
    post,
    path = "/auth/{role}/register",
    tag = "auth",
    params(("role" = Role, Path, description = "The kind of account")),
    request_body = Registration,
    responses(
        (status = CREATED, description = "The account", body = UserView),
        (status = BAD_REQUEST, description = "The email is taken, or the body is malformed", body = super::ErrorBody),
    ),
)]
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
#[derive(Deserialize, utoipa::ToSchema)]
struct PasswordForm {
    /// The account's email.
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    role: Role,
    email: String,
}

#[utoipa::path(
    post,
    path = "/auth/{role}/login",
    tag = "auth",
    params(("role" = Role, Path, description = "The kind of account")),
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = OK, description = "A bearer token", body = TokenResponse),
        (status = BAD_REQUEST, description = "Wrong email or password, or a malformed form", body = super::ErrorBody),
        (status = FORBIDDEN, description = "The account has the other role", body = super::ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Too many failed log-ins for this email or client; see `Retry-After`", body = super::ErrorBody),
    ),
)]
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

/// The signed-in account.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    security(("bearer" = [])),
    responses((status = OK, description = "The account", body = UserView)),
)]
async fn me(AuthUser(user): AuthUser) -> Json<UserView> {
    Json(auth::view(&user))
}
