use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="AI-fair technical assessments" />
        <section class="hero">
            <h1>"Technical assessments where AI is allowed — and measured."</h1>
            <p class="lead">
                "Candidates solve real problems with an AI assistant at their side, the way they will work. "
                "The assistant is metered by a prompt budget and policed by a gatekeeper that teaches "
                "but never hands out the solution. Recruiters see every prompt, answer and chat line."
            </p>
        </section>

        <section id="how-it-works" class="features" aria-labelledby="how-title">
            <h2 id="how-title">"How it works"</h2>
            <ul class="cards">
                <li class="card">
                    <h3>"Recruiters build tests"</h3>
                    <p>"Coding (JavaScript with hidden test cases), multiple-choice and theory questions, a time limit and a prompt budget."</p>
                </li>
                <li class="card">
                    <h3>"Candidates take them with AI"</h3>
                    <p>"A metered assistant gives hints and explains concepts; an interviewer chat answers clarifications."</p>
                </li>
                <li class="card">
                    <h3>"Everything is on the record"</h3>
                    <p>"Prompts, answers, chat lines and integrity events such as tab switches are stored for review."</p>
                </li>
            </ul>
        </section>

        <PromptMeterPreview />

        <section id="scoring" class="features" aria-labelledby="scoring-title">
            <h2 id="scoring-title">"Scoring"</h2>
            <p>
                "Each attempt is scored on accuracy, speed and prompt wellness, combined with the weights "
                "the recruiter chose for the test."
            </p>
        </section>
    }
}

/// An interactive preview of the candidate's prompt meter (an island: runs in the browser).
#[island]
fn PromptMeterPreview() -> impl IntoView {
    super::island_ready();
    const BUDGET: u32 = 5;
    let (left, set_left) = signal(BUDGET);
    let spent = move || left.get() == 0;
    view! {
        <section class="preview panel" aria-labelledby="preview-title">
            <h2 id="preview-title">"Try the prompt meter"</h2>
            <p>"Every candidate gets a budget of assistant prompts. Spend a few and watch the meter."</p>
            <p class="meter" data-testid="prompt-meter" aria-live="polite">
                {move || format!("{} of {BUDGET} prompts left", left.get())}
            </p>
            <div class="actions">
                <button
                    type="button"
                    data-testid="spend-prompt"
                    on:click=move |_| set_left.update(|n| *n = n.saturating_sub(1))
                    aria-disabled=move || spent().to_string()
                >
                    "Ask the assistant"
                </button>
                <button type="button" class="secondary" on:click=move |_| set_left.set(BUDGET)>
                    "Reset"
                </button>
            </div>
            <Show when=spent>
                <p class="notice">"Budget spent: the assistant is closed for the rest of the test."</p>
            </Show>
        </section>
    }
}
