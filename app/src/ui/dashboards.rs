//! Each role's home page. Tests and results arrive here as their features land.

use super::account::{RequireRole, use_session};
use super::list_view;
use super::watch::LiveSessions;
use crate::model::Role;
use crate::recruiter::my_templates;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn RecruiterHome() -> impl IntoView {
    view! {
        <RequireRole role=Role::Recruiter>
            <Title text="Recruiter dashboard" />
            <Dashboard heading="Recruiter dashboard" />
            <TemplateList />
            <LiveSessions />
        </RequireRole>
    }
}

/// The recruiter's tests with their status.
#[component]
fn TemplateList() -> impl IntoView {
    let templates = Resource::new(|| (), |_| my_templates());
    view! {
        <section class="panel" aria-labelledby="templates-title">
            <h2 id="templates-title">"Your tests"</h2>
            <p class="actions">
                <A href="/recruiter/templates/new" attr:class="button">"New test"</A>
                " "
                <A href="/recruiter/results" attr:class="button secondary">"All results"</A>
            </p>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading your tests…"</p> }>
                {move || templates.get().map(|result| list_view(result, "You have not created any tests yet.", |list| view! {
                        <table class="data" data-testid="template-list">
                            <thead>
                                <tr>
                                    <th scope="col">"Title"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Questions"</th>
                                    <th scope="col">"Time limit"</th>
                                    <th scope="col">"Prompt budget"</th>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Results"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let results_label = format!("Results of {}", t.title);
                                    view! {
                                    <tr>
                                        <th scope="row"><A href=format!("/recruiter/templates/{}", t.id)>{t.title.clone()}</A></th>
                                        <td><span class=format!("status {}", t.status.as_str())>{t.status.as_str()}</span></td>
                                        <td>{t.questions}</td>
                                        <td>{format!("{} min", t.time_limit_minutes)}</td>
                                        <td>{t.default_prompt_budget}</td>
                                        <td>{t.version}</td>
                                        <td>
                                            <A href=format!("/recruiter/results?template_id={}", t.id) attr:aria-label=results_label>
                                                "Results"
                                            </A>
                                        </td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }))}
            </Suspense>
        </section>
    }
}

#[component]
fn Dashboard(heading: &'static str) -> impl IntoView {
    let session = use_session();
    view! {
        <section class="panel" aria-labelledby="dashboard-title">
            <h1 id="dashboard-title">{heading}</h1>
            <p data-testid="dashboard-email">
                "Signed in as " {move || session.signed_in().map(|user| user.email)}
            </p>
        </section>
    }
}
