//! An OpenAI-compatible gateway: `/v1/chat/completions` (JSON and SSE), `/v1/models`, `/health`
//! and the tutorial's endpoints, over Ollama's native `/api/chat` and over any OpenAI-compatible
//! upstream.
//!
//! Run one from a [`Config`] with [`run`] (what the binary does), or in-process on a free port
//! with [`Gateway::start`] (what tests do). The pure translators are public in [`translate`],
//! and the SSE encoding in [`sse`], for benchmarks and for anyone translating without a server.
//!
//! Data flows one way: request in → [`wire::openai::validate`] → route by model (`catalog`, with
//! `failover`) → translate ([`translate`]) → upstream (`backend`, transport only) → translate back
//! (whole, or streamed through `relay` as typed `call::Batch`es) → encode ([`sse`]) out. Every
//! failure is a [`GatewayError`], answered in OpenAI's envelope before streaming or as one SSE
//! error event after.
//!
//! # Rooms
//!
//! Imports run from the top of this list down, never back up (a check in `scripts/` fails the
//! tests when a circle appears):
//!
//! - `server.rs` (accepting connections, [`run`], [`Gateway`]) → `app.rs` (the router and its
//!   layers, their order documented there) → `routes/` (one handler per file; `incoming.rs`
//!   holds the extractors every chat handler takes: its admission, clock, key and id).
//! - `failover.rs` (trying the backends serving a model, retries before the first byte) →
//!   `catalog.rs` (which backend serves which model) → `backend/` (transport only: `transport.rs`
//!   the reqwest or plain-HTTP leg, `http1/` the plain-HTTP/1.1 leg as a byte `codec.rs` apart
//!   from its connection `pool.rs`, `ollama.rs`/`openai.rs` what each kind is sent).
//! - `relay.rs` (reading an upstream stream into chunk batches under its deadlines) →
//!   [`translate`] (pure: each direction per upstream kind, and the stream state machines) →
//!   `call.rs` (what a call carries and what a reply is).
//! - `auth.rs` (keys) → `limits/` (rate limits: `window.rs` the sliding log, `local.rs`/`shared.rs`
//!   its stores in memory or Redis, `refusal.rs` what a refusal says and the `x-ratelimit-*`
//!   headers).
//! - Floors, imported from anywhere: `error.rs` (every failure, mapped to the envelope in one
//!   place), `config.rs`, `state.rs`, `metrics.rs`, `overhead.rs` (`Server-Timing`), `bound.rs`
//!   (bounds on requests in flight), `ids.rs` (ids, the request-id header, the reply clock),
//!   [`sse`] (SSE bytes made once at the edge).
#![forbid(unsafe_code)]

mod app;
mod auth;
mod backend;
mod bound;
mod call;
mod catalog;
mod config;
mod error;
mod failover;
mod ids;
mod limits;
mod metrics;
mod overhead;
mod relay;
mod routes;
mod server;
pub mod sse;
mod state;
pub mod translate;

pub use config::{
    AuthConfig, BackendConfig, BackendKind, Config, ConfigError, CorsConfig, KeyConfig, RateLimits,
    RedisFailure, RetryPolicy, ServerLimits, Timeouts,
};
pub use error::{GatewayError, TimeoutPhase};
pub use server::{Gateway, RunError, run, serve};
pub use state::AppState;
