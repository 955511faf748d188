use super::account::{AccountMenu, use_session};
use crate::model::Role;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    let role_link = move || {
        session.signed_in().map(|user| match user.role {
            Role::Candidate => view! { <li><A href="/candidate">"My tests"</A></li> },
            Role::Recruiter => view! { <li><A href="/recruiter">"Dashboard"</A></li> },
        })
    };
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Assess"
            </A>
            <nav aria-label="Main">
                <ul>
                    <li><A href="/">"Home"</A></li>
                    <li><a href="/#how-it-works">"How it works"</a></li>
                    <li><a href="/#scoring">"Scoring"</a></li>
                    <Transition fallback=|| ()>{role_link}</Transition>
                </ul>
            </nav>
            <AccountMenu />
        </header>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>"Assess — technical assessments where AI help is allowed, metered and on the record."</p>
        </footer>
    }
}
