//! The Responses API's wire types read what OpenAI and the servers that imitate it write, and
//! write exactly what OpenAI writes.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use wire::openai::responses::{
    ContentPart, CreateResponse, Event, FunctionCall, FunctionCallOutput, Input, InputItem, Item,
    ItemStatus, Message, MessageContent, Reasoning, ReasoningConfig, Response, ResponseStatus,
    ResponseUsage, StreamEvent, SummaryPart, TextConfig, TextFormat, Tool,
};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_value(serde_json::to_value(value).unwrap()).unwrap()
}

/// A completed response with a message and a function call, as OpenAI writes one.
fn completed() -> Value {
    json!({
        "id": "resp_67ccd2bed1ec8190b14f964abc054267",
        "object": "response",
        "created_at": 1_741_476_542,
        "status": "completed",
        "background": false,
        "completed_at": 1_741_476_543,
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": "gpt-4.1-2025-04-14",
        "output": [
            {"type": "message", "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e6", "status": "completed",
             "role": "assistant",
             "content": [{"type": "output_text", "text": "In a peaceful grove…", "annotations": []}]},
            {"type": "function_call", "id": "fc_12345xyz", "call_id": "call_12345xyz",
             "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}", "status": "completed"}
        ],
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": true,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {"input_tokens": 36, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens": 87, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 123},
        "user": null,
        "metadata": {}
    })
}

#[test]
fn a_completed_response_reads_and_writes_back_key_for_key() {
    let response: Response = serde_json::from_value(completed()).unwrap();
    assert_eq!(response.status, ResponseStatus::Completed);
    assert_eq!(response.output_text(), "In a peaceful grove…");
    assert_eq!(serde_json::to_value(&response).unwrap(), completed());
}

#[test]
fn a_string_input_is_one_user_message_and_stays_a_string() {
    let request: CreateResponse =
        serde_json::from_value(json!({"model": "llama3.2", "input": "hi"})).unwrap();
    assert_eq!(request.input, Some(Input::Text("hi".to_owned())));
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"model": "llama3.2", "input": "hi"})
    );
}

#[test]
fn a_message_without_type_is_read_as_a_message_and_written_without_one() {
    let body = json!({"model": "m", "input": [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]},
        {"type": "item_reference", "id": "msg_1"}
    ]});
    let request: CreateResponse = serde_json::from_value(body.clone()).unwrap();
    let Some(Input::Items(items)) = &request.input else {
        panic!("items: {:?}", request.input)
    };
    assert!(matches!(&items[0], InputItem::Message(message) if message.role == "user"));
    assert!(
        matches!(&items[1], InputItem::Item(Item::FunctionCall(call)) if call.call_id == "call_1")
    );
    assert!(matches!(
        &items[2],
        InputItem::Item(Item::FunctionCallOutput(_))
    ));
    assert!(matches!(&items[4], InputItem::Item(Item::ItemReference { id }) if id == "msg_1"));
    assert_eq!(serde_json::to_value(&request).unwrap(), body);
}

#[test]
fn an_item_of_an_unknown_type_is_refused() {
    let body = json!({"model": "m", "input": [{"type": "web_search_call", "id": "ws_1"}]});
    assert!(serde_json::from_value::<CreateResponse>(body).is_err());
}

#[test]
fn function_tools_are_flat_and_text_formats_carry_their_schema_flat() {
    let body = json!({"model": "m", "input": "x",
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": true}],
        "text": {"format": {"type": "json_schema", "name": "weather", "schema": {"type": "object"}, "strict": true}}});
    let request: CreateResponse = serde_json::from_value(body.clone()).unwrap();
    let tool = &request.tools.as_ref().unwrap()[0];
    assert_eq!(
        (tool.kind.as_str(), tool.name.as_deref()),
        ("function", Some("get_weather"))
    );
    assert!(matches!(
        request.text,
        Some(TextConfig { format: TextFormat::JsonSchema { ref name, .. }, .. }) if name == "weather"
    ));
    assert_eq!(serde_json::to_value(&request).unwrap(), body);
}

