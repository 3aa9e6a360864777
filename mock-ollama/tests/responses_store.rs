//! The `openai` flavour keeps responses as OpenAI does: `store` (true by default) keeps a
//! response, whole or streamed, for `GET /v1/responses/{id}`, its `input_items` and a later
//! `previous_response_id`, which continues the conversation exactly as if the client had sent
//! the history itself; `DELETE` and `store: false` leave nothing to find; the store lets its
//! oldest response go when full.
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, RawResponse, flavored_mock, post, raw};
use mock_ollama::{Flavor, MockOllama, Scenario};
use serde_json::{Value, json};
use wire::openai::{
    ErrorEnvelope,
    responses::{DeletedResponse, InputItemList, Item, Response},
};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Openai, DIALECT_RULES).await
}

async fn create(mock: &MockOllama, body: Value) -> Response {
    let reply = post(mock.addr(), "/v1/responses", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_value(reply.json()).unwrap()
}

async fn get(mock: &MockOllama, path: &str) -> RawResponse {
    raw(mock.addr(), "GET", path, "").await
}

fn not_found(reply: &RawResponse, id: &str) {
    assert_eq!(reply.status, 404, "{}", reply.text());
    let envelope: ErrorEnvelope = serde_json::from_value(reply.json()).unwrap();
    assert_eq!(envelope.error.kind, "invalid_request_error");
    assert!(
        envelope.error.message.contains(id),
        "{}",
        envelope.error.message
    );
}

#[tokio::test]
async fn a_stored_response_is_retrieved_as_it_was_written_then_deleted() {
    let mock = mock().await;
    let created = create(&mock, json!({"model": "llama3.2", "input": "hello"})).await;
    assert!(created.store);
    let path = format!("/v1/responses/{}", created.id);

    let retrieved = get(&mock, &path).await;
    assert_eq!(retrieved.status, 200);
    assert_eq!(retrieved.json(), serde_json::to_value(&created).unwrap());

    let deleted = raw(mock.addr(), "DELETE", &path, "").await;
    assert_eq!(deleted.status, 200);
    let deleted: DeletedResponse = serde_json::from_value(deleted.json()).unwrap();
    assert_eq!(
        deleted,
        DeletedResponse {
            id: created.id.clone(),
            object: "response".to_owned(),
            deleted: true
        }
    );
    not_found(&get(&mock, &path).await, &created.id);
    not_found(&raw(mock.addr(), "DELETE", &path, "").await, &created.id);
}

#[tokio::test]
async fn a_streamed_response_is_stored_as_its_final_event_shows_it() {
    let mock = mock().await;
    let reply = post(
        mock.addr(),
        "/v1/responses",
        json!({"model": "llama3.2", "input": "hello", "stream": true}),
    )
    .await;
    let completed = reply
        .text()
        .split("\n\n")
        .find_map(|event| event.strip_prefix("event: response.completed\ndata: "))
        .map(|data| serde_json::from_str::<Value>(data).unwrap())
        .unwrap();
    let id = completed["response"]["id"].as_str().unwrap();
    let retrieved = get(&mock, &format!("/v1/responses/{id}")).await;
    assert_eq!(retrieved.json(), completed["response"]);
}

#[tokio::test]
async fn previous_response_id_continues_as_if_the_history_were_sent() {
    let mock = mock().await;
    let first = create(
        &mock,
        json!({"model": "llama3.2", "instructions": "Be kind.", "input": "hello"}),
    )
    .await;
    let continued = create(
        &mock,
        json!({"model": "llama3.2", "input": "hello again", "previous_response_id": first.id}),
    )
    .await;
    assert_eq!(continued.previous_response_id.as_deref(), Some(&*first.id));
    // The instructions of the first request are not carried over, as OpenAI documents.
    let mut history = vec![json!({"role": "user", "content": "hello"})];
    history.extend(
        first
            .output
            .iter()
            .map(|item| serde_json::to_value(item).unwrap()),
    );
    history.push(json!({"role": "user", "content": "hello again"}));
    let explicit = create(&mock, json!({"model": "llama3.2", "input": history})).await;
    assert_eq!(continued.output_text(), explicit.output_text());
    assert_eq!(
        continued.usage.unwrap().input_tokens,
        explicit.usage.unwrap().input_tokens
    );
    assert!(
        first.usage.unwrap().input_tokens < explicit.usage.unwrap().input_tokens,
        "the history is read"
    );
}

#[tokio::test]
async fn an_item_reference_reads_as_the_kept_item_it_names() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let first = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools}),
    )
    .await;
    let Some(Item::FunctionCall(call)) = first.output.first() else {
        panic!("a function call: {:?}", first.output);
    };
    let answer = json!({"type": "function_call_output", "call_id": call.call_id, "output": "18"});
    let referred = create(
        &mock,
        json!({"model": "llama3.2", "tools": tools, "input": [
            {"role": "user", "content": "weather?"},
            {"type": "item_reference", "id": call.id},
            answer,
        ]}),
    )
    .await;
    let sent = create(
        &mock,
        json!({"model": "llama3.2", "tools": tools, "input": [
            {"role": "user", "content": "weather?"},
            serde_json::to_value(Item::FunctionCall(call.clone())).unwrap(),
            answer,
        ]}),
    )
    .await;
    assert_eq!(
        referred.usage.unwrap().input_tokens,
        sent.usage.unwrap().input_tokens,
        "the same conversation"
    );

    let unknown = post(
        mock.addr(),
        "/v1/responses",
        json!({"model": "llama3.2", "input": [{"type": "item_reference", "id": "fc_none"}]}),
    )
    .await;
    not_found(&unknown, "fc_none");
    let envelope: ErrorEnvelope = serde_json::from_value(unknown.json()).unwrap();
    assert_eq!(envelope.error.param.as_deref(), Some("input"));
}

