//! The Messages API's wire types read what Anthropic and the servers that imitate it write, and
//! write exactly what Anthropic writes.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use wire::anthropic::{
    BlockDelta, Content, ContentBlock, DeltaUsage, ErrorEnvelope, ErrorObject, ErrorType,
    ImageSource, Message, MessageDelta, MessageParam, MessagesRequest, StopReason, StreamEvent,
    Thinking, Tool, ToolChoice, Usage,
};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_value(serde_json::to_value(value).unwrap()).unwrap()
}

#[test]
fn a_streamed_message_reads_event_by_event_in_the_documented_order() {
    // docs.anthropic.com/en/api/messages-streaming, a text block and a tool_use block.
    let stream = [
        json!({"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
            "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5",
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 472, "output_tokens": 2, "cache_creation_input_tokens": null, "cache_read_input_tokens": null}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Okay"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use",
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"location\":"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 89}}),
        json!({"type": "message_stop"}),
    ];
    let kinds: Vec<&str> = stream
        .iter()
        .map(|body| {
            let event: StreamEvent = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(&serde_json::to_value(&event).unwrap(), body);
            event.kind()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
}

#[test]
fn stop_reason_is_written_null_and_read_when_absent() {
    // Ollama writes `stop_reason`/`stop_sequence` with omitempty (anthropic/anthropic.go).
    let message: Message = serde_json::from_value(json!({"id": "msg_1", "type": "message",
        "role": "assistant", "content": [], "model": "llama3.2",
        "usage": {"input_tokens": 3, "output_tokens": 0}}))
    .unwrap();
    assert_eq!(message.stop_reason, None);
    let written = serde_json::to_value(&message).unwrap();
    assert_eq!(written["stop_reason"], Value::Null);
    assert_eq!(written["stop_sequence"], Value::Null);
}

#[test]
fn a_tool_use_start_without_input_reads_as_an_empty_object() {
    // llama.cpp's `content_block_start` for tool_use has no `input`.
    let event: StreamEvent = serde_json::from_value(json!({"type": "content_block_start",
        "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f"}}))
    .unwrap();
    let StreamEvent::ContentBlockStart {
        content_block: ContentBlock::ToolUse { input, .. },
        ..
    } = event
    else {
        panic!("{event:?}")
    };
    assert_eq!(input, json!({}));
}

#[test]
fn a_claude_code_request_reads_with_the_keys_it_adds() {
    // Claude Code marks blocks and tools with `cache_control` and sends a system as blocks.
    let request: MessagesRequest = serde_json::from_value(json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}],
        "tools": [{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object"}}],
        "metadata": {"user_id": "user_abc"},
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }))
    .unwrap();
    assert!(request.is_streaming());
    assert_eq!(
        request.thinking,
        Some(Thinking::Enabled {
            budget_tokens: 2048
        })
    );
    assert!(matches!(request.system, Some(Content::Blocks(ref blocks)) if blocks.len() == 1));
}

#[test]
fn errors_are_anthropics_envelope_with_its_statuses() {
    let envelope = ErrorEnvelope::new(ErrorType::NotFoundError, "model: llama9");
    assert_eq!(
        serde_json::to_value(&envelope).unwrap(),
        json!({"type": "error", "error": {"type": "not_found_error", "message": "model: llama9"}})
    );
    let read: ErrorEnvelope =
        serde_json::from_value(json!({"type": "error", "request_id": "req_1",
        "error": {"type": "overloaded_error", "message": "Overloaded"}}))
        .unwrap();
    assert_eq!(read.error.kind.status(), 529);
    assert_eq!(read.request_id.as_deref(), Some("req_1"));
    assert_eq!(ErrorType::InvalidRequestError.status(), 400);
    assert_eq!(ErrorType::RateLimitError.status(), 429);
}

#[test]
fn every_error_type_is_the_type_of_its_own_status() {
    for kind in [
        ErrorType::InvalidRequestError,
        ErrorType::AuthenticationError,
        ErrorType::BillingError,
        ErrorType::PermissionError,
        ErrorType::NotFoundError,
        ErrorType::RequestTooLarge,
        ErrorType::RateLimitError,
        ErrorType::ApiError,
        ErrorType::TimeoutError,
        ErrorType::OverloadedError,
    ] {
        assert_eq!(ErrorType::for_status(kind.status()), kind);
    }
    assert_eq!(ErrorType::for_status(503), ErrorType::ApiError);
    assert_eq!(ErrorType::for_status(422), ErrorType::InvalidRequestError);
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.{}\":é]{0,16}"
}

fn block() -> impl Strategy<Value = ContentBlock> {
    prop_oneof![
        text().prop_map(|text| ContentBlock::Text { text }),
        (text(), text()).prop_map(|(media_type, data)| ContentBlock::Image {
            source: ImageSource::Base64 { media_type, data }
        }),
        text().prop_map(|url| ContentBlock::Image {
            source: ImageSource::Url { url }
        }),
        (text(), text(), text()).prop_map(|(id, name, value)| ContentBlock::ToolUse {
            id,
            name,
            input: json!({"value": value}),
        }),
        (
            text(),
            prop::option::of(text()),
            prop::option::of(any::<bool>())
        )
            .prop_map(
                |(tool_use_id, content, is_error)| ContentBlock::ToolResult {
                    tool_use_id,
                    content: content.map(Content::Text),
                    is_error,
                }
            ),
        (text(), text()).prop_map(|(thinking, signature)| ContentBlock::Thinking {
            thinking,
            signature
        }),
        text().prop_map(|data| ContentBlock::RedactedThinking { data }),
    ]
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        text().prop_map(Content::Text),
        prop::collection::vec(block(), 0..4).prop_map(Content::Blocks),
    ]
}

