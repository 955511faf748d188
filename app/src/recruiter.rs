//! Server functions for recruiters' pages. Each delegates to the same services as the REST API.

use crate::error::ApiError;
use crate::model::Id;
use crate::session::{
    OverrideInput, ResultDetail, ResultSummary, ResultsPage, ResultsQuery, ScoreDistribution,
};
use crate::template::{Template, TemplateInput, TemplateStatus};
use crate::wire::JsonText;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the recruiter's template list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub id: Id,
    pub title: String,
    pub status: TemplateStatus,
    pub version: u32,
    pub questions: usize,
    pub time_limit_minutes: u32,
    pub default_prompt_budget: u32,
    /// RFC 3339.
    pub updated_at: String,
}

/// The signed-in recruiter's templates, newest first.
#[server(endpoint = "recruiter/templates", output = JsonText)]
pub async fn my_templates() -> Result<Vec<TemplateSummary>, ApiError> {
    let (cx, user) = recruiter().await?;
    Ok(crate::backend::templates::list(&cx.state, &user.id)
        .await
        .map_err(|err| cx.fail(err))?
        .into_iter()
        .map(|t| TemplateSummary {
            id: t.id,
            title: t.content.title,
            status: t.status,
            version: t.version,
            questions: t.content.questions.len(),
            time_limit_minutes: t.content.time_limit_minutes,
            default_prompt_budget: t.content.default_prompt_budget,
            updated_at: t.updated_at,
        })
        .collect())
}

#[cfg(feature = "ssr")]
async fn recruiter() -> Result<crate::backend::Caller, ApiError> {
    let (cx, crate::backend::auth::web::RecruiterUser(user)) =
        crate::backend::server_fn_caller().await?;
    Ok((cx, user))
}

/// The recruiter by their token alone, for the services that confirm the account themselves
/// (see [`crate::backend::auth::Claimant`]).
#[cfg(feature = "ssr")]
async fn recruiter_claimant() -> Result<
    (
        crate::backend::ServerFnContext,
        crate::backend::auth::Claimant,
    ),
    ApiError,
> {
    let (cx, crate::backend::auth::web::RecruiterClaimant(claimant)) =
        crate::backend::server_fn_caller().await?;
    Ok((cx, claimant))
}

/// One of the recruiter's templates, hidden parts included (for the builder).
#[server(endpoint = "recruiter/template", output = JsonText)]
pub async fn load_template(id: String) -> Result<Template, ApiError> {
    use crate::backend::templates;
    let (cx, user) = recruiter().await?;
    async {
        let id = templates::parse_id(&id)?;
        templates::get(&cx.state, &user.id, &id).await
    }
    .await
    .map_err(|err| cx.fail(err))
}

/// Creates a template (a draft unless the input says otherwise) or, with an `id`, edits it.
#[server(endpoint = "recruiter/template/save", input = JsonText, output = JsonText)]
pub async fn save_template(id: Option<String>, input: TemplateInput) -> Result<Template, ApiError> {
    use crate::backend::templates;
    let (cx, user) = recruiter().await?;
    async {
        match id {
            None => {
                let input = TemplateInput {
                    status: Some(input.status.unwrap_or(TemplateStatus::Draft)),
                    ..input
                };
                templates::create(&cx.state, &user.id, input).await
            }
            Some(id) => {
                let id = templates::parse_id(&id)?;
                templates::update(&cx.state, &user.id, &id, input).await
            }
        }
    }
    .await
    .map_err(|err| cx.fail(err))
}

/// Publishes (candidates may start it) or archives (they no longer may) a template.
#[server(endpoint = "recruiter/template/status", output = JsonText)]
pub async fn set_template_status(id: String, publish: bool) -> Result<Template, ApiError> {
    use crate::backend::templates;
    let (cx, user) = recruiter().await?;
    async {
        let id = templates::parse_id(&id)?;
        if publish {
            templates::publish(&cx.state, &user.id, &id).await
        } else {
            templates::archive(&cx.state, &user.id, &id).await
        }
    }
    .await
    .map_err(|err| cx.fail(err))
}

/// A page of ended attempts at the recruiter's templates.
#[server(endpoint = "recruiter/results", input = JsonText, output = JsonText)]
pub async fn list_results(query: ResultsQuery) -> Result<ResultsPage, ApiError> {
    let (cx, claimant) = recruiter_claimant().await?;
    crate::backend::results::list(&cx.state, &claimant, &query)
        .await
        .map_err(|err| cx.fail(err))
}

#[server(endpoint = "recruiter/result", output = JsonText)]
pub async fn load_result(session_id: String) -> Result<ResultDetail, ApiError> {
    let (cx, user) = recruiter().await?;
    crate::backend::results::detail(&cx.state, &user.id, &session_id)
        .await
        .map_err(|err| cx.fail(err))
}

/// Sets (`Some`) or removes (`None`) the recruiter's score for one question of an ended attempt;
/// answers with the attempt's recomputed result.
#[server(endpoint = "recruiter/result/override", input = JsonText, output = JsonText)]
pub async fn override_score(
    session_id: String,
    question_id: String,
    input: Option<OverrideInput>,
) -> Result<ResultDetail, ApiError> {
    let (cx, user) = recruiter().await?;
    crate::backend::results::override_score(&cx.state, &user, &session_id, &question_id, input)
        .await
        .map_err(|err| cx.fail(err))
}

/// Sessions of the recruiter's tests in progress now.
#[server(endpoint = "recruiter/live", output = JsonText)]
pub async fn live_sessions() -> Result<Vec<ResultSummary>, ApiError> {
    let (cx, user) = recruiter().await?;
    crate::backend::results::in_progress(&cx.state, &user.id)
        .await
        .map_err(|err| cx.fail(err))
}

#[server(endpoint = "recruiter/score-distribution", output = JsonText)]
pub async fn template_scores(template_id: String) -> Result<ScoreDistribution, ApiError> {
    let (cx, user) = recruiter().await?;
    crate::backend::results::distribution(&cx.state, &user.id, &template_id)
        .await
        .map_err(|err| cx.fail(err))
}
