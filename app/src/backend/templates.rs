//! Test templates: the one service behind the recruiter's REST routes and builder pages.

use super::AppState;
use super::error::AppError;
use super::store::{NewTemplate, TemplateRecord};
use crate::model::Id;
use crate::template::{Template, TemplateInput, TemplateStatus};

const NOT_FOUND: &str = "Test template not found.";

/// A malformed id in a path is the client's mistake (400); an unknown one is not (404).
pub fn parse_id(raw: &str) -> Result<Id, AppError> {
    Id::parse(raw).map_err(|_| AppError::BadRequest(format!("Invalid id `{raw}`.")))
}

/// All of an input's problems in one 422, naming the first one's field.
fn invalid(problems: Vec<String>) -> AppError {
    AppError::invalid(problems.join("; "))
}

/// Creates a template owned by `owner`. Without a `status` (the seed's payload) it is published
/// at once, as in the seed; the web builder sends `draft`.
pub async fn create(
    state: &AppState,
    owner: &Id,
    input: TemplateInput,
) -> Result<Template, AppError> {
    let status = input.status.unwrap_or(TemplateStatus::Published);
    if status == TemplateStatus::Archived {
        return Err(AppError::invalid(
            "status: a new template is a draft or published".into(),
        ));
    }
    let content = input
        .into_content(state.config.default_prompt_budget)
        .map_err(invalid)?;
    let record = state
        .store
        .templates
        .insert(NewTemplate {
            owner_id: owner.clone(),
            status,
            content,
        })
        .await?;
    tracing::info!(template_id = %record.id, status = status.as_str(), "template created");
    Ok(record.view())
}

/// The owner's template; someone else's is reported exactly like a missing one.
async fn owned(state: &AppState, owner: &Id, id: &Id) -> Result<TemplateRecord, AppError> {
    match state.store.templates.find(id).await? {
        Some(record) if &record.owner_id == owner => Ok(record),
        _ => Err(AppError::NotFound(NOT_FOUND.into())),
    }
}

pub async fn get(state: &AppState, owner: &Id, id: &Id) -> Result<Template, AppError> {
    Ok(owned(state, owner, id).await?.view())
}

pub async fn list(state: &AppState, owner: &Id) -> Result<Vec<Template>, AppError> {
    let records = state.store.templates.list_by_owner(owner).await?;
    Ok(records.iter().map(TemplateRecord::view).collect())
}

/// Replaces the content. Until a session starts from the template it is edited in place;
/// afterwards each edit makes the next version (sessions keep the snapshot they started with).
/// A `status` in the input is applied too (except that archiving goes through [`archive`]).
pub async fn update(
    state: &AppState,
    owner: &Id,
    id: &Id,
    input: TemplateInput,
) -> Result<Template, AppError> {
    let current = owned(state, owner, id).await?;
    let status = input.status;
    let content = input
        .into_content(current.content.default_prompt_budget)
        .map_err(invalid)?;
    let started = state.store.sessions.count_for_template(id).await? > 0;
    let mut record = state
        .store
        .templates
        .replace_content(id, current.version, started, content)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "The template was changed meanwhile. Reload it and apply your edit again.".into(),
            )
        })?;
    if let Some(status) = status
        && status != record.status
    {
        record = set_status(state, owner, id, status).await?;
    }
    Ok(record.view())
}

async fn set_status(
    state: &AppState,
    owner: &Id,
    id: &Id,
    status: TemplateStatus,
) -> Result<TemplateRecord, AppError> {
    owned(state, owner, id).await?;
    let record = state
        .store
        .templates
        .set_status(id, status)
        .await?
        .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
    tracing::info!(template_id = %id, status = status.as_str(), "template status changed");
    Ok(record)
}

pub async fn publish(state: &AppState, owner: &Id, id: &Id) -> Result<Template, AppError> {
    Ok(set_status(state, owner, id, TemplateStatus::Published)
        .await?
        .view())
}

pub async fn archive(state: &AppState, owner: &Id, id: &Id) -> Result<Template, AppError> {
    Ok(set_status(state, owner, id, TemplateStatus::Archived)
        .await?
        .view())
}

/// Every published template (what candidates may start), newest first.
pub async fn published(state: &AppState) -> Result<Vec<TemplateRecord>, AppError> {
    Ok(state.store.templates.list_published().await?)
}
