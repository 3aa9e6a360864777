//! `/v1/responses` in the `openai` flavour is OpenAI's Responses API, from the same scenarios as
//! every other dialect: the whole response reads as the strict wire type and writes back key for
//! key; a stream is `event:`-named events in the order openai-python's accumulator enforces,
//! numbered from 0, whose deltas add up to the final response; tool calls are flat items;
//! `max_output_tokens` makes the response `incomplete`; invalid requests get OpenAI's envelope.
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, RawResponse, flavored_mock, post};
use mock_ollama::Flavor;
use serde_json::{Value, json};
use wire::openai::{
    ErrorEnvelope,
    responses::{Event, Item, Response, ResponseStatus, StreamEvent},
};

async fn mock(flavor: Flavor) -> mock_ollama::MockOllama {
    flavored_mock(flavor, DIALECT_RULES).await
}

async fn respond(mock: &mock_ollama::MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/responses", body).await
}

/// The events of a Responses stream: each `event:` name checked against its `type`.
fn events(reply: &RawResponse) -> Vec<StreamEvent> {
    reply
        .named_events()
        .into_iter()
        .map(|(name, data)| {
            let event: StreamEvent = serde_json::from_str(&data).unwrap();
            assert_eq!(name, event.event.kind(), "event: line and type");
            event
        })
        .collect()
}

#[tokio::test]
async fn a_whole_response_is_the_strict_object_with_its_text_as_one_message() {
    let mock = mock(Flavor::Openai).await;
    let reply = respond(&mock, json!({"model": "llama3.2", "input": "hello"})).await;
    assert_eq!(reply.status, 200);
    let value = reply.json();
    let response: Response = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&response).unwrap(), value);
    assert_eq!(response.status, ResponseStatus::Completed);
    assert!(response.id.starts_with("resp_"));
    assert_eq!(response.output_text(), "Hi there, friend.");
    let usage = response.usage.unwrap();
    assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert!(usage.output_tokens > 0);
}

