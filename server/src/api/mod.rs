//! The REST API under `/api/v1`: the seed backend's contract, served by the same services as the
//! web UI's server functions. Handlers only translate HTTP to service calls and back.
//!
//! Routes are registered through `utoipa-axum`, so the router and the OpenAPI document are built
//! from the same `#[utoipa::path]` annotations: a route cannot exist undocumented. The errors
//! every operation shares (by its security, parameters and body) are added in one place,
//! [`shared_errors`], instead of on each handler.

mod auth;
mod candidate;
mod chat;
mod recruiter;

use app::backend::AppState;
use app::backend::error::AppError;
use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";
/// Where its OpenAPI document is served.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

/// The body of every error response.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used: errors are written by `AppError`.
pub struct ErrorBody {
    /// What went wrong, in a sentence fit to show a user. For a 422 it starts with the field:
    /// `"questions[2].options: at least two options"`.
    detail: String,
}

/// The name of the bearer security scheme operations refer to.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AI-fair assessment API",
        description = "Recruiters build tests; candidates take them with a metered, policed AI \
            assistant. Authenticate with `POST /api/v1/auth/{role}/login` (an OAuth2 password \
            form) and send the token as `Authorization: Bearer <token>`. Every error body is \
            `{\"detail\": \"...\"}`."
    ),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "candidate", description = "Taking a test (candidate accounts)"),
        (name = "recruiter", description = "Templates and results (recruiter accounts)"),
    ),
    // Referred to by the `sort` query parameter, which is a string in Rust.
    components(schemas(ErrorBody, app::session::ResultsSort)),
)]
struct ApiDoc;

/// The API's router and its OpenAPI document.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .merge(auth::routes())
        .merge(candidate::routes())
        .merge(chat::routes())
        .merge(recruiter::routes())
        .fallback(|| async { AppError::NotFound("Not Found".into()) });
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, api)
        .split_for_parts();
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The `access_token` of a log-in. The web UI sends the same token in an \
                         HttpOnly cookie instead.",
                    ))
                    .build(),
            ),
        );
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            shared_errors(operation);
        }
    }
    (router, document)
}

/// Adds the error responses that follow from an operation's shape, unless it documents its own:
/// signed-in operations can be refused (401, 403), ones with path parameters can miss (404),
/// bodies and queries can be malformed or invalid (400, 413, 415, 422), and any operation that
/// touches the store answers 503 while the store is unreachable.
fn shared_errors(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let located_in = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(
            |parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == place),
        )
    };
    let has_path = located_in(ParameterIn::Path);
    let has_query = located_in(ParameterIn::Query);
    let has_body = operation.request_body.is_some();

    let mut errors = Vec::new();
    match (has_body, has_path) {
        (true, true) => errors.push((
            400,
            "The body is not well-formed, or a path id is malformed.",
        )),
        (true, false) => errors.push((400, "The body is not well-formed (JSON or form).")),
        (false, true) => errors.push((400, "An id in the path is malformed.")),
        (false, false) => {}
    }
    if has_body {
        errors.push((413, "The body is larger than 1 MiB."));
        errors.push((415, "The body's content type is not the one documented."));
    }
    if secured {
        errors.push((
            401,
            "Not signed in: no token, or an invalid or expired one.",
        ));
        errors.push((
            403,
            "Signed in, but with the other role, or not allowed this action.",
        ));
    }
    if has_path {
        errors.push((404, "No such resource, or it is not yours."));
    }
    if has_body || has_query {
        errors.push((422, "A field is missing or invalid; `detail` names it."));
    }
    errors.push((503, "The store is unreachable for the moment; try again."));

    for (status, description) in errors {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    }
}

/// An error response with the [`ErrorBody`] schema.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}
