//! Response headers that make browsers enforce what the app promises: a Content-Security-Policy
//! per page whose nonce admits only the inline scripts the server wrote (hydration and resource
//! data), never `eval`; and, for everything else, a policy that allows nothing.

use axum::http::HeaderValue;
use axum::http::header::CONTENT_SECURITY_POLICY;
use leptos::config::LeptosOptions;
use leptos::prelude::use_context;

/// The policy of every response that is not a page (JSON, files, errors).
pub const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of the API documentation (Swagger UI, served from the binary): its own scripts
/// only, never `eval`; inline styles, which Swagger UI sets on elements; fetches to us only.
pub const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
    'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A page's policy. Scripts: our own files and inline scripts carrying this response's `nonce`;
/// WebAssembly may be compiled (`wasm-unsafe-eval`), JavaScript `eval` may not. Styles and
/// connections (fetch, the chat socket) to our own origin only; no plugins, no framing, and
/// forms post only to us. `reload_port`: cargo-leptos's live-reload socket in development.
pub fn page_policy(nonce: &str, reload_port: Option<u32>) -> String {
    let reload = reload_port
        .map(|port| format!(" ws://127.0.0.1:{port} ws://localhost:{port}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's policy on the response being rendered (call it from the page shell, on the
/// server). The nonce is the one Leptos put on this response's inline scripts.
pub fn send_page_policy(options: &LeptosOptions) {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` sets LEPTOS_WATCH and injects its reload script.
    let watching = std::env::var_os("LEPTOS_WATCH").is_some();
    let policy = page_policy(&nonce, watching.then_some(options.reload_port));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::page_policy;

    #[test]
    fn the_page_policy_admits_the_nonce_and_wasm_but_never_eval_or_inline_code() {
        let policy = page_policy("abc123", None);
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("'unsafe-eval'"));
        assert!(!policy.contains("'unsafe-inline'"));
        assert!(!policy.contains("ws://"));
        assert!(page_policy("n", Some(3001)).contains("connect-src 'self' ws://127.0.0.1:3001"));
    }
}
