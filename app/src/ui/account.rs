//! Who is signed in, the sign-up and log-in pages, and the guard around private pages.

use crate::account::{LogIn, LogOut, SignUp, current_user, safe_next};
use crate::error::ApiError;
use crate::model::{Role, UserView, check_email, check_password};
use leptos::prelude::*;
use leptos::server::ServerAction;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{A, Redirect};
use leptos_router::hooks::{use_location, use_query_map};

/// The signed-in user, for the pages the server renders (so private pages get real 302/403
/// answers). Logging in or out loads a new page, which asks again.
#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Result<Option<UserView>, ApiError>>,
}

impl Session {
    pub fn provide() -> Self {
        // Blocking: the server knows who is signed in before it sends any HTML.
        let user = Resource::new_blocking(|| (), |_| current_user());
        let session = Session { user };
        provide_context(session);
        session
    }

    /// Who is signed in: `None` while still unknown, `Some(Err)` when the server could not say.
    pub fn state(&self) -> Option<Result<Option<UserView>, ApiError>> {
        self.user.get()
    }

    /// The signed-in user as far as it is known now (`None` while loading or signed out).
    pub fn signed_in(&self) -> Option<UserView> {
        self.state().and_then(Result::ok).flatten()
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Renders `children` only for a signed-in user of `role`: signed-out visitors are sent to log in
/// (and brought back afterwards), users of the other role see a "not allowed" page.
#[component]
pub fn RequireRole(role: Role, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || {
                session
                    .state()
                    .map(|result| match result {
                        Ok(Some(user)) if user.role == role => {
                            children.with_value(|children| children()).into_any()
                        }
                        Ok(Some(user)) => view! { <NotAllowed needed=role actual=user.role /> }.into_any(),
                        Ok(None) => {
                            let pathname = location.pathname.get_untracked();
                            let search = location.search.get_untracked();
                            let here = if search.is_empty() {
                                pathname
                            } else {
                                format!("{pathname}?{}", search.trim_start_matches('?'))
                            };
                            let path = format!("/login?role={role}&next={}", super::encode_component(&here));
                            view! { <Redirect path /> }.into_any()
                        }
                        Err(err) => view! {
                            <section class="panel error" role="alert">
                                <h1>"Cannot check your session"</h1>
                                <p>{err.detail}</p>
                                <p><a href=move || location.pathname.get()>"Try again"</a></p>
                            </section>
                        }
                        .into_any(),
                    })
            }}
        </Suspense>
    }
}

/// Shown to a signed-in user on a page of the other role; the server answers it with 403.
#[component]
pub fn NotAllowed(needed: Role, actual: Role) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text="Not allowed" />
        <section class="panel center" aria-labelledby="not-allowed-title" data-testid="not-allowed">
            <h1 id="not-allowed-title">"Not allowed"</h1>
            <p>
                {format!(
                    "This page is for {} accounts, and you are signed in as a {}.",
                    needed.as_str(),
                    actual.as_str()
                )}
            </p>
            <p><A href=actual.home_path()>{format!("Go to your {} dashboard", actual.as_str())}</A></p>
        </section>
    }
}

/// The header's account area: who is signed in and a log-out button, or log-in and sign-up links.
/// Logging out is a plain form: the server clears the cookie and sends the browser home.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| ()>
            {move || match session.signed_in() {
                Some(user) => view! {
                    <div class="account">
                        <span class="who" data-testid="signed-in-as">
                            <span class="badge">{user.role.label()}</span>
                            " "
                            {user.email.clone()}
                        </span>
                        <form method="post" action=LogOut::url() class="inline">
                            <button type="submit" class="button secondary">"Log out"</button>
                        </form>
                    </div>
                }
                .into_any(),
                None => view! {
                    <div class="account">
                        <A href="/login">"Log in"</A>
                        <A href="/signup" attr:class="button">"Sign up"</A>
                    </div>
                }
                .into_any(),
            }}
        </Transition>
    }
}

