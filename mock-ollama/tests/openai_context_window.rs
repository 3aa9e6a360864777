//! A prompt longer than the model's context (a word counts as a token) is refused with a 400
//! before anything is generated — streamed requests included — by every server the flavours
//! imitate except Ollama, which truncates it silently (ollama/ollama#2208).
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, chat, flavored_mock, post_chat};
use mock_ollama::Flavor;
use serde_json::json;

/// The built-in llama3.2's context, in words.
const CONTEXT: usize = 4096;

#[tokio::test]
async fn a_streamed_prompt_over_the_context_is_refused_before_any_event_except_by_ollama() {
    let too_long = "word ".repeat(CONTEXT + 1);
    for flavor in Flavor::ALL {
        let mock = flavored_mock(flavor, DIALECT_RULES).await;
        let reply = post_chat(&mock, chat("llama3.2", &too_long, json!({"stream": true}))).await;
        if flavor == Flavor::Ollama {
            assert_eq!(reply.status, 200, "{flavor}");
            assert_eq!(reply.header("content-type"), Some("text/event-stream"));
            continue;
        }
        assert_eq!(reply.status, 400, "{flavor}: {}", reply.text());
        let error = &reply.json()["error"];
        if flavor == Flavor::Llamacpp {
            assert_eq!(
                *error,
                json!({"code": 400, "message": "request (4097 tokens) exceeds the available context size (4096 tokens), try increasing it",
                       "type": "exceed_context_size_error", "n_prompt_tokens": 4097, "n_ctx": 4096})
            );
            continue;
        }
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("This model's maximum context length is 4096 tokens. However, "),
            "{flavor}: {error}"
        );
        assert!(
            error["message"].as_str().unwrap().contains("4097"),
            "{error}"
        );
        if flavor != Flavor::Vllm {
            assert_eq!(error["code"], "context_length_exceeded", "{flavor}");
        }
    }
}

#[tokio::test]
async fn a_prompt_that_fits_the_context_is_answered() {
    let fits = "word ".repeat(CONTEXT - 1) + "hello";
    for flavor in Flavor::ALL {
        let mock = flavored_mock(flavor, DIALECT_RULES).await;
        let reply = post_chat(&mock, chat("llama3.2", &fits, json!({}))).await;
        assert_eq!(reply.status, 200, "{flavor}: {}", reply.text());
    }
}
