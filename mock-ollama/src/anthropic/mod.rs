//! Anthropic's Messages API on the mock's `/v1/messages` and `/v1/messages/count_tokens`: the same
//! scenarios, rules, timing and faults as every other dialect. The body is checked as Anthropic
//! checks it (`wire::anthropic::validate`), read as the Chat request it amounts to
//! (`wire::anthropic::chat`) and from there as the native request the pipeline answers; the turn
//! is written back as a message or its events ([`messages`]), refusals in Anthropic's envelope
//! ([`error`]).

pub mod error;
pub mod messages;
