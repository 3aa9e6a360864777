//! Wire types shared by the gateway and the mock Ollama, and the grammars both must read alike.
//!
//! Every JSON shape that crosses a socket is declared here once. The crate does no I/O; it only
//! knows how the bytes look (but for [`shutdown`], how servers are asked to stop, behind the
//! `shutdown` feature). The conformance runner judges the wire with parsers of its own, and takes
//! only [`error_chain`] and [`unix_time`] from here.
//!
//! # Rooms
//!
//! - [`openai`] (Chat Completions, models, embeddings and errors; `openai/validate.rs` what
//!   OpenAI accepts; [`openai::responses`] the Responses API), [`anthropic`] (the Messages API
//!   and Anthropic's errors) and [`ollama`] (the native API; `ollama/knobs.rs` what Ollama accepts in
//!   `options`, `think` and `keep_alive`).
//! - Grammars, each once: [`go_duration`] (Go's `time.ParseDuration`), [`go_json`] and
//!   [`py_json`] (how Go and Python write JSON), [`sse`] (reading server-sent events),
//!   [`ndjson`] (splitting NDJSON lines), [`ollama_host`] (`OLLAMA_HOST` as Ollama reads it).
//! - Helpers: [`error_chain`], [`unix_time`], [`shutdown`], [`segmented`] (a buffer that grows
//!   without reallocating, for what an upstream sends).
#![forbid(unsafe_code)]

pub mod anthropic;
pub mod error_chain;
pub mod go_duration;
pub mod go_json;
pub mod ndjson;
pub mod ollama;
pub mod ollama_host;
pub mod openai;
pub mod py_json;
pub mod segmented;
#[cfg(feature = "shutdown")]
pub mod shutdown;
pub mod sse;
#[cfg(feature = "tls")]
pub mod trust;
pub mod unix_time;
