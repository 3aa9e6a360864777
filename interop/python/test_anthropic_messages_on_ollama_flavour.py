"""The official `anthropic` Python SDK against mock-ollama's default flavour (`ollama`), which
plays Ollama's Anthropic layer: what works as against Anthropic, and where Ollama's deviations
show through the SDK."""

import anthropic
import pytest


@pytest.fixture
def client(mock_ollama_url):
    return anthropic.Anthropic(base_url=mock_ollama_url, api_key="unused", max_retries=0)


def ask(text):
    return [{"role": "user", "content": text}]


def test_create_and_stream_agree_and_thinking_comes_unsigned(client):
    whole = client.messages.create(model="llama3.2", max_tokens=256, messages=ask("Tell me something"))
    with client.messages.stream(model="llama3.2", max_tokens=256, messages=ask("Tell me something")) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == whole.content[0].text and whole.stop_reason == "end_turn"
    assert whole.usage.cache_read_input_tokens is None, "Ollama reports no cache fields"

    thought = client.messages.create(
        model="qwen3:0.6b", max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
        messages=ask("What is 17 * 23?"),
    )
    assert [block.type for block in thought.content] == ["thinking", "text"]
    assert not thought.content[0].signature, "Ollama does not sign thinking"


def test_a_mid_stream_failure_is_a_silently_shorter_message(client):
    # Ollama writes no `event: error`: the SDK raises nothing and hands back what arrived, with
    # no stop reason — a client cannot tell it from a finished answer unless it checks that.
    with client.messages.stream(
        model="llama3.2", max_tokens=256, messages=ask("[fault:mid-stream-error]")
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason is None
    assert final.content[0].text == "This answer will"


def test_count_tokens_is_not_found(client):
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="llama3.2", messages=ask("hi"))


def test_refusals_are_typed_exceptions_in_ollamas_words(client):
    with pytest.raises(anthropic.NotFoundError, match="model 'no-such-model' not found"):
        client.messages.create(model="no-such-model", max_tokens=16, messages=ask("hi"))
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="llama3.2", max_tokens=16, messages=ask("[fault:429]"))
