//! A small OpenAI-compatible server written for the tests: conformant by default, and able to
//! break exactly one rule at a time (named by the check id it should trip), so every check is
//! shown to fail on the behaviour it names — and only on it.
#![allow(dead_code, clippy::unwrap_used)]

mod edge;
mod embeddings;
mod messages;
mod responses;
mod upstream;

pub use edge::ORIGIN;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

/// Key the reference server expects.
pub const KEY: &str = "sk-reference";
pub const MODEL: &str = "ref-model";
/// The reference model that thinks when asked.
pub const THINKER: &str = "ref-thinker";
pub const FAULT: &str = "[fault]";
pub const RATE: &str = "[rate]";
pub const OVERLOAD: &str = "[overload]";
/// The reference model's context, in words.
pub const CONTEXT: u64 = 256;
/// The largest request body the reference server reads.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone, Copy)]
pub struct Deviation(pub &'static str);

impl Deviation {
    pub fn is(self, id: &str) -> bool {
        self.0 == id
    }
}

/// Starts the server on 127.0.0.1:0 breaking the rule of check `deviation` ("" for none); returns its /v1 URL.
pub async fn start(deviation: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let app = app(deviation).await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The same server over TLS with `identity`'s certificate: its `https://…/v1` URL.
pub async fn start_tls(deviation: &'static str, identity: &mock_ollama::TlsIdentity) -> String {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/v1", tcp.local_addr().unwrap());
    let listener = mock_ollama::TlsListener::new(tcp, identity).unwrap();
    let app = app(deviation).await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The chat routes (written here), and the Responses and Messages routes (deviating proxies over
/// mock-ollama's exact flavour).
async fn app(deviation: &'static str) -> Router {
    let d = Deviation(deviation);
    let upstream = upstream::Upstream::start(d).await;
    let dialects = responses::router(upstream.clone()).merge(messages::router(upstream));
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(d, edge::layer))
        .with_state(d)
        .merge(dialects)
}

async fn unknown_route(State(d): State<Deviation>, uri: axum::http::Uri) -> Response {
    if d.is("SEC-002") {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    error(d, 404, &format!("Unknown request URL: {uri}"), None)
}

fn error(d: Deviation, status: u16, message: &str, param: Option<&str>) -> Response {
    let code = if d.is("ERR-003") {
        json!(status)
    } else {
        json!(null)
    };
    let message = match d.0 {
        "ERR-002" => String::new(),
        "SEC-001" => format!("{message} (raised at /srv/reference/server.py:42)"),
        _ => message.to_owned(),
    };
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}});
    let content_type = if d.is("ERR-001") {
        "text/plain"
    } else {
        "application/json"
    };
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

fn json_reply(d: Deviation, body: Value) -> Response {
    let content_type = if d.is("HTTP-001") {
        "text/plain"
    } else {
        "application/json"
    };
    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

async fn models(State(d): State<Deviation>) -> Response {
    let mut model =
        json!({"id": MODEL, "object": "model", "created": 1_700_000_000, "owned_by": "reference"});
    if d.is("MODELS-002") {
        model.as_object_mut().unwrap().remove("created");
    }
    let object = if d.is("MODELS-001") { "models" } else { "list" };
    json_reply(d, json!({"object": object, "data": [model]}))
}

async fn model(State(d): State<Deviation>, Path(id): Path<String>) -> Response {
    if id != MODEL && !d.is("MODELS-003") {
        return error(d, 404, "no such model", Some("model"));
    }
    json_reply(
        d,
        json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "reference"}),
    )
}

/// What the reply says, before encoding.
struct Plan {
    text: String,
    finish: &'static str,
    call: Option<(String, String)>,
    prompt_tokens: u64,
}

impl Plan {
    fn completion_tokens(&self) -> u64 {
        self.text.split_whitespace().count() as u64 + u64::from(self.call.is_some())
    }
}

async fn chat(
    State(d): State<Deviation>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(_) if d.is("SEC-003") => return error(d, 500, "body too large", None),
        Err(_) if d.is("SEC-003:should") => return error(d, 422, "body too large", None),
        Err(_) => return error(d, 413, "Request body too large", None),
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let authorized = match d.0 {
        // Only checks that some key is there: a wrong one gets in.
        "HTTP-004" => given.is_some(),
        "HTTP-004:keyless" => true,
        _ => given == Some(&format!("Bearer {KEY}")),
    };
    if !authorized {
        let message = match (d.0, given) {
            ("SEC-004", Some(given)) => format!("Incorrect API key provided: {given}"),
            _ => "Incorrect API key provided".to_owned(),
        };
        return error(d, 401, &message, None);
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return if d.is("ERR-006") {
            error(d, 500, "parse failure", None)
        } else {
            error(d, 400, "We could not parse the JSON body", None)
        };
    };
    if let Some(response) = validate(d, &request) {
        return response;
    }
    let stream = request["stream"] == true;
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or(Value::Null);
    let prompt = last["content"].as_str().unwrap_or("").to_owned();
    if prompt == RATE {
        let mut response = error(d, 429, "Rate limit reached", None);
        if !d.is("ERR-007") {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, "1".parse().unwrap());
        }
        return response;
    }
    if prompt == OVERLOAD {
        let mut response = error(
            d,
            if d.is("ERR-008") { 424 } else { 503 },
            "The engine is overloaded",
            None,
        );
        let retry_after = if d.is("HDR-004") { "soon" } else { "2" };
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after.parse().unwrap());
        return response;
    }
    let limit = request["max_completion_tokens"]
        .as_u64()
        .filter(|_| !d.is("NS-011"))
        .or(request["max_tokens"].as_u64());
    let tools = request["tools"].as_array().is_some_and(|t| !t.is_empty())
        && last["role"] == "user"
        && (request["tool_choice"] != "none" || d.is("PARAM-002"));
    let mut plan = Plan {
        text: "Hello there, friend.".to_owned(),
        finish: "stop",
        call: None,
        prompt_tokens: 12,
    };
    if tools {
        plan.text.clear();
        let arguments = if d.is("TOOL-002") {
            "{}"
        } else {
            r#"{"city":"Paris"}"#
        };
        plan.call = Some(("get_weather".to_owned(), arguments.to_owned()));
        plan.finish = if d.is("TOOL-003") && !stream {
            "stop"
        } else {
            "tool_calls"
        };
    } else if prompt.starts_with("Count from 1 to 10") {
        plan.text = if (d.is("REQ-007") && !stream) || (d.is("PARAM-001") && stream) {
            "1 2 3 4 5 6".to_owned()
        } else {
            "1 2 3 4".to_owned()
        };
    } else if prompt.starts_with("What is the capital of France?") {
        let format = request["response_format"]["type"].as_str().unwrap_or("");
        let ignored = (d.is("PARAM-004") && stream && format == "json_schema")
            || (d.is("PARAM-005") && format == "json_object");
        plan.text = if format.starts_with("json") && !ignored {
            r#"{"answer":"Paris"}"#.to_owned()
        } else {
            "Paris.".to_owned()
        };
    } else if prompt.starts_with("Write a long story") {
        let words = "Once upon a time the sea was calm and blue and wide";
        let limit = limit.filter(|_| !(d.is("PARAM-003") && stream));
        match limit {
            Some(limit) if limit < 12 => {
                plan.text = words
                    .split(' ')
                    .take(limit as usize)
                    .collect::<Vec<_>>()
                    .join(" ");
                plan.finish = "length";
            }
            _ => plan.text = words.to_owned(),
        }
    } else if prompt == FAULT && stream {
        return stream_reply(d, &request, &plan, true);
    }
    if stream && !(tools && d.is("misbehave:stream-tool-json")) {
        stream_reply(d, &request, &plan, false)
    } else {
        whole_reply(d, &request, &plan)
    }
}

