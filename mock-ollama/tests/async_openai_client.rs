//! async-openai, a strict typed Rust client nobody here wrote, against the mock's `/v1` in the
//! `ollama` and `openai` flavours: every body both flavours send must parse.
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
use common::flavored_mock;
use futures_util::StreamExt;
use mock_ollama::{Flavor, MockOllama};
use serde_json::json;

const SCENARIO: &str = r#"{"rules":[
  {"match":{"has_tools":true},"reply":{"chunks":[{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}]}},
  {"reply":{"text":"Typed clients are strict.","stats":{"prompt_eval_count":6,"eval_count":4}}}
]}"#;

const FLAVORS: [Flavor; 2] = [Flavor::Ollama, Flavor::Openai];

fn client(mock: &MockOllama) -> Client<OpenAIConfig> {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{}/v1", mock.url()))
            .with_api_key("unused"),
    )
}

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

#[tokio::test]
async fn a_whole_reply_parses_in_every_flavor() {
    for flavor in FLAVORS {
        let mock = flavored_mock(flavor, SCENARIO).await;
        let request = ask("llama3.2", "hi").build().unwrap();
        let response = client(&mock).chat().create(request).await.unwrap();
        let choice = &response.choices[0];
        assert_eq!(
            choice.message.content.as_deref(),
            Some("Typed clients are strict."),
            "{flavor}"
        );
        assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
        assert_eq!(response.usage.unwrap().total_tokens, 10);
    }
}

#[tokio::test]
async fn a_stream_with_usage_parses_chunk_by_chunk_in_every_flavor() {
    for flavor in FLAVORS {
        let mock = flavored_mock(flavor, SCENARIO).await;
        let request = ask("llama3.2", "hi")
            .stream_options(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            })
            .build()
            .unwrap();
        let mut stream = client(&mock).chat().create_stream(request).await.unwrap();
        let (mut text, mut usage, mut finish) = (String::new(), None, None);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            for choice in &chunk.choices {
                text.push_str(choice.delta.content.as_deref().unwrap_or(""));
                finish = finish.or(choice.finish_reason);
            }
            usage = usage.or(chunk.usage);
        }
        assert_eq!(text, "Typed clients are strict.", "{flavor}");
        assert_eq!(finish, Some(FinishReason::Stop));
        assert_eq!(usage.unwrap().total_tokens, 10);
    }
}

#[tokio::test]
async fn tool_calls_parse_with_string_arguments_in_every_flavor() {
    for flavor in FLAVORS {
        let mock = flavored_mock(flavor, SCENARIO).await;
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
        let response = client(&mock).chat().create(request).await.unwrap();
        assert_eq!(
            response.choices[0].finish_reason,
            Some(FinishReason::ToolCalls),
            "{flavor}"
        );
        let calls = response.choices[0].message.tool_calls.as_ref().unwrap();
        let json = serde_json::to_value(&calls[0]).unwrap();
        assert_eq!(json["function"]["arguments"], r#"{"city":"Paris"}"#);
    }
}

#[tokio::test]
async fn an_unknown_model_is_an_api_error_in_each_flavors_words() {
    for (flavor, message, code) in [
        (Flavor::Ollama, "model 'no-such-model' not found", None),
        (
            Flavor::Openai,
            "The model `no-such-model` does not exist or you do not have access to it.",
            Some("model_not_found"),
        ),
    ] {
        let mock = flavored_mock(flavor, SCENARIO).await;
        let request = ask("no-such-model", "hi").build().unwrap();
        match client(&mock).chat().create(request).await {
            Err(OpenAIError::ApiError(error)) => {
                assert_eq!(error.api_error.message, message, "{flavor}");
                assert_eq!(error.api_error.code.as_deref(), code, "{flavor}");
            }
            other => panic!("{flavor}: expected an API error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_model_list_parses_in_every_flavor() {
    for (flavor, id) in [
        (Flavor::Ollama, "llama3.2:latest"),
        (Flavor::Openai, "llama3.2"),
    ] {
        let mock = flavored_mock(flavor, SCENARIO).await;
        let models = client(&mock).models().list().await.unwrap();
        assert!(models.data.iter().any(|m| m.id == id), "{flavor}");
    }
}
