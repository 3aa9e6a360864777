//! OpenAI's dialect on the mock's `/v1` routes: the same scenarios, rules, timing and faults as the
//! native API, written the way a chosen server writes them ([`flavor::Flavor`]).
//!
//! Data flows one way: the body is read as that server reads it ([`request`]: refused in its
//! words by [`refusal`], converted as Ollama's layer converts it by [`conversion`]) into the
//! native request the mock's pipeline answers, and the resulting turn is written back in the
//! dialect ([`chat`], [`completion`], each server's Responses writer: [`responses`],
//! [`ollama_responses`], [`llamacpp_responses`], [`vllm_responses`]), with errors in its error
//! objects ([`error`]) and its bytes made in one place ([`encode`]).

pub mod chat;
pub mod completion;
pub mod conversion;
pub mod encode;
pub mod error;
pub mod flavor;
pub mod llama_server;
pub mod llamacpp_responses;
pub mod ollama_responses;
pub mod refusal;
pub mod request;
pub mod response_store;
pub mod responses;
pub mod vllm_responses;

pub use error::ApiError;
pub use flavor::{Dialect, Flavor};
