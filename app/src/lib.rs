//! The product's shared crate: types and UI components compiled for both the server (feature
//! `ssr`) and the browser (feature `hydrate`), plus server-only code under [`backend`].

pub mod account;
pub mod candidate;
pub mod error;
pub mod live;
pub mod markdown;
pub mod model;
pub mod recruiter;
pub mod session;
pub mod template;
pub mod ui;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod backend;
