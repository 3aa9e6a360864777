"""The official `openai` Python SDK against the gateway binary (embedded mock Ollama + fixtures)."""

import json

import openai
import pytest
from conftest import WEATHER_TOOL



@pytest.fixture
def client(gateway_url):
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="unused", max_retries=0)


def ask(text):
    return [{"role": "user", "content": text}]


def test_non_stream(client):
    completion = client.chat.completions.create(model="llama3.2", messages=ask("Tell me something"))
    choice = completion.choices[0]
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_stream_with_include_usage(client):
    stream = client.chat.completions.create(
        model="llama3.2", messages=ask("Stream please"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(chunk.choices[0].delta.role is None for chunk in chunks[1:] if chunk.choices)
    assert len({chunk.id for chunk in chunks}) == 1
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    whole = client.chat.completions.create(model="llama3.2", messages=ask("Stream please"))
    assert text == whole.choices[0].message.content


def test_stream_helper_accumulates_tool_calls(client):
    with client.chat.completions.stream(
        model="llama3.2", messages=ask("What is the weather in Paris?"), tools=[WEATHER_TOOL]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}


def test_tool_round_trip(client):
    first = client.chat.completions.create(model="llama3.2", messages=ask("What is the weather in Paris?"), tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]
    messages = ask("What is the weather in Paris?") + [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees, sunny"},
    ]
    second = client.chat.completions.create(model="llama3.2", messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "It is 18 degrees and sunny in Paris."
    assert second.choices[0].finish_reason == "stop"


def test_reasoning_content_is_exposed(client):
    completion = client.chat.completions.create(model="qwen3:0.6b", messages=ask("What is 17 * 23?"))
    message = completion.choices[0].message
    assert message.content == "17 × 23 = 391."
    assert message.model_extra["reasoning_content"].endswith("391.")


def test_bad_request_raises_bad_request_error(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="llama3.2", messages=ask("hi"), temperature=5)
    assert error.value.status_code == 400
    assert error.value.body["param"] == "temperature"


def test_unknown_model_raises_not_found_error(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="no-such-model", messages=ask("hi"))
    assert error.value.body["code"] == "model_not_found"


def test_mid_stream_failure_raises_api_error(client):
    stream = client.chat.completions.create(model="llama3.2", messages=ask("[fault:mid-stream-error]"), stream=True)
    with pytest.raises(openai.APIError) as error:
        for _ in stream:
            pass
    assert "unexpectedly stopped" in error.value.message


def test_rate_limit_raises_rate_limit_error_with_retry_after(client):
    with pytest.raises(openai.RateLimitError) as error:
        client.chat.completions.create(model="llama3.2", messages=ask("[fault:429]"))
    assert error.value.response.headers["retry-after"] == "2"


def test_models_list(client):
    ids = [model.id for model in client.models.list()]
    assert "llama3.2:latest" in ids