#[test]
fn an_event_is_written_with_its_type_and_sequence_number() {
    let event = StreamEvent {
        event: Event::OutputTextDelta {
            item_id: "msg_1".to_owned(),
            output_index: 0,
            content_index: 0,
            delta: "Hel".to_owned(),
            logprobs: Vec::new(),
        },
        sequence_number: 4,
    };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
               "content_index": 0, "delta": "Hel", "logprobs": [], "sequence_number": 4})
    );
}

#[test]
fn llama_cpp_events_without_numbers_read_as_zero() {
    // llama.cpp (server-task.cpp, commit 00efb3e): no sequence_number, output_index or
    // content_index; a function call's arguments end without a `.done`.
    let event: StreamEvent = serde_json::from_value(
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "delta": "Hi"}),
    )
    .unwrap();
    assert_eq!(event.sequence_number, 0);
    assert!(matches!(
        event.event,
        Event::OutputTextDelta {
            output_index: 0,
            content_index: 0,
            ..
        }
    ));
    // Ollama's `function_call_arguments.done` has no `name`.
    let done: StreamEvent =
        serde_json::from_value(json!({"type": "response.function_call_arguments.done",
        "item_id": "fc_1", "output_index": 1, "arguments": "{}", "sequence_number": 7}))
        .unwrap();
    assert!(matches!(
        done.event,
        Event::FunctionCallArgumentsDone { name: None, .. }
    ));
}

#[test]
fn a_created_event_carries_the_response_so_far() {
    let mut response = completed();
    response["status"] = json!("in_progress");
    response["output"] = json!([]);
    response["usage"] = Value::Null;
    let body = json!({"type": "response.created", "sequence_number": 0, "response": response});
    let event: StreamEvent = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(event.event.kind(), "response.created");
    assert!(!event.event.is_terminal());
    assert_eq!(serde_json::to_value(&event).unwrap(), body);
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.{}\":é]{0,16}"
}

fn status() -> impl Strategy<Value = Option<ItemStatus>> {
    prop::option::of(prop_oneof![
        Just(ItemStatus::InProgress),
        Just(ItemStatus::Completed),
        Just(ItemStatus::Incomplete)
    ])
}

