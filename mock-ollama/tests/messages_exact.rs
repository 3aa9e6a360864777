//! `/v1/messages` in the `openai` flavour is Anthropic's Messages API, from the same scenarios as
//! every other dialect: the whole message reads as the strict wire type and writes back key for
//! key; a stream is `event:`-named events (`message_start`, `ping`, each block started, its
//! deltas, stopped, `message_delta`, `message_stop`) whose deltas add up to the whole message;
//! tool calls are `tool_use` blocks; thinking is signed; refusals are Anthropic's envelope with
//! its statuses; every reply has a `request-id`; `count_tokens` counts what the message reads.
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, RawResponse, flavored_mock, raw_with_headers, with_dialect_rules};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};
use wire::anthropic::{
    BlockDelta, ContentBlock, ErrorEnvelope, ErrorType, Message, StopReason, StreamEvent,
    TokenCount,
};

const KEYED: &[(&str, &str)] = &[
    ("x-api-key", "sk-ant-test"),
    ("anthropic-version", "2023-06-01"),
];

const RULES: &str = r#"{"rules": [
  {"match": {"last_user_contains": "think"}, "reply": {"chunks": [
     {"thinking": "Let me"}, {"thinking": " see."}, {"content": "Four."}]}},
  {"match": {"last_user_contains": "essay"}, "reply": {"text": "one two three four five six seven eight"}},
  {"match": {"last_user_contains": "[529]"},
   "faults": [{"kind": "http_error", "status": 529, "message": "Overloaded", "retry_after": "3"}]}
]}"#;

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Openai, &with_dialect_rules(RULES)).await
}

