//! The browser's end of a session's live channel: one WebSocket that reconnects by itself with
//! a growing pause (1, 2, 4 … 30 s), reports its state for the page to show, and hands every
//! event to the page. The server starts each connection with the history, so a reconnect loses
//! nothing.

use crate::live::{ChatInput, LiveEvent};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::wasm_bindgen::closure::Closure;
use leptos::web_sys::{CloseEvent, MessageEvent, WebSocket};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the connection stands.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState {
    Connecting,
    Open,
    /// Lost; the next attempt is in this many seconds.
    Retrying(u32),
    /// The session has ended: no more attempts.
    Ended,
}

impl LinkState {
    pub fn label(&self) -> String {
        match self {
            LinkState::Connecting => "Connecting…".into(),
            LinkState::Open => "Connected".into(),
            LinkState::Retrying(secs) => format!("Connection lost — retrying in {secs} s"),
            LinkState::Ended => "The session has ended".into(),
        }
    }
}

const MAX_PAUSE_SECS: u32 = 30;

/// The page's handle on the channel.
#[derive(Clone, Copy)]
pub struct LiveLink {
    pub state: RwSignal<LinkState>,
    /// Its socket's key in [`SOCKETS`].
    key: u64,
}

thread_local! {
    /// The open sockets, by link. Kept outside the reactive graph: a server renders pages on
    /// any thread and never opens a socket, so nothing thread-bound may be created there.
    static SOCKETS: RefCell<HashMap<u64, WebSocket>> = RefCell::new(HashMap::new());
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

impl LiveLink {
    /// Sends a chat message; `false` when the socket is not open. (Only the chat panel sends,
    /// and only the browser builds it.)
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn send(&self, message: String) -> bool {
        let frame = serde_json::to_string(&ChatInput { message }).unwrap_or_default();
        SOCKETS.with_borrow(|sockets| {
            sockets.get(&self.key).is_some_and(|ws| {
                ws.ready_state() == WebSocket::OPEN && ws.send_with_str(&frame).is_ok()
            })
        })
    }
}

/// The callbacks of the current socket, dropped when it is replaced.
struct Handlers {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

struct Inner {
    url: String,
    on_event: Box<dyn Fn(LiveEvent)>,
    attempts: RefCell<u32>,
    ended: RefCell<bool>,
    disposed: RefCell<bool>,
    handlers: RefCell<Option<Handlers>>,
    link: LiveLink,
}

/// Opens the channel of `session_id` once the page is in the browser, and closes it when the
/// page goes away.
pub fn use_live(session_id: String, on_event: impl Fn(LiveEvent) + 'static) -> LiveLink {
    let link = LiveLink {
        state: RwSignal::new(LinkState::Connecting),
        key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
    };
    // Effects run only in the browser; on the server this closure is dropped where it was made.
    let on_event = RefCell::new(Some(Box::new(on_event) as Box<dyn Fn(LiveEvent)>));
    Effect::new(move |_| {
        let Some(on_event) = on_event.borrow_mut().take() else {
            return;
        };
        let location = window().location();
        let secure = location.protocol().is_ok_and(|p| p == "https:");
        let host = location.host().unwrap_or_default();
        let inner = Rc::new(Inner {
            url: format!(
                "{}://{host}/api/v1/candidate/ws/chat/{session_id}",
                if secure { "wss" } else { "ws" }
            ),
            on_event,
            attempts: RefCell::new(0),
            ended: RefCell::new(false),
            disposed: RefCell::new(false),
            handlers: RefCell::new(None),
            link,
        });
        connect(inner.clone());
        // The cleanup must be Send: it reaches `inner` through a handle kept on this thread.
        let kept = StoredValue::new_local(Some(inner));
        on_cleanup(move || {
            let Some(inner) = kept.try_update_value(Option::take).flatten() else {
                return;
            };
            *inner.disposed.borrow_mut() = true;
            if let Some(ws) = SOCKETS.with_borrow_mut(|sockets| sockets.remove(&inner.link.key)) {
                // Detach first: the callbacks are dropped below, before the socket is closed.
                ws.set_onopen(None);
                ws.set_onmessage(None);
                ws.set_onclose(None);
                let _ = ws.close();
            }
            // Breaks the cycle between the callbacks and `inner`.
            inner.handlers.borrow_mut().take();
        });
    });
    link
}

fn connect(inner: Rc<Inner>) {
    if *inner.disposed.borrow() || *inner.ended.borrow() {
        return;
    }
    inner.link.state.try_set(LinkState::Connecting);
    let Ok(ws) = WebSocket::new(&inner.url) else {
        retry(inner);
        return;
    };
    let on_open = {
        let inner = inner.clone();
        Closure::<dyn FnMut()>::new(move || {
            *inner.attempts.borrow_mut() = 0;
            inner.link.state.try_set(LinkState::Open);
        })
    };
    let on_message = {
        let inner = inner.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            let Ok(event) = serde_json::from_str::<LiveEvent>(&text) else {
                return;
            };
            if matches!(event, LiveEvent::Ended { .. }) {
                *inner.ended.borrow_mut() = true;
                inner.link.state.try_set(LinkState::Ended);
            }
            (inner.on_event)(event);
        })
    };
    let on_close = {
        let inner = inner.clone();
        Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| {
            if *inner.ended.borrow() {
                inner.link.state.try_set(LinkState::Ended);
            } else if !*inner.disposed.borrow() {
                retry(inner.clone());
            }
        })
    };
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *inner.handlers.borrow_mut() = Some(Handlers {
        _open: on_open,
        _message: on_message,
        _close: on_close,
    });
    SOCKETS.with_borrow_mut(|sockets| sockets.insert(inner.link.key, ws));
}

fn retry(inner: Rc<Inner>) {
    let attempt = {
        let mut attempts = inner.attempts.borrow_mut();
        *attempts += 1;
        *attempts
    };
    let pause = 2u32
        .saturating_pow(attempt.saturating_sub(1))
        .min(MAX_PAUSE_SECS);
    inner.link.state.try_set(LinkState::Retrying(pause));
    set_timeout(
        move || connect(inner),
        std::time::Duration::from_secs(u64::from(pause)),
    );
}