/// The candidate/recruiter choice shared by both forms (native radios: arrow keys switch).
#[component]
fn RoleChoice(role: RwSignal<Role>) -> impl IntoView {
    if let Some(picked) = role_picked_before_hydration() {
        role.set(picked);
    }
    let option = move |value: Role, hint: &'static str| {
        view! {
            <label class="role-option">
                <input
                    type="radio"
                    name="role"
                    value=value.as_str()
                    prop:checked=move || role.get() == value
                    on:change=move |_| role.set(value)
                />
                <span>
                    <strong>{value.label()}</strong>
                    <small>{hint}</small>
                </span>
            </label>
        }
    };
    view! {
        <fieldset class="role-choice">
            <legend>"I am a"</legend>
            {option(Role::Candidate, "I take tests")}
            {option(Role::Recruiter, "I create tests and review results")}
        </fieldset>
    }
}

/// A labelled input with its inline error.
#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    super::adopt_value(id, value);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <small id=hint_id.clone() class="hint">{hint}</small> })}
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described_by
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <Show when=move || error.get().is_some()>
                <p id=error_id.clone() class="field-error">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// The message of a client-side check, without its `field: ` prefix.
fn message_only(message: String) -> String {
    match message.split_once(": ") {
        Some((_, rest)) => {
            // The messages are ASCII English (and Unicode case tables would weigh on every page).
            let mut chars = rest.chars();
            chars
                .next()
                .map(|first| {
                    std::iter::once(first.to_ascii_uppercase())
                        .chain(chars)
                        .collect()
                })
                .unwrap_or_default()
        }
        None => message,
    }
}