fn content_part() -> impl Strategy<Value = ContentPart> {
    prop_oneof![
        text().prop_map(|text| ContentPart::InputText { text }),
        (prop::option::of(text()), prop::option::of(text())).prop_map(|(image_url, detail)| {
            ContentPart::InputImage {
                image_url,
                file_id: None,
                detail,
            }
        }),
        text().prop_map(ContentPart::output_text),
        text().prop_map(|refusal| ContentPart::Refusal { refusal }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop::option::of(text()),
        prop_oneof![
            Just("user"),
            Just("assistant"),
            Just("system"),
            Just("developer")
        ],
        prop_oneof![
            text().prop_map(MessageContent::Text),
            prop::collection::vec(content_part(), 0..3).prop_map(MessageContent::Parts),
        ],
        status(),
    )
        .prop_map(|(id, role, content, status)| Message {
            id,
            role: role.to_owned(),
            content,
            status,
        })
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        message().prop_map(Item::Message),
        (prop::option::of(text()), text(), text(), text(), status()).prop_map(
            |(id, call_id, name, arguments, status)| Item::FunctionCall(FunctionCall {
                id,
                call_id,
                name,
                arguments,
                status,
            })
        ),
        (text(), text()).prop_map(|(call_id, output)| Item::FunctionCallOutput(
            FunctionCallOutput {
                id: None,
                call_id,
                output: Value::String(output),
                status: None,
            }
        )),
        (
            text(),
            prop::collection::vec(text(), 0..3),
            prop::option::of(text())
        )
            .prop_map(
                |(id, summary, encrypted_content)| Item::Reasoning(Reasoning {
                    id,
                    summary: summary
                        .into_iter()
                        .map(|text| SummaryPart { text })
                        .collect(),
                    content: None,
                    encrypted_content,
                    status: None,
                })
            ),
        text().prop_map(|id| Item::ItemReference { id }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    (
        text(),
        prop::collection::vec(item(), 0..4),
        prop_oneof![
            Just(ResponseStatus::Completed),
            Just(ResponseStatus::InProgress),
            Just(ResponseStatus::Incomplete),
            Just(ResponseStatus::Failed)
        ],
        prop::option::of((0u64..1000, 0u64..1000)),
    )
        .prop_map(|(id, output, status, usage)| {
            let mut response: Response = serde_json::from_value(completed()).unwrap();
            response.id = id;
            response.output = output;
            response.status = status;
            response.usage = usage.map(|(input, output)| ResponseUsage::new(input, output));
            response
        })
}

/// An event's `item_id`, `output_index` and `content_index` (or `summary_index`).
fn indexes() -> impl Strategy<Value = (String, u32, u32)> {
    (text(), 0u32..4, 0u32..4)
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        response().prop_map(|response| Event::Created {
            response: Box::new(response)
        }),
        response().prop_map(|response| Event::Completed {
            response: Box::new(response)
        }),
        (0u32..4, item())
            .prop_map(|(output_index, item)| Event::OutputItemAdded { output_index, item }),
        (indexes(), content_part()).prop_map(|((item_id, output_index, content_index), part)| {
            Event::ContentPartDone {
                item_id,
                output_index,
                content_index,
                part,
            }
        }),
        (indexes(), text()).prop_map(|((item_id, output_index, content_index), delta)| {
            Event::OutputTextDelta {
                item_id,
                output_index,
                content_index,
                delta,
                logprobs: Vec::new(),
            }
        }),
        (indexes(), prop::option::of(text()), text()).prop_map(
            |((item_id, output_index, _), name, arguments)| Event::FunctionCallArgumentsDone {
                item_id,
                output_index,
                name,
                arguments
            }
        ),
        (indexes(), text()).prop_map(|((item_id, output_index, summary_index), text)| {
            Event::ReasoningSummaryTextDone {
                item_id,
                output_index,
                summary_index,
                text,
            }
        }),
        (indexes(), text()).prop_map(|((item_id, output_index, content_index), delta)| {
            Event::ReasoningTextDelta {
                item_id,
                output_index,
                content_index,
                delta,
            }
        }),
        (prop::option::of(text()), text()).prop_map(|(code, message)| Event::Error {
            code,
            message,
            param: None
        }),
    ]
}

fn request() -> impl Strategy<Value = CreateResponse> {
    (
        prop::option::of(text()),
        prop::option::of(prop_oneof![
            text().prop_map(Input::Text),
            prop::collection::vec(
                prop_oneof![
                    item().prop_map(InputItem::Item),
                    message().prop_map(InputItem::Message)
                ],
                0..4
            )
            .prop_map(Input::Items),
        ]),
        prop::option::of(text()),
        prop::option::of(prop::collection::vec(
            (text(), prop::option::of(any::<bool>())).prop_map(|(name, strict)| Tool {
                kind: "function".to_owned(),
                name: Some(name),
                description: None,
                parameters: Some(json!({"type": "object"})),
                strict,
            }),
            0..3,
        )),
        prop::option::of(prop_oneof![
            Just(TextFormat::Text),
            Just(TextFormat::JsonObject)
        ]),
        prop::option::of(prop_oneof![Just("low"), Just("high")]),
        (
            prop::option::of(1i64..100_000),
            prop::option::of(any::<bool>()),
            prop::option::of(text()),
            prop::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                model,
                input,
                instructions,
                tools,
                format,
                effort,
                (max_output_tokens, store, previous_response_id, stream),
            )| CreateResponse {
                model,
                input,
                instructions,
                tools,
                text: format.map(|format| TextConfig {
                    format,
                    verbosity: None,
                }),
                reasoning: effort.map(|effort| ReasoningConfig {
                    effort: Some(effort.to_owned()),
                    summary: None,
                }),
                max_output_tokens,
                store,
                previous_response_id,
                stream,
                ..CreateResponse::default()
            },
        )
}

proptest! {
    #[test]
    fn every_request_reads_back_as_written(request in request()) {
        prop_assert_eq!(round_trip(&request), request);
    }

    #[test]
    fn every_event_reads_back_as_written_under_its_own_type(
        event in event(),
        sequence_number in 0u64..10_000,
    ) {
        let event = StreamEvent { event, sequence_number };
        let written = serde_json::to_value(&event).unwrap();
        prop_assert_eq!(written["type"].as_str(), Some(event.event.kind()));
        prop_assert_eq!(round_trip(&event), event);
    }
}
