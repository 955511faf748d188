//! The web UI: the HTML shell rendered by the server and the routed application hydrated in the
//! browser.

mod account;
mod assistant;
mod builder;
mod candidate;
mod chat;
mod dashboards;
mod errors;
mod home;
mod layout;
mod live;
mod markdown;
mod results;
mod room;
mod watch;

use account::{LoginPage, Session, SignupPage};
use builder::BuilderPage;
use candidate::{CandidateHome, TestPage};
use dashboards::RecruiterHome;
use errors::{ErrorPanel, NotFound};
use home::HomePage;
use layout::{Footer, Header};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};
use results::{ResultDetailPage, ResultsPage};
use watch::LivePage;

/// The HTML document around the application (server-rendered once per request).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::backend::security::send_page_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath d='M8 1l7 7-7 7-7-7z' fill='%233b5bdb'/%3E%3C/svg%3E" />
                <meta name="description" content="AI-fair technical assessments: an AI assistant that is allowed, metered and policed." />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A loaded list: its error, an "empty" message, or `render` of the items.
fn list_view<T, V: IntoView + 'static>(
    result: Result<Vec<T>, crate::error::ApiError>,
    empty: &'static str,
    render: impl FnOnce(Vec<T>) -> V,
) -> impl IntoView {
    use leptos::either::EitherOf3;
    match result {
        Err(err) => EitherOf3::A(view! { <p class="form-error" role="alert">{err.detail}</p> }),
        Ok(list) if list.is_empty() => EitherOf3::B(view! { <p class="muted">{empty}</p> }),
        Ok(list) => EitherOf3::C(render(list)),
    }
}

/// A page whose data could not be loaded: why, and the way back.
fn load_failed(
    title: &'static str,
    detail: String,
    back: &'static str,
    back_label: &'static str,
) -> AnyView {
    view! {
        <section class="panel error" role="alert">
            <h1>{title}</h1>
            <p>{detail}</p>
            <p><leptos_router::components::A href=back>{back_label}</leptos_router::components::A></p>
        </section>
    }
    .into_any()
}

/// One score component (`pick`) with two decimals, or a dash before grading.
fn score_part(
    scores: &Option<crate::session::Scores>,
    pick: fn(&crate::session::Scores) -> f64,
) -> String {
    scores
        .as_ref()
        .map(|s| format!("{:.2}", pick(s)))
        .unwrap_or_else(|| "—".into())
}

/// The total score with two decimals, or a dash before grading.
fn score_text(scores: &Option<crate::session::Scores>) -> String {
    score_part(scores, |s| s.total_score)
}

/// `2026-11-26T10:15:00.000Z` → `2026-11-26 10:15 UTC`.
fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Session::provide();
    view! {
        <Stylesheet id="leptos" href="/pkg/assess.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Assess".to_owned() } else { page_title(&page) }
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
                        // Private pages render completely before the first byte, so their
                        // status (302 to log in, 403 for the other role) is always right.
                        <Route path=StaticSegment("candidate") view=CandidateHome ssr=SsrMode::Async />
                        <Route
                            path=(StaticSegment("candidate"), StaticSegment("session"), ParamSegment("id"))
                            view=TestPage
                            ssr=SsrMode::Async
                        />
                        <Route path=StaticSegment("recruiter") view=RecruiterHome ssr=SsrMode::Async />
                        <Route
                            path=(StaticSegment("recruiter"), StaticSegment("templates"), ParamSegment("id"))
                            view=BuilderPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("recruiter"), StaticSegment("results"))
                            view=ResultsPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("recruiter"), StaticSegment("results"), ParamSegment("id"))
                            view=ResultDetailPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("recruiter"), StaticSegment("live"), ParamSegment("id"))
                            view=LivePage
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </ErrorBoundary>
            </main>
            <Footer />
        </Router>
    }
}

/// A component's view, type-erased on the server only. There, pages nest their islands' whole
/// view types deeper than the compiler's limits unless big components are erased; in the
/// browser, erasing would ship each component's code for asynchronous hydration, which islands
/// never use.
fn server_erased(view: impl IntoView + 'static) -> impl IntoView {
    #[cfg(feature = "ssr")]
    return view.into_any();
    #[cfg(not(feature = "ssr"))]
    view
}

/// The closed place of a panel of the test room whose code is fetched the first time it is
/// opened, keeping it out of the page's first load: its heading, a line about it, and a button
/// that loads the panel and puts it in place. The room's script does that (`room::script`),
/// finding the parts by `data-slot`, `data-closed` and `data-open`, all named `class`.
#[component]
fn OnDemandPanel(
    /// The panel's CSS class (also given to the closed panel), and its name for the script.
    class: &'static str,
    title: &'static str,
    /// What the panel is for, shown while it is closed.
    #[prop(into)]
    about: String,
    /// The button's text.
    open_label: &'static str,
) -> impl IntoView {
    let heading_id = format!("{class}-closed-title");
    let labelled_by = heading_id.clone();
    view! {
        <div class="panel-slot" data-slot=class></div>
        <section class=format!("panel {class} closed") aria-labelledby=labelled_by data-closed=class>
            <h2 id=heading_id>{title}</h2>
            <p class="hint">{about}</p>
            <button type="button" class="button secondary" aria-disabled="false" aria-busy="false" data-open=class>
                {open_label}
            </button>
        </section>
    }
}

