//! The web UI: the HTML shell rendered by the server and the routed application hydrated in the
//! browser.

mod account;
mod dashboards;
mod errors;
mod home;
mod layout;

use account::{LoginPage, Session, SignupPage};
use dashboards::{CandidateHome, RecruiterHome};
use errors::{ErrorPanel, NotFound};
use home::HomePage;
use layout::{Footer, Header};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document around the application (server-rendered once per request).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="description" content="AI-fair technical assessments: an AI assistant that is allowed, metered and policed." />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Session::provide();
    // Effects run only in the browser: this marks the document once the WASM has taken over,
    // which end-to-end tests (and styles for no-JS fallbacks) rely on.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/assess.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Assess".to_owned() } else { format!("{page} · Assess") }
        } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header />
            <main id="main" tabindex="-1">
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=StaticSegment("") view=HomePage />
                        <Route path=StaticSegment("login") view=LoginPage />
                        <Route path=StaticSegment("signup") view=SignupPage />
                        <Route path=StaticSegment("candidate") view=CandidateHome />
                        <Route path=StaticSegment("recruiter") view=RecruiterHome />
                    </Routes>
                </ErrorBoundary>
            </main>
            <Footer />
        </Router>
    }
}