/// The role the visitor picked before the island woke up (see [`super::value_before_hydration`]).
fn role_picked_before_hydration() -> Option<Role> {
    #[cfg(feature = "hydrate")]
    if let Some(picked) = document()
        .query_selector(r#"input[name="role"]:checked"#)
        .ok()
        .flatten()
        .and_then(|el| el.get_attribute("value"))
        .and_then(|value| Role::parse(&value))
    {
        return Some(picked);
    }
    None
}

fn role_from_query(raw: Option<String>) -> Role {
    raw.as_deref()
        .and_then(Role::parse)
        .unwrap_or(Role::Candidate)
}

/// The server's error for `field` (or for the whole form when `field` is `None`) in an
/// action's latest result.
fn server_error<T>(latest: Option<Result<T, ApiError>>, field: Option<&str>) -> Option<String> {
    latest.and_then(Result::err).and_then(|err| {
        (err.field.as_deref() == field).then(|| match field {
            Some(_) => message_only(err.detail),
            None => err.detail,
        })
    })
}

/// Where a log-in goes next: the `next` of the address when it is a local path.
fn next_from_query(raw: Option<String>) -> Option<String> {
    raw.filter(|next| safe_next(Some(next)).is_some())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let (role, next, registered) = query.with_untracked(|q| {
        (
            role_from_query(q.get("role")),
            next_from_query(q.get("next")),
            q.get("registered").is_some(),
        )
    });
    view! {
        <Title text="Log in" />
        <section class="panel auth" aria-labelledby="login-title">
            <h1 id="login-title">"Log in"</h1>
            {registered.then(|| view! {
                <p class="notice ok" role="status">"Account created. Log in to continue."</p>
            })}
            <LoginForm role next />
            <p>"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

/// The log-in form (an island). Without JavaScript it still posts, and the server redirects.
#[island(lazy)]
fn LoginForm(role: Role, next: Option<String>) -> impl IntoView {
    super::island_ready();
    let action = ServerAction::<LogIn>::new();
    let role = RwSignal::new(role);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);

    let email_error = Signal::derive(move || {
        if !submitted.get() {
            return None;
        }
        check_email(email.get().trim()).err().map(message_only)
    });
    let password_error = Signal::derive(move || {
        (submitted.get() && password.get().is_empty()).then(|| "Enter your password".to_owned())
    });
    let form_error = move || server_error(action.value().get(), None);

    let next = StoredValue::new(next);
    Effect::new(move |_| {
        if let Some(Ok(user)) = action.value().get() {
            let target = next
                .get_value()
                .unwrap_or_else(|| user.role.home_path().to_owned());
            super::go(&target);
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if untrack(|| super::acting(*action)) {
            return;
        }
        submitted.set(true);
        if email_error.get_untracked().is_some() || password_error.get_untracked().is_some() {
            return;
        }
        action.dispatch(LogIn {
            role: role.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            next: next.get_value(),
        });
    };

    super::server_erased(view! {
        <form method="post" action=LogIn::url() novalidate on:submit=on_submit>
            <RoleChoice role />
            <input type="hidden" name="next" value=next.get_value() />
            <Field id="email" label="Email" kind="email" autocomplete="username" value=email error=email_error />
            <Field id="password" label="Password" kind="password" autocomplete="current-password" value=password error=password_error />
            <Show when=move || form_error().is_some()>
                <p class="form-error" role="alert">{form_error}</p>
            </Show>
            <button type="submit" class="button" aria-disabled=move || super::acting(*action).to_string()>
                {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
            </button>
        </form>
    })
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let query = use_query_map();
    let role = role_from_query(query.with_untracked(|q| q.get("role")));
    view! {
        <Title text="Sign up" />
        <section class="panel auth" aria-labelledby="signup-title">
            <h1 id="signup-title">"Create your account"</h1>
            <SignupForm role />
            <p>"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

/// The sign-up form (an island). Without JavaScript it still posts, and the server redirects.
#[island(lazy)]
fn SignupForm(role: Role) -> impl IntoView {
    super::island_ready();
    let action = ServerAction::<SignUp>::new();
    let role = RwSignal::new(role);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);

    // Client checks appear once the user has tried to submit; server field errors replace them.
    let email_error = Signal::derive(move || {
        let local = submitted
            .get()
            .then(|| check_email(email.get().trim()).err().map(message_only))
            .flatten();
        local.or_else(|| server_error(action.value().get(), Some("email")))
    });
    let password_error = Signal::derive(move || {
        let local = submitted
            .get()
            .then(|| check_password(&password.get()).err().map(message_only))
            .flatten();
        local.or_else(|| server_error(action.value().get(), Some("password")))
    });
    let form_error = move || server_error(action.value().get(), None);

    Effect::new(move |_| {
        if let Some(Ok(user)) = action.value().get() {
            super::go(&format!("/login?role={}&registered=1", user.role));
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if untrack(|| super::acting(*action)) {
            return;
        }
        submitted.set(true);
        if email_error.get_untracked().is_some() || password_error.get_untracked().is_some() {
            return;
        }
        action.dispatch(SignUp {
            role: role.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
        });
    };

    super::server_erased(view! {
        <form method="post" action=SignUp::url() novalidate on:submit=on_submit>
            <RoleChoice role />
            <Field id="email" label="Email" kind="email" autocomplete="email" value=email error=email_error />
            <Field
                id="password"
                label="Password"
                kind="password"
                autocomplete="new-password"
                value=password
                error=password_error
                hint="8 to 128 characters."
            />
            <Show when=move || form_error().is_some()>
                <p class="form-error" role="alert">{form_error}</p>
            </Show>
            <button type="submit" class="button" aria-disabled=move || super::acting(*action).to_string()>
                {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
            </button>
        </form>
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::encode_component;

    #[test]
    fn next_is_encoded_as_one_query_value() {
        assert_eq!(
            encode_component("/recruiter?a=1&b=2"),
            "/recruiter%3Fa%3D1%26b%3D2"
        );
        assert_eq!(encode_component("/é"), "/%C3%A9");
    }

    #[test]
    fn field_messages_lose_their_prefix() {
        assert_eq!(
            message_only("email: not a valid email address".into()),
            "Not a valid email address"
        );
        assert_eq!(message_only("plain".into()), "plain");
    }
}
