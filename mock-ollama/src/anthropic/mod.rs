//! Anthropic's Messages API on the mock's `/v1/messages` and `/v1/messages/count_tokens`: the same
//! scenarios, rules, timing and faults as every other dialect, played as each flavour's server
//! plays it ([`flavor`]). The body is checked as that server checks it, read as the Chat request it
//! amounts to (`wire::anthropic::chat`) and from there as the native request the pipeline
//! answers; the turn is written back as a message or its events ([`messages`]), refusals in the
//! flavour's envelope ([`error`]).

pub mod error;
pub mod flavor;
pub mod messages;
