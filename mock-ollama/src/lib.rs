//! A deterministic, scriptable mock of the Ollama server: its native API, its model management
//! (pull, push, create, copy, delete) and its `/v1` layer (Chat Completions, OpenAI's Responses
//! API, Anthropic's Messages API, embeddings), which can also speak the dialect of llama.cpp's
//! server, llama-cpp-python, vLLM or exact OpenAI and Anthropic ([`Flavor`]) from the same
//! scenarios.
//!
//! Start one in-process on `127.0.0.1:0`, point the code under test at [`MockOllama::url`], script
//! replies and faults with a [`Scenario`], then read the [`JournalEntry`]s it recorded and
//! [`MockOllama::verify`] the expectations:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mock_ollama::{MockOllama, Scenario};
//!
//! let scenario = Scenario::from_json("inline", r#"{
//!     "models": [{"name": "llama3.2:latest", "capabilities": ["completion", "tools"]}],
//!     "rules": [{"name": "greeting", "match": {"last_user_contains": "hello"},
//!                "reply": {"text": "Hi there!"}, "expect": 1}]
//! }"#)?;
//! let mock = MockOllama::builder().scenario(scenario).start().await?;
//! // ... call mock.url() + "/api/chat" ...
//! mock.verify()?;
//! # Ok(()) }
//! ```
//!
//! # Public surface
//!
//! The mock itself ([`MockOllama`], [`MockBuilder`]), what scripts it ([`Scenario`] and its
//! parts), records and replays real servers ([`Recorder`], [`Exchange`], [`drift()`]), and the
//! command line as a library function ([`cli::main`]). Four renderer modules are public so that
//! property tests, and tools of their own, can render a scripted turn to bytes with no server:
//! [`turn`] (a reply made concrete), [`ndjson`] (Ollama's lines), [`respond`] (timing and faults
//! applied to a body) and [`openai`] (the `/v1` dialects).
//!
//! # Rooms
//!
//! Imports run from the top of this list down, never back up (a check in `scripts/` fails the
//! tests when a circle appears):
//!
//! - `cli.rs`, `server.rs` (the in-process handle and its builder) → `routes/` (one file per
//!   group of Ollama's routes; `openai.rs` for the `/v1` chat, completion, embedding and model
//!   routes, `responses.rs` for `/v1/responses` and its stored responses, `messages.rs` for
//!   `/v1/messages`, all writing through `reply.rs`; `control.rs` for the `/_mock` API) →
//!   `record.rs`, `replay.rs`, `drift.rs` (real servers recorded, replayed, compared).
//! - `anthropic/` (the Messages API: `flavor.rs` says what each server does, `messages.rs`
//!   writes a reply, `error.rs` its refusals) → `openai/` (each `/v1` dialect: `request.rs`
//!   reads a body as that server does, `refusal.rs` refuses it in that server's words,
//!   `conversion.rs` turns it into native messages, `chat.rs` and `completion.rs` write the
//!   reply, `responses.rs`, `ollama_responses.rs`, `llamacpp_responses.rs` and
//!   `vllm_responses.rs` each server's Responses API, `response_store.rs` what the exact flavour
//!   keeps, `encode.rs` makes the bytes, `flavor.rs` says what each server does differently) →
//!   `respond.rs` (a body's timing and faults) → `ndjson.rs`
//!   (Ollama's lines) → `turn.rs` (a reply made concrete: tokens, tool-call ids, metrics) →
//!   `unscripted.rs` (the reply a request gets when no rule matches).
//! - `state.rs` (the mock's shared state) → `matching.rs` (which rule answers) → `scenario.rs`
//!   (scenario files loaded and checked) → `reply.rs` (what a scripted reply is made of),
//!   `fault.rs`, `timing.rs`, `exchange.rs` (one recorded exchange), `journal.rs`.
//! - Floors: `error.rs` (Ollama's errors, in its words and statuses), `gin.rs` (how Ollama's
//!   HTTP framework writes a response), `validate.rs`, `shape.rs`, `schema.rs`, `seed.rs`,
//!   `tls.rs`, `transfer.rs`.
#![forbid(unsafe_code)]

mod anthropic;
pub mod cli;
mod drift;
mod error;
mod exchange;
mod fault;
mod gin;
mod journal;
mod matching;
pub mod ndjson;
pub mod openai;
mod record;
mod replay;
mod reply;
pub mod respond;
mod routes;
mod scenario;
mod schema;
mod seed;
mod server;
mod shape;
mod state;
mod timing;
mod tls;
mod transfer;
pub mod turn;
mod unscripted;
mod validate;

pub use drift::{DriftReport, FixtureDrift, drift, drift_within};
pub use error::OllamaError;
pub use exchange::{
    BodyEnd, DEFAULT_MATCH_KEYS, Exchange, RecordedChunk, RecordedRequest, RecordedResponse,
};
pub use fault::{EndlessShape, Fault};
pub use journal::JournalEntry;
pub use openai::Flavor;
pub use record::{RecordError, RecordMode, Recorder, UpstreamBounds, upstream_client};
pub use reply::{ChunkSpec, Reply, Stats};
pub use scenario::{Capability, Endpoint, Match, ModelSpec, Rule, Scenario, ScenarioError};
pub use server::{ExpectationError, MockBuilder, MockOllama};
pub use state::{ExpectationReport, MockConfig};
pub use timing::Timing;
pub use tls::{TlsError, TlsIdentity, TlsListener};