fn stop_reason() -> impl Strategy<Value = Option<StopReason>> {
    prop::option::of(prop_oneof![
        Just(StopReason::EndTurn),
        Just(StopReason::MaxTokens),
        Just(StopReason::StopSequence),
        Just(StopReason::ToolUse),
        Just(StopReason::Refusal),
    ])
}

fn request() -> impl Strategy<Value = MessagesRequest> {
    (
        prop::option::of(text()),
        prop::option::of(1i64..64_000),
        prop::option::of(prop::collection::vec(
            (prop_oneof![Just("user"), Just("assistant")], content()).prop_map(
                |(role, content)| MessageParam {
                    role: role.to_owned(),
                    content,
                },
            ),
            0..4,
        )),
        prop::option::of(content()),
        prop::option::of(prop::collection::vec(text(), 0..3)),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(
            (text(), prop::option::of(text())).prop_map(|(name, description)| Tool {
                kind: None,
                name,
                description,
                input_schema: Some(json!({"type": "object"})),
            }),
            0..3,
        )),
        prop::option::of(prop_oneof![
            Just(ToolChoice::Auto {
                disable_parallel_tool_use: None
            }),
            Just(ToolChoice::Any {
                disable_parallel_tool_use: Some(true)
            }),
            text().prop_map(|name| ToolChoice::Tool {
                name,
                disable_parallel_tool_use: None
            }),
            Just(ToolChoice::None),
        ]),
        prop::option::of(prop_oneof![
            (1024i64..8192).prop_map(|budget_tokens| Thinking::Enabled { budget_tokens }),
            Just(Thinking::Disabled),
        ]),
    )
        .prop_map(
            |(
                model,
                max_tokens,
                messages,
                system,
                stop_sequences,
                stream,
                tools,
                tool_choice,
                thinking,
            )| MessagesRequest {
                model,
                max_tokens,
                messages,
                system,
                stop_sequences,
                stream,
                tools,
                tool_choice,
                thinking,
                ..MessagesRequest::default()
            },
        )
}

fn event() -> impl Strategy<Value = StreamEvent> {
    prop_oneof![
        (
            text(),
            prop::collection::vec(block(), 0..3),
            stop_reason(),
            0u64..500
        )
            .prop_map(|(id, content, stop_reason, input_tokens)| {
                StreamEvent::MessageStart {
                    message: Box::new(Message {
                        id,
                        kind: "message".to_owned(),
                        role: "assistant".to_owned(),
                        content,
                        model: "m".to_owned(),
                        stop_reason,
                        stop_sequence: None,
                        usage: Usage {
                            input_tokens,
                            ..Usage::default()
                        },
                    }),
                }
            }),
        (0u32..4, block()).prop_map(|(index, content_block)| StreamEvent::ContentBlockStart {
            index,
            content_block
        }),
        (
            0u32..4,
            prop_oneof![
                text().prop_map(|text| BlockDelta::TextDelta { text }),
                text().prop_map(|partial_json| BlockDelta::InputJsonDelta { partial_json }),
                text().prop_map(|thinking| BlockDelta::ThinkingDelta { thinking }),
                text().prop_map(|signature| BlockDelta::SignatureDelta { signature }),
            ]
        )
            .prop_map(|(index, delta)| StreamEvent::ContentBlockDelta { index, delta }),
        (0u32..4).prop_map(|index| StreamEvent::ContentBlockStop { index }),
        (
            stop_reason(),
            prop::option::of(text()),
            0u64..500,
            prop::option::of(0u64..500)
        )
            .prop_map(
                |(stop_reason, stop_sequence, output_tokens, input_tokens)| {
                    StreamEvent::MessageDelta {
                        delta: MessageDelta {
                            stop_reason,
                            stop_sequence,
                        },
                        usage: DeltaUsage {
                            output_tokens,
                            input_tokens,
                        },
                    }
                }
            ),
        Just(StreamEvent::MessageStop),
        Just(StreamEvent::Ping),
        text().prop_map(|message| StreamEvent::Error {
            error: ErrorObject {
                kind: ErrorType::OverloadedError,
                message
            }
        }),
    ]
}

proptest! {
    #[test]
    fn every_request_reads_back_as_written(request in request()) {
        prop_assert_eq!(round_trip(&request), request);
    }

    #[test]
    fn every_event_reads_back_as_written_under_its_own_type(event in event()) {
        let written = serde_json::to_value(&event).unwrap();
        prop_assert_eq!(written["type"].as_str(), Some(event.kind()));
        prop_assert_eq!(round_trip(&event), event);
    }
}
