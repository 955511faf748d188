//! Browser entry point: hydrates the server-rendered page into the interactive app.

// The future that hydrates the routed app has a deeply nested type.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are split into their own WebAssembly chunks, loaded before they hydrate.
    leptos::mount::hydrate_lazy(app::ui::App);
}
