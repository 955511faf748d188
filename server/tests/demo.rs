//! First run in development: demo accounts and sample tests on an empty store, never twice and
//! never in production.

mod common;

use app::backend::demo::{CANDIDATE_EMAIL, PASSWORD, RECRUITER_EMAIL, seed_if_empty};
use common::{spawn_app, spawn_app_configured};
use serde_json::Value;

#[tokio::test]
async fn an_empty_development_store_gets_demo_accounts_and_two_published_tests() {
    let app = spawn_app().await;
    assert!(seed_if_empty(&app.state).await.unwrap());
    assert!(!seed_if_empty(&app.state).await.unwrap(), "only once");

    let app = &app;
    let login = |role: &'static str, email: &'static str| async move {
        app.post_form(
            &format!("/api/v1/auth/{role}/login"),
            &[("username", email), ("password", PASSWORD)],
        )
        .await
    };
    assert_eq!(login("candidate", CANDIDATE_EMAIL).await.status(), 200);
    let recruiter: Value = login("recruiter", RECRUITER_EMAIL)
        .await
        .json()
        .await
        .unwrap();
    let token = recruiter["access_token"].as_str().unwrap();
    let templates: Value = app
        .get_with_token("/api/v1/recruiter/test-templates", token)
        .await
        .json()
        .await
        .unwrap();
    let templates = templates.as_array().unwrap();
    assert_eq!(templates.len(), 2);
    assert!(templates.iter().all(|t| t["status"] == "published"));
    let types: Vec<&str> = templates
        .iter()
        .flat_map(|t| t["questions"].as_array().unwrap())
        .map(|q| q["type"].as_str().unwrap())
        .collect();
    for kind in ["coding", "multiple_choice", "theory"] {
        assert!(types.contains(&kind), "{kind} in {types:?}");
    }
}

#[tokio::test]
async fn a_store_with_accounts_or_production_mode_is_left_alone() {
    let app = spawn_app().await;
    app.register("candidate", "first@example.com").await;
    assert!(!seed_if_empty(&app.state).await.unwrap());

    let production = spawn_app_configured(&[("APP_ENV", "production")], |_| {}).await;
    assert!(!seed_if_empty(&production.state).await.unwrap());
    assert_eq!(production.state.store.users.count().await.unwrap(), 0);
}