#[tokio::test]
async fn input_items_are_listed_newest_first_in_pages() {
    let mock = mock().await;
    let created = create(
        &mock,
        json!({"model": "llama3.2", "input": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "hello"}
        ]}),
    )
    .await;
    let list = |query: &str| {
        let path = format!("/v1/responses/{}/input_items{query}", created.id);
        let mock = &mock;
        async move {
            let reply = get(mock, &path).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            serde_json::from_value::<InputItemList>(reply.json()).unwrap()
        }
    };
    let text = |item: &Item| match item {
        Item::Message(message) => serde_json::to_value(&message.content).unwrap(),
        other => panic!("not a message: {other:?}"),
    };
    let all = list("").await;
    assert_eq!(
        all.data.iter().map(text).collect::<Vec<_>>(),
        [json!("hello"), json!("two"), json!("one")]
    );
    assert!(!all.has_more);
    assert!(all.first_id.as_deref().unwrap().starts_with("msg_"));

    let page = list("?order=asc&limit=1").await;
    assert_eq!(
        page.data.iter().map(text).collect::<Vec<_>>(),
        [json!("one")]
    );
    assert!(page.has_more);
    let next = list(&format!(
        "?order=asc&limit=1&after={}",
        page.last_id.unwrap()
    ))
    .await;
    assert_eq!(
        next.data.iter().map(text).collect::<Vec<_>>(),
        [json!("two")]
    );

    let bad = get(
        &mock,
        &format!("/v1/responses/{}/input_items?limit=0", created.id),
    )
    .await;
    assert_eq!(bad.status, 400);
    let envelope: ErrorEnvelope = serde_json::from_value(bad.json()).unwrap();
    assert_eq!(envelope.error.param.as_deref(), Some("limit"));
}

#[tokio::test]
async fn store_false_keeps_nothing_to_retrieve_or_continue() {
    let mock = mock().await;
    let unstored = create(
        &mock,
        json!({"model": "llama3.2", "input": "hello", "store": false}),
    )
    .await;
    assert!(!unstored.store);
    not_found(
        &get(&mock, &format!("/v1/responses/{}", unstored.id)).await,
        &unstored.id,
    );
    let continued = post(
        mock.addr(),
        "/v1/responses",
        json!({"model": "llama3.2", "input": "more", "previous_response_id": unstored.id}),
    )
    .await;
    assert_eq!(continued.status, 400);
    let envelope: ErrorEnvelope = serde_json::from_value(continued.json()).unwrap();
    assert_eq!(
        envelope.error.code.as_deref(),
        Some("previous_response_not_found")
    );
}

#[tokio::test]
async fn a_full_store_lets_its_oldest_response_go() {
    let mock = MockOllama::builder()
        .scenario(Scenario::builtin())
        .flavor(Flavor::Openai)
        .stored_responses(2)
        .start()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for input in ["one", "two", "three"] {
        ids.push(
            create(&mock, json!({"model": "llama3.2", "input": input}))
                .await
                .id,
        );
    }
    not_found(
        &get(&mock, &format!("/v1/responses/{}", ids[0])).await,
        &ids[0],
    );
    for id in &ids[1..] {
        assert_eq!(get(&mock, &format!("/v1/responses/{id}")).await.status, 200);
    }
}

#[tokio::test]
async fn flavours_without_a_store_have_no_retrieval_route() {
    let mock = flavored_mock(Flavor::Ollama, DIALECT_RULES).await;
    assert_eq!(get(&mock, "/v1/responses/resp_1").await.status, 404);
}
