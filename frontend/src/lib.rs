//! Browser entry point: makes the server-rendered page's islands interactive.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::ui::hydrate();
}