/// Percent-encodes `raw` for use as one query parameter value (letters, digits, `-_.~` and `/`
/// stay as they are).
fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A finite decimal number typed into a form (`12`, `-0.5`, `1e2`), or `None`. The browser reads
/// it with JavaScript's own number parser: Rust's brings tables of tens of KB that, as data, would
/// be loaded by every page. Only characters of decimal notation are accepted, so both parsers
/// agree on every input.
fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let decimal = |c: char| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E');
    if !text.chars().any(|c| c.is_ascii_digit()) || !text.chars().all(decimal) {
        return None;
    }
    #[cfg(feature = "hydrate")]
    let number = js_sys::Number::from(leptos::wasm_bindgen::JsValue::from_str(text)).value_of();
    #[cfg(not(feature = "hydrate"))]
    let number = text.parse::<f64>().unwrap_or(f64::NAN);
    number.is_finite().then_some(number)
}

/// The value of form control `id` (an input or a text area) as the visitor left it before its
/// island woke up; `None` on the server or when there is no such control. Hydrating sets every
/// control to its signal, which would wipe what was typed meanwhile: islands adopt this instead.
fn value_before_hydration(id: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::{HtmlInputElement, HtmlTextAreaElement};
        let element = document().get_element_by_id(id)?;
        match element.dyn_into::<HtmlInputElement>() {
            Ok(input) => Some(input.value()),
            Err(element) => element
                .dyn_into::<HtmlTextAreaElement>()
                .ok()
                .map(|area| area.value()),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        None
    }
}

/// Sets `value` to what control `id` holds when its island wakes up, when that differs (see
/// [`value_before_hydration`]).
fn adopt_value(id: &str, value: RwSignal<String>) {
    if let Some(typed) = value_before_hydration(id)
        && typed != value.get_untracked()
    {
        value.set(typed);
    }
}

/// Whether checkbox or radio button `id` was ticked before its island woke up (see
/// [`value_before_hydration`]).
fn checked_before_hydration(id: &str) -> Option<bool> {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        document()
            .get_element_by_id(id)?
            .dyn_into::<leptos::web_sys::HtmlInputElement>()
            .ok()
            .map(|input| input.checked())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        None
    }
}

/// Sets `checked` to whether checkbox `id` is ticked when its island wakes up, when that differs
/// (see [`value_before_hydration`]).
fn adopt_checked(id: &str, checked: RwSignal<bool>) {
    if let Some(ticked) = checked_before_hydration(id)
        && ticked != checked.get_untracked()
    {
        checked.set(ticked);
    }
}

/// `text` as the content of a `<textarea>` (its `inner_html`), escaped: Leptos writes a text
/// area's children as they are, as it does a script's, so a value holding `</textarea>` would
/// end the element and the rest would be markup. (In the browser, hydrating leaves it alone.)
fn text_area_content(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    markdown::escape(&mut out, text);
    out
}

/// The document title of a page called `page`.
fn page_title(page: &str) -> String {
    format!("{page} · Assess")
}

/// Whether an action's latest result is a success: its island is sending the browser on, so its
/// button stays disabled while the next page loads.
fn succeeded<T, E>(latest: &Option<Result<T, E>>) -> bool {
    matches!(latest, Some(Ok(_)))
}

/// Whether `action` is under way or has succeeded (its page is about to change): its button is
/// `aria-disabled` meanwhile, not `disabled`, which would take the keyboard focus away from the
/// button just pressed, and its handler does nothing.
fn acting<I, O, E>(action: Action<I, Result<O, E>>) -> bool
where
    I: 'static,
    O: 'static,
    E: 'static,
{
    action.pending().get() || action.value().with(succeeded)
}

/// Sends the browser to `path` (pages are rendered by the server: there is no client router).
fn go(path: &str) {
    let _ = window().location().set_href(path);
}

/// Called by every island: once the last island of the page is interactive, the document is
/// marked `<html data-hydrated>` (end-to-end tests, and styles for no-JS fallbacks, rely on it).
fn island_ready() {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if hydration::one_ready() {
            hydration::mark_document();
        }
    });
}

/// The browser side: the server-rendered page's islands become interactive (each island's code
/// is loaded when the page has one).
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
    if hydration::expect_islands() == 0 {
        hydration::mark_document();
    }
}

#[cfg(feature = "hydrate")]
mod hydration {
    use leptos::prelude::document;
    use std::cell::Cell;

    thread_local! {
        /// Islands of this page not yet interactive.
        static WAITING: Cell<u32> = const { Cell::new(0) };
    }

    /// Counts the page's islands; returns how many there are.
    pub fn expect_islands() -> u32 {
        let count = document()
            .query_selector_all("leptos-island")
            .map_or(0, |islands| islands.length());
        WAITING.set(count);
        count
    }

    /// One more island is interactive; `true` when it was the last.
    pub fn one_ready() -> bool {
        let left = WAITING.get().saturating_sub(1);
        WAITING.set(left);
        left == 0
    }

    pub fn mark_document() {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn typed_numbers_are_read_in_decimal_notation_only() {
        assert_eq!(parse_number("12"), Some(12.0));
        assert_eq!(parse_number(" -0.5 "), Some(-0.5));
        assert_eq!(parse_number("+1e2"), Some(100.0));
        assert_eq!(parse_number(".25"), Some(0.25));
        for refused in [
            "", "  ", ".", "+", "1.2.3", "0x10", "inf", "NaN", "Infinity", "1e999", "1,5",
        ] {
            assert_eq!(parse_number(refused), None, "{refused:?}");
        }
    }
}
