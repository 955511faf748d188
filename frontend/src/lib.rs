//! Browser entry point: makes the server-rendered page's islands interactive.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // The size-tuned build (`.ci/dev`'s `build_front`) aborts on a panic without running any hook,
    // so the hook and its message formatting would only add bytes there.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    app::ui::hydrate();
}
