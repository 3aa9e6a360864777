//! An OpenAI-compatible gateway: `/v1/chat/completions` (JSON and SSE), `/v1/models`, `/health`
//! and the tutorial's endpoints, over Ollama's native `/api/chat` and over any OpenAI-compatible
//! upstream.
//!
//! Data flows one way: request in → [`wire::openai::validate`] → route by model ([`catalog`], with
//! [`failover`]) → translate ([`translate`]) → upstream ([`backend`], transport only) → translate
//! back (whole, or streamed through [`relay`] as typed [`chat::Batch`]es) → encode ([`sse`]) out. Every failure
//! is a [`GatewayError`], answered in OpenAI's envelope before streaming or as one SSE error event
//! after.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod backend;
pub mod catalog;
pub mod chat;
pub mod config;
pub mod error;
pub mod failover;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod ndjson;
pub mod overhead;
pub mod overload;
pub mod relay;
pub mod routes;
pub mod server;
pub mod sse;
pub mod state;
pub mod translate;

pub use config::Config;
pub use error::GatewayError;
pub use server::{Gateway, serve};
pub use state::AppState;