fn validate(d: Deviation, request: &Value) -> Option<Response> {
    let bad = |message: &str, param: &str| Some(error(d, 400, message, Some(param)));
    if !request["messages"].is_array() && !request["messages"].is_null()
        || request["max_tokens"].is_string()
    {
        return if d.is("ERR-004") {
            None
        } else if d.is("ERR-004:should") {
            Some(error(d, 422, "Invalid type", Some("messages")))
        } else {
            bad("Invalid type", "messages")
        };
    }
    if request.get("model").is_none() && !d.is("REQ-001") {
        return bad("Missing required parameter: 'model'.", "model");
    }
    let model = request["model"].as_str().unwrap_or(MODEL);
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    if messages.is_empty() && !d.is("REQ-002") {
        return bad("[] is too short - 'messages'", "messages");
    }
    // ERR-005's MUST half: a silent fallback to another model instead of a 4xx.
    let falls_back = d.is("ERR-005") && request["stream"] != true;
    if model != MODEL && !falls_back {
        if request["stream"] == true && d.is("HTTP-003") {
            return Some(sse_response(d, vec![json!({"error": {"message": "no such model", "type": "invalid_request_error", "param": null, "code": null}}).to_string()], true));
        }
        return Some(error(
            d,
            if d.is("ERR-005:should") { 400 } else { 404 },
            "The model does not exist",
            Some("model"),
        ));
    }
    let words: usize = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .map(|text| text.split_whitespace().count())
        .sum();
    if words as u64 > CONTEXT {
        let message = format!(
            "This model's maximum context length is {CONTEXT} tokens. However, your messages resulted in {words} tokens."
        );
        if request["stream"] == true && d.is("HTTP-003:context") {
            return Some(sse_response(d, vec![json!({"error": {"message": message, "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}).to_string()], true));
        }
        return bad(&message, "messages");
    }
    if d.is("REQ-004") && messages.iter().any(|m| m["content"].is_array()) {
        return bad("content parts are not supported", "messages");
    }
    if d.is("REQ-004:should") && messages.iter().any(|m| m["role"] == "developer") {
        return bad("unknown role developer", "messages");
    }
    for message in &messages {
        let role_ok = ["system", "developer", "user", "assistant", "tool"]
            .contains(&message["role"].as_str().unwrap_or(""));
        let content_ok = matches!(message["content"], Value::String(_) | Value::Array(_))
            || (message["role"] == "assistant" && message["content"].is_null());
        if !(d.is("REQ-003") || role_ok && content_ok) {
            return bad("Invalid message", "messages");
        }
        if message["role"] == "tool" && message["tool_call_id"].is_null() && !d.is("REQ-009") {
            return bad("Missing parameter 'tool_call_id'", "messages");
        }
    }
    let outside = |key: &str, min: f64, max: f64| {
        request[key]
            .as_f64()
            .is_some_and(|v| !(min..=max).contains(&v))
    };
    let lenient_ranges = d.is("REQ-005") && request["stream"] != true;
    if (outside("temperature", 0.0, 2.0)
        || outside("top_p", 0.0, 1.0)
        || outside("presence_penalty", -2.0, 2.0)
        || outside("frequency_penalty", -2.0, 2.0))
        && !lenient_ranges
    {
        return bad("out of range", "temperature");
    }
    let top_logprobs_alone = request.get("top_logprobs").is_some() && request["logprobs"] != true;
    if (request["n"] == 0
        || request["stop"].as_array().is_some_and(|s| s.len() > 4)
        || outside("top_logprobs", 0.0, 20.0)
        || top_logprobs_alone)
        && !d.is("REQ-006")
    {
        return bad("invalid value", "n");
    }
    if request.get("stream_options").is_some() && request["stream"] != true {
        return if d.is("REQ-008") {
            Some(error(d, 500, "boom", None))
        } else {
            bad("stream_options needs stream", "stream_options")
        };
    }
    if let Some(tools) = request["tools"].as_array() {
        let names_ok = tools.iter().all(|t| {
            t["function"]["name"]
                .as_str()
                .is_some_and(|n| !n.contains(' ') && n.len() <= 64)
        });
        if (tools.is_empty() || !names_ok) && !d.is("REQ-010") {
            return bad("invalid tools", "tools");
        }
    }
    if request.get("conformance_unknown_parameter").is_some() && d.is("REQ-011") {
        return Some(error(
            d,
            500,
            "unexpected parameter crashed the server",
            None,
        ));
    }
    if request["n"] == 2 && d.is("misbehave:n2-500") {
        return Some(error(d, 500, "internal error", None));
    }
    if request["n"] == 2 && !(d.is("STREAM-015") && request["stream"] == true) {
        return bad("n > 1 is not supported", "n");
    }
    if messages.iter().any(|m| m["role"] == "tool") && messages.len() == 3 && d.is("TOOL-009") {
        return bad("tool results are not supported", "messages");
    }
    None
}

fn whole_reply(d: Deviation, request: &Value, plan: &Plan) -> Response {
    let with_tools = plan.call.is_some();
    let mut message = json!({"role": "assistant", "content": if with_tools { Value::Null } else { json!(plan.text) }, "refusal": null});
    if let Some((name, arguments)) = &plan.call {
        let mut call = json!({"id": "call_ref1", "type": "function", "function": {"name": name, "arguments": arguments}});
        if d.is("TOOL-001") {
            call.as_object_mut().unwrap().remove("type");
        }
        message["tool_calls"] = json!([call]);
    } else if d.is("NS-009") {
        message["tool_calls"] = json!([]);
    }
    if d.is("NS-006") {
        message["role"] = json!("");
    }
    if d.is("NS-007") && with_tools {
        message.as_object_mut().unwrap().remove("content");
    }
    if d.is("NS-008") {
        message.as_object_mut().unwrap().remove("refusal");
    }
    let mut choice = json!({"index": 0, "message": message, "logprobs": logprobs(request, &plan.text), "finish_reason": plan.finish});
    if d.is("NS-005") {
        choice.as_object_mut().unwrap().remove("logprobs");
    }
    if d.is("NS-004") && with_tools {
        choice["index"] = json!("0");
    }
    if d.is("NS-003") {
        choice["index"] = json!(1);
    }
    if d.is("NS-013") {
        choice["stop_reason"] = json!(2);
    }
    let completion = plan.completion_tokens();
    let total = plan.prompt_tokens + completion + u64::from(d.is("NS-010") && with_tools);
    let mut body = json!({
        "id": if d.is("NS-001") { "" } else { "chatcmpl-ref" },
        "object": "chat.completion",
        "created": if d.is("NS-002") { json!(1_700_000_000_000u64) } else { json!(now()) },
        "model": request["model"].as_str().unwrap_or(MODEL),
        "choices": [choice],
        "usage": if d.is("NS-010:should") && with_tools { Value::Null } else { json!({"prompt_tokens": plan.prompt_tokens, "completion_tokens": completion, "total_tokens": total}) },
        "system_fingerprint": "fp_ref"
    });
    if d.is("NS-012") {
        body["service_tier"] = json!("turbo");
    }
    json_reply(d, body)
}

/// The `logprobs` of a choice whose text is `text`: null unless the request asked for them.
fn logprobs(request: &Value, text: &str) -> Value {
    if request["logprobs"] != true {
        return Value::Null;
    }
    let content: Vec<Value> = text
        .split_inclusive(' ')
        .map(|token| json!({"token": token, "logprob": -0.5, "bytes": token.as_bytes(), "top_logprobs": []}))
        .collect();
    json!({"content": content, "refusal": null})
}

use wire::unix_time::unix_seconds as now;

fn stream_reply(d: Deviation, request: &Value, plan: &Plan, fail: bool) -> Response {
    let include_usage = request["stream_options"]["include_usage"] == true;
    let tools = plan.call.is_some();
    let basic = !tools && !include_usage;
    // The default reply (not the stop, limit or JSON probes'): where the stream deviations of
    // the chunk and usage checks go, so that the parameter checks see none of them.
    let hello = plan.text == "Hello there, friend.";
    let created = now();
    let chunk_number = std::cell::Cell::new(0u64);
    let chunk = |choices: Value| -> Value {
        let n = chunk_number.get();
        chunk_number.set(n + 1);
        let mut chunk = json!({
            "id": if d.is("STREAM-002") { format!("chatcmpl-ref{n}") } else { "chatcmpl-ref".to_owned() },
            "object": if d.is("STREAM-001") { "chat.completion" } else { "chat.completion.chunk" },
            "created": created + if d.is("STREAM-003") { n } else { 0 },
            "model": match (d.0, n) {
                ("STREAM-004", 1) => "",
                ("STREAM-004:should", 1) => "other-model",
                _ => MODEL,
            },
            "choices": choices,
        });
        if include_usage && !d.is("USAGE-003") {
            chunk["usage"] = Value::Null;
        }
        if d.is("STREAM-017") {
            chunk["service_tier"] = json!("turbo");
        }
        if d.is("USAGE-001") && basic {
            chunk["usage"] = json!({"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2});
        }
        chunk
    };
    let choice = |index: u64, delta: Value, finish: Value| -> Value {
        let logprobs = if d.is("STREAM-014") {
            json!({})
        } else {
            logprobs(request, delta["content"].as_str().unwrap_or(""))
        };
        let mut choice =
            json!({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish});
        if d.is("STREAM-005") && finish.is_null() && delta.get("content").is_some() {
            choice.as_object_mut().unwrap().remove("finish_reason");
        }
        choice
    };
    // One choice: n > 1 is rejected — or, under STREAM-015, accepted and still streamed as one.
    let index = 0u64;
    let mut events: Vec<Value> = Vec::new();
    {
        let role = if d.is("STREAM-008") { "" } else { "assistant" };
        let mut first = json!({"role": role, "content": ""});
        if d.is("STREAM-006") {
            first = json!({"content": ""});
        }
        events.push(chunk(json!([choice(index, first, Value::Null)])));
        if d.is("STREAM-016") {
            events.push(chunk(json!([choice(
                index,
                json!({"reasoning_content": 1}),
                Value::Null
            )])));
        }
        let text = if d.is("STREAM-013") && basic && hello {
            "Hello there, pal."
        } else {
            plan.text.as_str()
        };
        for (position, word) in text.split_inclusive(' ').enumerate() {
            let mut delta = json!({"content": word});
            if d.is("STREAM-007") && position > 0 {
                delta["role"] = json!("assistant");
            }
            events.push(chunk(json!([choice(index, delta, Value::Null)])));
            if fail && position == 1 {
                break;
            }
        }
        if fail {
            if d.is("ERR-010") {
                events.push(chunk(json!([choice(index, json!({}), json!("stop"))])));
                return sse_response(d, events.iter().map(Value::to_string).collect(), true);
            }
            let error = if d.is("ERR-009") {
                json!({"error": {"message": "engine died"}})
            } else {
                json!({"error": {"message": "engine died", "type": "server_error", "param": null, "code": null}})
            };
            events.push(error);
            return sse_response(d, events.iter().map(Value::to_string).collect(), false);
        }
        if let Some((name, arguments)) = &plan.call {
            if d.is("STREAM-009") {
                events.push(chunk(json!([choice(
                    index,
                    json!({"content": 0}),
                    Value::Null
                )])));
            }
            let base = u64::from(d.is("TOOL-007"));
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            let mut first = json!({"index": base, "id": "call_ref1", "type": "function", "function": {"name": name, "arguments": head}});
            if d.is("TOOL-004") {
                first.as_object_mut().unwrap().remove("index");
            }
            let tail = match d.0 {
                "TOOL-006" => "",
                // Valid JSON, but not the arguments of the same request answered whole.
                "TOOL-006:should" => &tail.replace("Paris", "Lyon"),
                _ => tail,
            };
            let mut second = json!({"index": base, "function": {"arguments": tail}});
            if d.is("TOOL-005") {
                second = json!({"index": base, "id": "call_ref1", "type": "function", "function": {"name": name, "arguments": tail}});
            }
            events.push(chunk(json!([choice(
                index,
                json!({"tool_calls": [first]}),
                Value::Null
            )])));
            events.push(chunk(json!([choice(
                index,
                json!({"tool_calls": [second]}),
                Value::Null
            )])));
            if d.is("TOOL-008") {
                events.push(chunk(json!([choice(
                    index,
                    json!({"tool_calls": [{"index": base, "function": {"arguments": arguments}}]}),
                    Value::Null
                )])));
            }
        }
        let finish = if d.is("STREAM-011") && include_usage && hello {
            "eos_token"
        } else {
            plan.finish
        };
        let extra = u64::from(d.is("USAGE-004") && hello);
        let usage = json!({"prompt_tokens": plan.prompt_tokens, "completion_tokens": plan.completion_tokens() + extra,
                           "total_tokens": plan.prompt_tokens + plan.completion_tokens() + extra});
        let mut usage_chunk = chunk(json!([]));
        usage_chunk["usage"] = usage;
        if include_usage && d.is("STREAM-012") {
            events.push(usage_chunk.clone());
        }
        events.push(chunk(json!([choice(index, json!({}), json!(finish))])));
        if basic && d.is("STREAM-010") {
            events.push(chunk(json!([choice(index, json!({}), json!(finish))])));
        }
        if include_usage && !d.is("USAGE-002") && !d.is("STREAM-012") {
            events.push(usage_chunk);
        }
    }
    sse_response(d, events.iter().map(Value::to_string).collect(), true)
}

/// Deviations that break only the SHOULD half of a rule with two severities, by check.
pub const SHOULD_HALVES: &[(&str, &str)] = &[
    ("NS-010", "NS-010:should"),
    ("SSE-005", "SSE-005:should"),
    ("STREAM-004", "STREAM-004:should"),
    ("TOOL-006", "TOOL-006:should"),
    ("ERR-004", "ERR-004:should"),
    ("ERR-005", "ERR-005:should"),
    ("REQ-004", "REQ-004:should"),
    ("SEC-003", "SEC-003:should"),
    ("EMB-004", "EMB-004:should"),
    ("MSG-022", "MSG-022:should"),
];

/// Answers to valid requests that break a rule themselves, and the checks each must fail: never
/// a skip.
pub const MISBEHAVIOURS: &[(&str, &[&str])] = &[
    (
        "misbehave:stream-tool-json",
        &[
            "HTTP-002", "TOOL-004", "TOOL-005", "TOOL-006", "TOOL-007", "TOOL-008",
        ],
    ),
    ("misbehave:n2-500", &["HTTP-001", "HTTP-002", "STREAM-015"]),
];

/// Conformant ways to write SSE that a naive reader gets wrong; each must pass strictly.
pub const LEGAL_SSE_VARIANTS: &[&str] = &[
    "legal:bom",
    "legal:cr",
    "legal:crlf",
    "legal:retry-and-comments",
    "legal:no-space-after-colon",
    "legal:dataless-blocks",
];

/// Frames `payloads` as SSE (with the framing deviations), ending with `[DONE]` when `done`.
fn sse_response(d: Deviation, payloads: Vec<String>, done: bool) -> Response {
    let body = sse_body(d, payloads, done);
    let content_type = if d.is("HTTP-002") {
        "text/plain"
    } else {
        "text/event-stream"
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn sse_body(d: Deviation, payloads: Vec<String>, done: bool) -> String {
    let body = deviant_sse_body(d, payloads, done);
    match d.0 {
        "legal:bom" => format!("\u{feff}{body}"),
        "legal:cr" => body.replace('\n', "\r"),
        "legal:crlf" => body.replace('\n', "\r\n"),
        "legal:retry-and-comments" => {
            format!(
                "retry: 3000\n\n: connected\n\n{}",
                body.replace("\n\ndata", "\n\n: keep-alive\n\ndata")
            )
        }
        "legal:no-space-after-colon" => body.replace("data: ", "data:"),
        "legal:dataless-blocks" => format!(
            "event: ping\n\n{}",
            body.replace("\n\ndata", "\n\nretry: 10\n\ndata")
        ),
        _ => body,
    }
}

fn deviant_sse_body(d: Deviation, payloads: Vec<String>, done: bool) -> String {
    let mut body = String::new();
    for (position, payload) in payloads.iter().enumerate() {
        if d.is("SSE-008") {
            body.push_str("event: chunk\n");
        }
        if d.is("SSE-004") && position == 0 {
            body.push_str(": ping\n\nid: 1\n");
        }
        if d.is("SSE-001") && position == 0 {
            body.push_str("x-note: unframed\n");
        }
        let ending = if d.is("SSE-003") && position == 0 {
            "\r\n\r\n"
        } else {
            "\n\n"
        };
        let payload = if position == 0 && d.is("SSE-005:should") {
            // Legal, and valid JSON once the lines are joined with \n, but not one data: line.
            payload.replacen(',', ",\ndata: ", 1)
        } else {
            payload.clone()
        };
        body.push_str(&format!("data: {payload}{ending}"));
        if position == 0 && d.is("SSE-005") {
            body.push_str("data: not json\n\n");
        }

        if position == 0 && d.is("SSE-009") {
            body.push_str("data: : keep-alive\n\n");
        }
    }
    if done && !d.is("SSE-006") {
        body.push_str(if d.is("SSE-002") {
            "data: [DONE]"
        } else {
            "data: [DONE]\n\n"
        });
        if d.is("SSE-007") {
            body.push_str("data: [DONE]\n\n");
        }
    }
    body
}
