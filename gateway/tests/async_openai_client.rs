//! async-openai, a strict typed Rust client nobody here wrote, against the gateway: it fails on
//! any missing required field, wrong enum value or mistyped error envelope.
#![allow(clippy::unwrap_used)]

mod common;

use async_openai::{
    Client,
    config::OpenAIConfig,
    error::OpenAIError,
    types::chat::{
        ChatCompletionRequestUserMessageArgs, ChatCompletionStreamOptions, ChatCompletionTool,
        ChatCompletionTools, CreateChatCompletionRequestArgs, FinishReason, FunctionObjectArgs,
    },
};
use common::{Harness, harness};
use futures_util::StreamExt;
use serde_json::json;

fn client(h: &Harness) -> Client<OpenAIConfig> {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(h.url("/v1"))
            .with_api_key("unused"),
    )
}

/// A request builder for `model` with one user message.
fn ask(model: &str, text: &str) -> CreateChatCompletionRequestArgs {
    let mut args = CreateChatCompletionRequestArgs::default();
    args.model(model)
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content(text)
            .build()
            .unwrap()
            .into()]);
    args
}

const SCENARIO: &str = r#"{"rules":[
  {"match":{"has_tools":true},"reply":{"chunks":[{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}]}},
  {"reply":{"text":"Typed clients are strict.","stats":{"prompt_eval_count":6,"eval_count":4}}}
]}"#;

#[tokio::test]
async fn non_stream_completion_parses() {
    let h = harness(SCENARIO).await;
    let request = ask("llama3.2", "hi").build().unwrap();
    let response = client(&h).chat().create(request).await.unwrap();
    let choice = &response.choices[0];
    assert_eq!(
        choice.message.content.as_deref(),
        Some("Typed clients are strict.")
    );
    assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.usage.unwrap().total_tokens, 10);
}

#[tokio::test]
async fn stream_with_usage_parses_every_chunk() {
    let h = harness(SCENARIO).await;
    let request = ask("llama3.2", "hi")
        .stream_options(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        })
        .build()
        .unwrap();
    let mut stream = client(&h).chat().create_stream(request).await.unwrap();
    let mut text = String::new();
    let mut usage = None;
    let mut finish = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for choice in &chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or(""));
            finish = finish.or(choice.finish_reason);
        }
        usage = usage.or(chunk.usage);
    }
    assert_eq!(text, "Typed clients are strict.");
    assert_eq!(finish, Some(FinishReason::Stop));
    assert_eq!(usage.unwrap().total_tokens, 10);
}

#[tokio::test]
async fn tool_calls_parse_with_string_arguments() {
    let h = harness(SCENARIO).await;
    let tool = ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObjectArgs::default()
            .name("get_weather")
            .parameters(json!({"type": "object", "properties": {"city": {"type": "string"}}}))
            .build()
            .unwrap(),
    });
    let request = ask("llama3.2", "weather?")
        .tools(vec![tool])
        .build()
        .unwrap();
    let response = client(&h).chat().create(request).await.unwrap();
    assert_eq!(
        response.choices[0].finish_reason,
        Some(FinishReason::ToolCalls)
    );
    let calls = response.choices[0].message.tool_calls.as_ref().unwrap();
    let json = serde_json::to_value(&calls[0]).unwrap();
    assert_eq!(json["function"]["arguments"], r#"{"city":"Paris"}"#);
}

#[tokio::test]
async fn errors_parse_as_api_errors() {
    let h = harness(SCENARIO).await;
    let request = ask("no-such-model", "hi").build().unwrap();
    match client(&h).chat().create(request).await {
        Err(OpenAIError::ApiError(error)) => {
            assert_eq!(error.api_error.code.as_deref(), Some("model_not_found"));
            assert_eq!(error.api_error.param.as_deref(), Some("model"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn models_list_parses() {
    let h = harness(SCENARIO).await;
    let models = client(&h).models().list().await.unwrap();
    assert!(models.data.iter().any(|m| m.id == "llama3.2:latest"));
}
