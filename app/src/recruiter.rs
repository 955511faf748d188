//! Server functions for recruiters' pages. Each delegates to the same services as the REST API.

use crate::error::ApiError;
use crate::model::Id;
use crate::template::TemplateStatus;
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
#[server(endpoint = "recruiter/templates")]
pub async fn my_templates() -> Result<Vec<TemplateSummary>, ApiError> {
    use crate::backend::auth::web::RecruiterUser;
    use crate::backend::{server_fn_context, templates};
    let cx = server_fn_context()?;
    let RecruiterUser(user) = cx.extract().await.map_err(|err| cx.fail(err))?;
    Ok(templates::list(&cx.state, &user.id)
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
