"""The official `ollama` Python package against the mock-ollama binary."""

import ollama
import pytest
from conftest import WEATHER_TOOL



@pytest.fixture
def client(mock_ollama_url):
    return ollama.Client(host=mock_ollama_url)


def ask(text):
    return [{"role": "user", "content": text}]


def test_chat_non_stream(client):
    response = client.chat(model="llama3.2", messages=ask("Tell me something"))
    assert response.message.role == "assistant"
    assert response.message.content
    assert response.done is True
    assert response.done_reason == "stop"
    assert response.eval_count > 0 and response.prompt_eval_count > 0


def test_chat_stream_adds_up_to_non_stream(client):
    whole = client.chat(model="llama3.2", messages=ask("Same question"))
    chunks = list(client.chat(model="llama3.2", messages=ask("Same question"), stream=True))
    assert len(chunks) > 2
    assert all(not chunk.done for chunk in chunks[:-1])
    assert chunks[-1].done and chunks[-1].done_reason == "stop"
    assert "".join(chunk.message.content for chunk in chunks) == whole.message.content


def test_chat_tool_call_arrives_as_a_mapping(client):
    response = client.chat(model="llama3.2", messages=ask("What is the weather in Paris?"), tools=[WEATHER_TOOL])
    calls = response.message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    assert calls[0].function.arguments["city"] == "Paris"


def test_chat_thinking(client):
    response = client.chat(model="qwen3:0.6b", messages=ask("What is 17 * 23?"), think=True)
    assert response.message.thinking.endswith("391.")
    assert response.message.content == "17 × 23 = 391."


def test_generate_stream_and_not(client):
    whole = client.generate(model="llama3.2", prompt="Write a line")
    assert whole.response and whole.done
    streamed = list(client.generate(model="llama3.2", prompt="Write a line", stream=True))
    assert "".join(chunk.response for chunk in streamed) == whole.response


def test_list(client):
    names = [model.model for model in client.list().models]
    assert "llama3.2:latest" in names and "nomic-embed-text:latest" in names


def test_show(client):
    shown = client.show("qwen3:0.6b")
    assert "thinking" in shown.capabilities
    assert shown.modelinfo["general.architecture"] == "qwen3"
    assert shown.details.family == "qwen3"


def test_ps_lists_a_model_that_answered(client):
    client.chat(model="llama3.2", messages=ask("warm up"))
    assert "llama3.2:latest" in [model.model for model in client.ps().models]


def test_embed(client):
    response = client.embed(model="nomic-embed-text", input=["first", "second"])
    assert len(response.embeddings) == 2
    assert len(response.embeddings[0]) == 768
    norm = sum(x * x for x in response.embeddings[0])
    assert abs(norm - 1.0) < 1e-3


def test_unknown_model_raises_response_error_404(client):
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="no-such-model", messages=ask("hi"))
    assert error.value.status_code == 404
    assert "not found" in error.value.error


def test_mid_stream_error_line_raises(client):
    stream = client.chat(model="llama3.2", messages=ask("[fault:mid-stream-error]"), stream=True)
    with pytest.raises(ollama.ResponseError) as error:
        for _ in stream:
            pass
    assert "unexpectedly stopped" in error.value.error


def test_rate_limit_status_reaches_the_client(client):
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="llama3.2", messages=ask("[fault:429]"))
    assert error.value.status_code == 429
