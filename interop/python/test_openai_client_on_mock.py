"""The official `openai` Python SDK against mock-ollama's OpenAI layer, in the `ollama` flavour (as
Ollama's own /v1 answers) and the `openai` flavour (exactly conformant)."""

import json

import openai
import pytest
from conftest import WEATHER_TOOL


@pytest.fixture
def flavour(mock_v1):
    return mock_v1[0]


@pytest.fixture
def client(mock_v1):
    return openai.OpenAI(base_url=mock_v1[1], api_key="unused", max_retries=0)


def ask(text):
    return [{"role": "user", "content": text}]


def test_chat_json_matches_the_stream(client):
    whole = client.chat.completions.create(model="llama3.2", messages=ask("Tell me something"))
    assert whole.object == "chat.completion"
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
    chunks = list(
        client.chat.completions.create(
            model="llama3.2", messages=ask("Tell me something"), stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert len({c.id for c in chunks}) == 1


def test_stream_helper_accumulates_the_tool_call(client):
    with client.chat.completions.stream(
        model="llama3.2", messages=ask("What is the weather in Paris?"), tools=[WEATHER_TOOL]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}


def test_thinking_model_reasoning_field(client, flavour):
    completion = client.chat.completions.create(model="qwen3:0.6b", messages=ask("What is 17 * 23?"))
    message = completion.choices[0].message
    field = "reasoning" if flavour == "ollama" else "reasoning_content"
    assert "391" in (message.model_extra or {})[field]
    assert message.content == "17 × 23 = 391."


def test_embeddings_decode_from_base64_and_floats_alike(client):
    # The SDK asks for base64 by default and decodes it itself.
    encoded = client.embeddings.create(model="nomic-embed-text", input=["hello", "world"])
    floats = client.embeddings.create(model="nomic-embed-text", input=["hello", "world"], encoding_format="float")
    assert [d.index for d in encoded.data] == [0, 1]
    assert len(encoded.data[0].embedding) == 768
    for a, b in zip(encoded.data[0].embedding, floats.data[0].embedding):
        assert abs(a - b) < 1e-6


def test_models_list_and_retrieve(client, flavour):
    ids = [model.id for model in client.models.list()]
    assert ("llama3.2:latest" if flavour == "ollama" else "llama3.2") in ids
    assert client.models.retrieve("llama3.2").id == "llama3.2"


def test_errors_are_typed_exceptions(client):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=ask("hi"))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="llama3.2", messages=ask("[fault:429]"))
    assert caught.value.response.headers["retry-after"] == "2"


def test_mid_stream_error_is_lost_on_ollama_and_raised_on_openai(client, flavour):
    stream = client.chat.completions.create(model="llama3.2", messages=ask("[fault:mid-stream-error]"), stream=True)
    if flavour == "ollama":
        chunks = list(stream)  # Ollama's /v1 just ends: no finish reason, no error
        assert all(c.choices[0].finish_reason is None for c in chunks)
    else:
        with pytest.raises(openai.APIError, match="model runner has unexpectedly stopped"):
            list(stream)
