//! Properties of every server's Responses writer over random replies: a stream's deltas add up to
//! the response its terminal event carries and to the whole reply of the same turn (text,
//! reasoning, each function call's arguments), the stream has one terminal event and it is last,
//! and where a server numbers its events the numbers count from 0.
#![allow(clippy::unwrap_used)]

mod common;

use common::arbitrary::{clock, context, reply, timing};
use mock_ollama::{
    Flavor,
    ndjson::Line,
    openai::{chat::ReplyContext, llamacpp_responses, ollama_responses, responses, vllm_responses},
    turn::Turn,
};
use proptest::prelude::*;
use serde_json::Value;

/// What a client accumulates from a stream's events.
#[derive(Debug, Default, PartialEq)]
struct Output {
    text: String,
    reasoning: String,
    /// Each function call's arguments, in order.
    arguments: Vec<String>,
}

/// The text, reasoning and function-call arguments of a `response` object's output.
fn output_of(response: &Value) -> Output {
    let mut output = Output::default();
    for item in response["output"].as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("message") => {
                for part in item["content"].as_array().into_iter().flatten() {
                    output.text.push_str(part["text"].as_str().unwrap_or(""));
                }
            }
            Some("reasoning") => {
                // A server shows reasoning as its content or as its summary, never both.
                let parts = match item["content"].as_array() {
                    Some(content) if !content.is_empty() => content,
                    _ => item["summary"].as_array().unwrap(),
                };
                for part in parts {
                    output.reasoning.push_str(part["text"].as_str().unwrap());
                }
            }
            Some("function_call") => output
                .arguments
                .push(item["arguments"].as_str().unwrap().to_owned()),
            other => panic!("unexpected item {other:?}"),
        }
    }
    output
}

/// The stream's accumulated output, its terminal response and its sequence numbers.
fn accumulate(lines: &[Line]) -> (Output, Value, Vec<Option<u64>>) {
    let bytes: Vec<u8> = lines.iter().flat_map(|line| line.bytes.to_vec()).collect();
    let text = String::from_utf8(bytes).unwrap();
    let mut output = Output::default();
    let mut terminal = None;
    let mut numbers = Vec::new();
    for event in text.split("\n\n").filter(|event| !event.is_empty()) {
        let (name, data) = event
            .strip_prefix("event: ")
            .and_then(|rest| rest.split_once("\ndata: "))
            .unwrap();
        assert!(
            terminal.is_none(),
            "nothing after the terminal event: {name}"
        );
        let event: Value = serde_json::from_str(data).unwrap();
        assert_eq!(event["type"], name);
        numbers.push(event["sequence_number"].as_u64());
        let delta = event["delta"].as_str().unwrap_or("");
        match name {
            "response.output_text.delta" => output.text.push_str(delta),
            "response.reasoning_text.delta" | "response.reasoning_summary_text.delta" => {
                output.reasoning.push_str(delta);
            }
            "response.output_item.added" if event["item"]["type"] == "function_call" => {
                output.arguments.push(String::new());
            }
            "response.function_call_arguments.delta" => {
                output.arguments.last_mut().unwrap().push_str(delta);
            }
            "response.completed" | "response.incomplete" => {
                terminal = Some(event["response"].clone());
            }
            _ => {}
        }
    }
    (output, terminal.expect("a terminal event"), numbers)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_servers_responses_stream_adds_up_to_its_whole_reply(
        reply in reply(),
        ctx in context(),
    ) {
        let turn = Turn::new(&reply, &timing(), ctx);
        let body = br#"{"model":"m","input":"hi"}"#;
        for flavor in [Flavor::Openai, Flavor::Ollama, Flavor::Llamacpp, Flavor::Vllm] {
            let reply_ctx = ReplyContext {
                dialect: flavor.dialect(),
                model: "m",
                seed: ctx.seed,
                clock: clock(),
                choices: 1,
                logprobs: None,
            };
            let (whole, lines) = match flavor {
                Flavor::Openai => {
                    let echo = responses::Echo {
                        request: serde_json::from_slice(body).unwrap(),
                        previous: None,
                        created_at: 0,
                    };
                    (responses::whole(&reply_ctx, &turn, &echo),
                     responses::stream(&reply_ctx, &turn, &echo).lines)
                }
                Flavor::Ollama => {
                    let echo = ollama_responses::read(body).unwrap().echo;
                    (ollama_responses::whole(&reply_ctx, &turn, &echo),
                     ollama_responses::stream(&reply_ctx, &turn, &echo).lines)
                }
                Flavor::Llamacpp => (
                    llamacpp_responses::whole(&reply_ctx, &turn),
                    llamacpp_responses::stream(&reply_ctx, &turn).lines,
                ),
                _ => {
                    let echo = vllm_responses::read(body).unwrap().into_echo(0, 0);
                    (vllm_responses::whole(&reply_ctx, &turn, &echo),
                     vllm_responses::stream(&reply_ctx, &turn, &echo).lines)
                }
            };
            let (streamed, terminal, numbers) = accumulate(&lines);
            prop_assert_eq!(&streamed, &output_of(&terminal), "{}: the deltas add up to the final response", flavor);
            let mut last = output_of(&terminal);
            if flavor == Flavor::Ollama && !last.arguments.is_empty() {
                // Ollama's `ToResponse` drops the text beside tool calls; its stream writer keeps it.
                last.text.clear();
            }
            prop_assert_eq!(&last, &output_of(&whole), "{}: the final response is the whole reply", flavor);
            if flavor != Flavor::Llamacpp {
                let counted: Vec<Option<u64>> = (0..numbers.len() as u64).map(Some).collect();
                prop_assert_eq!(numbers, counted, "{}: numbered from 0", flavor);
            }
        }
    }
}
