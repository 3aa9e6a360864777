//! Properties over random scenarios and requests: output is a pure function of (scenario,
//! request), and streamed chunks always add up to the non-stream reply.
#![allow(clippy::unwrap_used)]

mod common;

use common::arbitrary::{clock, context, reply, timing};
use mock_ollama::{
    ndjson::{self, Shape},
    respond,
    turn::Turn,
};
use proptest::prelude::*;
use serde_json::Value;

fn stream_bytes(turn: &Turn, shape: Shape) -> Vec<u8> {
    let lines = ndjson::stream_lines(turn, shape, "m", clock());
    respond::plan_stream(&lines, &[], 0.0, &respond::NdjsonFraming).bytes()
}

proptest! {
    #[test]
    fn same_reply_and_request_give_identical_bytes(reply in reply(), ctx in context()) {
        let a = Turn::new(&reply, &timing(), ctx);
        let b = Turn::new(&reply, &timing(), ctx);
        prop_assert_eq!(stream_bytes(&a, Shape::Chat), stream_bytes(&b, Shape::Chat));
        prop_assert_eq!(ndjson::whole(&a, Shape::Chat, "m", clock()), ndjson::whole(&b, Shape::Chat, "m", clock()));
    }

    #[test]
    fn streamed_chunks_concatenate_to_the_non_stream_reply(reply in reply(), ctx in context()) {
        let turn = Turn::new(&reply, &timing(), ctx);
        let streamed = stream_bytes(&turn, Shape::Chat);
        let lines: Vec<Value> = streamed
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).unwrap())
            .collect();
        let whole: Value = serde_json::from_slice(&ndjson::whole(&turn, Shape::Chat, "m", clock())).unwrap();
        let content: String = lines.iter().map(|l| l["message"]["content"].as_str().unwrap()).collect();
        let thinking: String = lines.iter().filter_map(|l| l["message"]["thinking"].as_str()).collect();
        let calls: Vec<Value> = lines
            .iter()
            .filter_map(|l| l["message"]["tool_calls"].as_array())
            .flatten()
            .cloned()
            .collect();
        prop_assert_eq!(whole["message"]["content"].as_str().unwrap(), content);
        prop_assert_eq!(whole["message"]["thinking"].as_str().unwrap_or(""), thinking);
        prop_assert_eq!(whole["message"]["tool_calls"].as_array().cloned().unwrap_or_default(), calls);
        let last = lines.last().unwrap();
        for key in ["done_reason", "eval_count", "prompt_eval_count", "total_duration", "created_at"] {
            prop_assert_eq!(&whole[key], &last[key]);
        }
        // Metrics keys exist only on the final line.
        for line in &lines[..lines.len() - 1] {
            prop_assert!(line.get("eval_count").is_none() && line.get("done_reason").is_none());
        }
    }

    #[test]
    fn generate_shape_agrees_with_chat_shape(reply in reply(), ctx in context()) {
        let turn = Turn::new(&reply, &timing(), ctx);
        let chat: Value = serde_json::from_slice(&ndjson::whole(&turn, Shape::Chat, "m", clock())).unwrap();
        let generate: Value = serde_json::from_slice(&ndjson::whole(&turn, Shape::Generate, "m", clock())).unwrap();
        prop_assert_eq!(&chat["message"]["content"], &generate["response"]);
        prop_assert_eq!(&chat["eval_count"], &generate["eval_count"]);
    }

    #[test]
    fn num_predict_is_never_exceeded(reply in reply(), ctx in context()) {
        let turn = Turn::new(&reply, &timing(), ctx);
        if let Some(limit) = ctx.num_predict {
            prop_assert!(turn.chunks.len() as u64 <= limit);
            if turn.done_reason == "length" && reply.done_reason == "stop" {
                prop_assert_eq!(turn.metrics.eval_count, limit);
            }
        }
    }

    #[test]
    fn any_fault_plan_is_a_prefix_of_the_clean_stream_or_adds_one_line(reply in reply(), ctx in context(), after in 0usize..10) {
        let turn = Turn::new(&reply, &timing(), ctx);
        let lines = ndjson::stream_lines(&turn, Shape::Chat, "m", clock());
        let clean = respond::plan_stream(&lines, &[], 0.0, &respond::NdjsonFraming).bytes();
        let cut = respond::plan_stream(&lines, &[mock_ollama::Fault::TruncatedLine { after }], 0.0, &respond::NdjsonFraming);
        prop_assert!(clean.starts_with(&cut.bytes()));
        let errored = respond::plan_stream(&lines, &[mock_ollama::Fault::ErrorLine { after, message: "x".into() }], 0.0, &respond::NdjsonFraming).bytes();
        let error_line: &[u8] = br#"{"error":"x"}"#;
        prop_assert!(errored.ends_with(error_line) || errored.ends_with(&[error_line, b"\n"].concat()));
    }
}