async fn send(
    mock: &MockOllama,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> RawResponse {
    raw_with_headers(mock.addr(), "POST", path, headers, &body.to_string()).await
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    send(mock, "/v1/messages", KEYED, &body).await
}

fn ask(model: &str, prompt: &str) -> Value {
    json!({"model": model, "max_tokens": 256, "messages": [{"role": "user", "content": prompt}]})
}

fn streamed(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

/// The events of a Messages stream: each `event:` name checked against its `type`.
fn events(reply: &RawResponse) -> Vec<StreamEvent> {
    reply
        .named_events()
        .into_iter()
        .map(|(name, data)| {
            let event: StreamEvent = serde_json::from_str(&data).unwrap();
            assert_eq!(name, event.kind(), "event: line and type");
            event
        })
        .collect()
}

/// The message a stream adds up to, as an SDK's accumulator builds it.
fn accumulate(events: &[StreamEvent]) -> Message {
    let mut message = None::<Message>;
    let mut json_parts: Vec<String> = Vec::new();
    for event in events {
        match event {
            StreamEvent::MessageStart { message: start } => {
                assert!(message.is_none(), "one message_start");
                message = Some(*start.clone());
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let message = message.as_mut().expect("message_start first");
                assert_eq!(*index as usize, message.content.len(), "blocks in order");
                message.content.push(content_block.clone());
                json_parts.push(String::new());
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                let message = message.as_mut().expect("message_start first");
                let block = &mut message.content[*index as usize];
                match (block, delta) {
                    (ContentBlock::Text { text }, BlockDelta::TextDelta { text: more }) => {
                        text.push_str(more);
                    }
                    (
                        ContentBlock::Thinking { thinking, .. },
                        BlockDelta::ThinkingDelta { thinking: more },
                    ) => thinking.push_str(more),
                    (
                        ContentBlock::Thinking { signature, .. },
                        BlockDelta::SignatureDelta { signature: sig },
                    ) => signature.push_str(sig),
                    (ContentBlock::ToolUse { .. }, BlockDelta::InputJsonDelta { partial_json }) => {
                        json_parts[*index as usize].push_str(partial_json);
                    }
                    (block, delta) => panic!("{delta:?} does not belong in {block:?}"),
                }
            }
            StreamEvent::ContentBlockStop { index } => {
                let message = message.as_mut().expect("message_start first");
                if let ContentBlock::ToolUse { input, .. } = &mut message.content[*index as usize] {
                    *input = serde_json::from_str(&json_parts[*index as usize]).unwrap();
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                let message = message.as_mut().expect("message_start first");
                message.stop_reason = delta.stop_reason;
                message.stop_sequence = delta.stop_sequence.clone();
                message.usage.output_tokens = usage.output_tokens;
            }
            StreamEvent::MessageStop | StreamEvent::Ping | StreamEvent::Error { .. } => {}
        }
    }
    message.expect("a message")
}

#[tokio::test]
async fn a_whole_message_is_the_strict_object_with_its_text_as_one_block() {
    let mock = mock().await;
    let reply = create(&mock, ask("llama3.2", "hello")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.header("request-id").unwrap().starts_with("req_01"));
    let value = reply.json();
    let message: Message = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&message).unwrap(), value);
    assert!(message.id.starts_with("msg_01"));
    assert_eq!(
        message.content,
        [ContentBlock::Text {
            text: "Hi there, friend.".to_owned()
        }]
    );
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert!(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
}

#[tokio::test]
async fn a_stream_is_named_events_in_order_adding_up_to_the_whole_message() {
    let mock = mock().await;
    let whole: Message =
        serde_json::from_value(create(&mock, ask("llama3.2", "hello")).await.json()).unwrap();
    let reply = create(&mock, streamed(ask("llama3.2", "hello"))).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = events(&reply);
    let kinds: Vec<&str> = events.iter().map(StreamEvent::kind).collect();
    assert_eq!(kinds[..3], ["message_start", "ping", "content_block_start"]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    if let StreamEvent::MessageStart { message } = &events[0] {
        assert!(message.content.is_empty());
        assert_eq!(message.stop_reason, None);
    }
    assert_eq!(accumulate(&events), whole);
}

#[tokio::test]
async fn thinking_is_a_signed_block_before_the_text() {
    let mock = mock().await;
    let mut body = ask("qwen3:0.6b", "think: 2+2?");
    body["max_tokens"] = json!(2048);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let whole: Message = serde_json::from_value(create(&mock, body.clone()).await.json()).unwrap();
    match &whole.content[..] {
        [
            ContentBlock::Thinking {
                thinking,
                signature,
            },
            ContentBlock::Text { text },
        ] => {
            assert_eq!((thinking.as_str(), text.as_str()), ("Let me see.", "Four."));
            assert!(!signature.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let events = events(&create(&mock, streamed(body)).await);
    assert!(events.iter().any(|event| matches!(
        event,
        StreamEvent::ContentBlockDelta {
            delta: BlockDelta::SignatureDelta { .. },
            ..
        }
    )));
    assert_eq!(accumulate(&events), whole);
}

#[tokio::test]
async fn a_tool_call_is_a_tool_use_block_and_its_result_continues_the_conversation() {
    let mock = mock().await;
    let mut body = ask("llama3.2", "Weather in Paris?");
    body["tools"] = json!([{"name": "get_weather", "description": "Weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let whole: Message = serde_json::from_value(create(&mock, body.clone()).await.json()).unwrap();
    assert_eq!(whole.stop_reason, Some(StopReason::ToolUse));
    let (id, input) = whole
        .content
        .iter()
        .find_map(|block| match block {
            ContentBlock::ToolUse { id, name, input } if name == "get_weather" => {
                Some((id.clone(), input.clone()))
            }
            _ => None,
        })
        .expect("a tool_use block");
    assert!(id.starts_with("toolu_01"));
    assert_eq!(input, json!({"city": "Paris"}));

    let events = events(&create(&mock, streamed(body.clone())).await);
    let start = events
        .iter()
        .find_map(|event| match event {
            StreamEvent::ContentBlockStart {
                content_block: ContentBlock::ToolUse { input, .. },
                ..
            } => Some(input.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(start, json!({}), "the input arrives in deltas");
    assert_eq!(accumulate(&events), whole);

    body["messages"] = json!([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": serde_json::to_value(&whole.content).unwrap()},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "18C"}]}
    ]);
    let after = create(&mock, body).await;
    assert_eq!(after.status, 200, "{}", after.text());
}

#[tokio::test]
async fn max_tokens_cuts_the_message_with_its_stop_reason() {
    let mock = mock().await;
    let mut body = ask("llama3.2", "an essay");
    body["max_tokens"] = json!(3);
    let whole: Message = serde_json::from_value(create(&mock, body.clone()).await.json()).unwrap();
    assert_eq!(whole.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(whole.usage.output_tokens, 3);
    assert_eq!(
        accumulate(&events(&create(&mock, streamed(body)).await)),
        whole
    );
}

#[tokio::test]
async fn count_tokens_counts_what_the_message_reads() {
    let mock = mock().await;
    let body = ask("llama3.2", "hello there");
    let whole: Message = serde_json::from_value(create(&mock, body.clone()).await.json()).unwrap();
    let mut counted = body.clone();
    counted.as_object_mut().unwrap().remove("max_tokens");
    let reply = send(&mock, "/v1/messages/count_tokens", KEYED, &counted).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let count: TokenCount = serde_json::from_value(reply.json()).unwrap();
    assert_eq!(count.input_tokens, whole.usage.input_tokens);
}

fn envelope(reply: &RawResponse, status: u16, kind: ErrorType) -> ErrorEnvelope {
    assert_eq!(reply.status, status, "{}", reply.text());
    let envelope: ErrorEnvelope = serde_json::from_value(reply.json()).unwrap();
    assert_eq!(envelope.error.kind, kind, "{}", reply.text());
    assert_eq!(
        envelope.request_id.as_deref(),
        reply.header("request-id"),
        "the envelope names the request"
    );
    envelope
}

#[tokio::test]
async fn refusals_are_anthropics_envelope_with_the_status_of_their_type() {
    let mock = mock().await;
    let body = ask("llama3.2", "hello");
    let unkeyed = send(
        &mock,
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        &body,
    )
    .await;
    envelope(&unkeyed, 401, ErrorType::AuthenticationError);
    let bearer = send(
        &mock,
        "/v1/messages",
        &[
            ("authorization", "Bearer t"),
            ("anthropic-version", "2023-06-01"),
        ],
        &body,
    )
    .await;
    assert_eq!(bearer.status, 200, "a bearer token is a key too");
    let unversioned = send(&mock, "/v1/messages", &[("x-api-key", "k")], &body).await;
    envelope(&unversioned, 400, ErrorType::InvalidRequestError);

    let mut no_limit = body.clone();
    no_limit.as_object_mut().unwrap().remove("max_tokens");
    let refused = envelope(
        &create(&mock, no_limit).await,
        400,
        ErrorType::InvalidRequestError,
    );
    assert_eq!(refused.error.message, "max_tokens: Field required");
    let unknown = envelope(
        &create(&mock, ask("no-such-model", "hi")).await,
        404,
        ErrorType::NotFoundError,
    );
    assert_eq!(unknown.error.message, "model: no-such-model");
    let not_json = raw_with_headers(mock.addr(), "POST", "/v1/messages", KEYED, "{").await;
    envelope(&not_json, 400, ErrorType::InvalidRequestError);

    let overloaded = create(&mock, ask("llama3.2", "[529]")).await;
    envelope(&overloaded, 529, ErrorType::OverloadedError);
    assert_eq!(overloaded.header("retry-after"), Some("3"));
}

#[tokio::test]
async fn a_mid_stream_failure_is_an_error_event_and_the_stream_ends() {
    let mock = mock().await;
    let events = events(&create(&mock, streamed(ask("llama3.2", "[error]"))).await);
    assert!(
        matches!(events.last().unwrap(), StreamEvent::Error { error } if error.message == "engine died"),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, StreamEvent::MessageStop))
    );
}

#[tokio::test]
async fn claude_codes_beta_query_reaches_the_same_route() {
    let mock = mock().await;
    let reply = send(
        &mock,
        "/v1/messages?beta=true",
        KEYED,
        &ask("llama3.2", "hello"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn llama_cpp_python_has_no_messages_route() {
    let mock = flavored_mock(Flavor::LlamaCppPython, DIALECT_RULES).await;
    let reply = send(&mock, "/v1/messages", KEYED, &ask("llama3.2", "hello")).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn a_stop_sequence_ends_the_reply_before_it_and_is_named() {
    let mock = mock().await;
    let mut body = ask("llama3.2", "an essay please");
    body["stop_sequences"] = json!(["five", "seven"]);
    let whole = create(&mock, body.clone()).await.json();
    assert_eq!(whole["content"][0]["text"], "one two three four ");
    assert_eq!(whole["stop_reason"], "stop_sequence");
    assert_eq!(whole["stop_sequence"], "five");
    let events = events(&create(&mock, streamed(body)).await);
    let delta = events
        .iter()
        .find_map(|event| match event {
            StreamEvent::MessageDelta { delta, .. } => Some(delta.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(delta.stop_reason, Some(StopReason::StopSequence));
    assert_eq!(delta.stop_sequence.as_deref(), Some("five"));
}
