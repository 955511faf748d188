//! Each role's home page. Tests and results arrive here as their features land.

use super::account::{RequireRole, use_session};
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CandidateHome() -> impl IntoView {
    view! {
        <RequireRole role=Role::Candidate>
            <Title text="My tests" />
            <Dashboard heading="My tests" empty="No tests have been assigned to you yet." />
        </RequireRole>
    }
}

#[component]
pub fn RecruiterHome() -> impl IntoView {
    view! {
        <RequireRole role=Role::Recruiter>
            <Title text="Recruiter dashboard" />
            <Dashboard heading="Recruiter dashboard" empty="You have not created any tests yet." />
        </RequireRole>
    }
}

#[component]
fn Dashboard(heading: &'static str, empty: &'static str) -> impl IntoView {
    let session = use_session();
    view! {
        <section class="panel" aria-labelledby="dashboard-title">
            <h1 id="dashboard-title">{heading}</h1>
            <p data-testid="dashboard-email">
                "Signed in as " {move || session.signed_in().map(|user| user.email)}
            </p>
            <p class="muted">{empty}</p>
        </section>
    }
}