#[tokio::test]
async fn a_stream_follows_the_order_the_sdk_enforces_and_adds_up_to_its_final_response() {
    let mock = mock(Flavor::Openai).await;
    let reply = respond(
        &mock,
        json!({"model": "llama3.2", "input": "hello", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = events(&reply);
    let numbers: Vec<u64> = events.iter().map(|event| event.sequence_number).collect();
    assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
    let kinds: Vec<&str> = events.iter().map(|event| event.event.kind()).collect();
    assert_eq!(
        kinds[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas: String = events
        .iter()
        .filter_map(|event| match &event.event {
            Event::OutputTextDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    let Event::Completed { response } = &events.last().unwrap().event else {
        panic!("the last event completes")
    };
    assert_eq!(deltas, "Hi there, friend.");
    assert_eq!(response.output_text(), deltas);
    let Event::Created { response: created } = &events[0].event else {
        panic!("created first")
    };
    assert_eq!(created.status, ResponseStatus::InProgress);
    assert_eq!(created.id, response.id);
}

#[tokio::test]
async fn a_tool_call_is_a_flat_function_call_item_whole_and_streamed() {
    let mock = mock(Flavor::Openai).await;
    let tools = json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let whole: Response = serde_json::from_value(
        respond(
            &mock,
            json!({"model": "llama3.2", "input": "weather?", "tools": tools}),
        )
        .await
        .json(),
    )
    .unwrap();
    let [Item::FunctionCall(call)] = &whole.output[..] else {
        panic!("one function call: {:?}", whole.output)
    };
    assert_eq!(
        (call.name.as_str(), call.arguments.as_str()),
        ("get_weather", r#"{"city":"Paris"}"#)
    );
    assert!(call.id.as_deref().unwrap().starts_with("fc_"));

    let streamed = events(
        &respond(
            &mock,
            json!({"model": "llama3.2", "input": "weather?", "tools": tools, "stream": true}),
        )
        .await,
    );
    let arguments: String = streamed
        .iter()
        .filter_map(|event| match &event.event {
            Event::FunctionCallArgumentsDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(arguments, call.arguments);
    assert!(streamed.iter().any(|event| matches!(&event.event,
        Event::FunctionCallArgumentsDone { name: Some(name), .. } if name == "get_weather")));
}

#[tokio::test]
async fn the_output_of_a_function_call_continues_the_conversation() {
    let mock = mock(Flavor::Openai).await;
    // The same rules answer: a conversation ending with the tool's output offers no tools here,
    // so the greeting rule's text comes back.
    let reply = respond(
        &mock,
        json!({"model": "llama3.2", "input": [
            {"role": "user", "content": "hello"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
            {"role": "user", "content": "hello again"}
        ]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let response: Response = serde_json::from_value(reply.json()).unwrap();
    assert_eq!(response.output_text(), "Hi there, friend.");
}

#[tokio::test]
async fn max_output_tokens_makes_the_response_incomplete() {
    let words = "word ".repeat(40);
    let rules = json!({"rules": [{"match": {"last_user_contains": "essay"},
        "reply": {"text": words.trim_end()}}]});
    let mock = flavored_mock(Flavor::Openai, &rules.to_string()).await;
    let ask =
        |limit: u64| json!({"model": "llama3.2", "input": "an essay", "max_output_tokens": limit});
    let whole: Response = serde_json::from_value(respond(&mock, ask(64)).await.json()).unwrap();
    assert_eq!(whole.status, ResponseStatus::Completed);
    assert!(whole.incomplete_details.is_none());

    let cut: Response = serde_json::from_value(respond(&mock, ask(16)).await.json()).unwrap();
    assert_eq!(cut.status, ResponseStatus::Incomplete);
    assert_eq!(cut.incomplete_details.unwrap().reason, "max_output_tokens");
    assert_eq!(cut.usage.unwrap().output_tokens, 16);
    let mut streamed = ask(16);
    streamed["stream"] = json!(true);
    let events = events(&respond(&mock, streamed).await);
    assert_eq!(events.last().unwrap().event.kind(), "response.incomplete");
}

#[tokio::test]
async fn invalid_requests_get_openais_envelope_naming_the_parameter() {
    let mock = mock(Flavor::Openai).await;
    for (body, param, code) in [
        (
            json!({"input": "hi"}),
            "model",
            "missing_required_parameter",
        ),
        (
            json!({"model": "llama3.2"}),
            "input",
            "missing_required_parameter",
        ),
        (
            json!({"model": "llama3.2", "input": "hi", "max_output_tokens": 5}),
            "max_output_tokens",
            "integer_below_min_value",
        ),
        (
            json!({"model": "llama3.2", "input": "hi", "previous_response_id": "resp_unknown"}),
            "previous_response_id",
            "previous_response_not_found",
        ),
    ] {
        let reply = respond(&mock, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}");
        let envelope: ErrorEnvelope = serde_json::from_value(reply.json()).unwrap();
        assert_eq!(envelope.error.kind, "invalid_request_error");
        assert_eq!(envelope.error.param.as_deref(), Some(param), "{body}");
        assert_eq!(envelope.error.code.as_deref(), Some(code), "{body}");
    }
    let wrong_type = respond(&mock, json!({"model": "llama3.2", "input": 1})).await;
    assert_eq!(wrong_type.status, 400);
    let unknown = respond(&mock, json!({"model": "no-such-model", "input": "hi"})).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_mid_stream_failure_is_an_error_event_numbered_after_the_others() {
    let mock = mock(Flavor::Openai).await;
    let reply = respond(
        &mock,
        json!({"model": "llama3.2", "input": "[error]", "stream": true}),
    )
    .await;
    let events = events(&reply);
    let last = events.last().unwrap();
    assert!(
        matches!(&last.event, Event::Error { message, .. } if message == "engine died"),
        "{last:?}"
    );
    assert!(
        events
            .windows(2)
            .all(|pair| pair[0].sequence_number < pair[1].sequence_number)
    );
    assert!(
        !events
            .iter()
            .any(|event| event.event.is_terminal() && event != last)
    );
}

#[tokio::test]
async fn llama_cpp_python_has_no_responses_route() {
    let mock = mock(Flavor::LlamaCppPython).await;
    let reply = respond(&mock, json!({"model": "llama3.2", "input": "hello"})).await;
    assert_eq!(reply.status, 404);
}
