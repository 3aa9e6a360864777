//! A deterministic, scriptable mock of the Ollama server: its native API, its model management
//! (pull, push, create, copy, delete) and its OpenAI-compatible `/v1` layer, which can also speak
//! the dialect of llama.cpp's server, vLLM or exact OpenAI ([`Flavor`]) from the same scenarios.
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
#![forbid(unsafe_code)]

pub mod cli;
pub mod drift;
pub mod error;
pub mod exchange;
pub mod fault;
pub mod generated;
pub mod journal;
pub mod matching;
pub mod ndjson;
pub mod openai;
pub mod record;
pub mod replay;
pub mod respond;
pub mod routes;
pub mod scenario;
pub mod schema;
pub mod seed;
pub mod server;
pub mod shape;
pub mod state;
pub mod timing;
pub mod tls;
pub mod transfer;
pub mod turn;
pub mod validate;

pub use error::OllamaError;
pub use exchange::Exchange;
pub use fault::Fault;
pub use journal::JournalEntry;
pub use openai::Flavor;
pub use record::{RecordError, RecordMode, Recorder};
pub use scenario::{
    Capability, ChunkSpec, Match, ModelSpec, Reply, Rule, Scenario, ScenarioError, Stats,
};
pub use server::{ExpectationError, MockBuilder, MockOllama};
pub use state::{ExpectationReport, MockConfig};
pub use timing::Timing;
pub use tls::TlsIdentity;
