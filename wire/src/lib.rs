//! Wire types shared by the gateway, the mock Ollama and the conformance suite.
//!
//! Every JSON shape that crosses a socket is declared here once. The crate does no I/O; it only
//! knows how the bytes look (but for [`shutdown`], the binaries' common stop signal, behind the
//! `shutdown` feature).
#![forbid(unsafe_code)]

pub mod error_chain;
pub mod go_duration;
pub mod go_json;
pub mod ndjson;
pub mod ollama;
pub mod ollama_host;
pub mod openai;
pub mod py_json;
#[cfg(feature = "shutdown")]
pub mod shutdown;
pub mod sse;
pub mod unix_time;
