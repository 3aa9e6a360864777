"""The official `anthropic` Python SDK against mock-ollama's Messages API (its exact flavour):
create, the streaming helper and its accumulated message, tool use answered with a tool result,
thinking, `max_tokens`, `count_tokens`, and errors as the SDK's typed exceptions."""

import anthropic
import pytest
from conftest import WEATHER_MESSAGES_TOOL


@pytest.fixture
def client(mock_exact_url):
    return anthropic.Anthropic(base_url=mock_exact_url, api_key="sk-ant-unused", max_retries=0)


def ask(text):
    return [{"role": "user", "content": text}]


def test_create_returns_a_message_with_its_text_and_usage(client):
    message = client.messages.create(model="llama3.2", max_tokens=256, messages=ask("Tell me something"))
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message._request_id.startswith("req_")


def test_the_stream_helper_accumulates_the_same_message(client):
    whole = client.messages.create(model="llama3.2", max_tokens=256, messages=ask("Tell me something"))
    with client.messages.stream(model="llama3.2", max_tokens=256, messages=ask("Tell me something")) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == whole.content[0].text
    assert final.model_dump() == whole.model_dump()


def test_tool_use_then_the_tool_result_gets_the_answer(client):
    asked = ask("What is the weather in Paris?")
    message = client.messages.create(model="llama3.2", max_tokens=256, messages=asked, tools=[WEATHER_MESSAGES_TOOL])
    assert message.stop_reason == "tool_use"
    use = next(block for block in message.content if block.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"city": "Paris", "unit": "celsius"}

    with client.messages.stream(
        model="llama3.2", max_tokens=256, messages=asked, tools=[WEATHER_MESSAGES_TOOL]
    ) as stream:
        streamed = stream.get_final_message()
    assert [block.model_dump() for block in streamed.content] == [block.model_dump() for block in message.content]

    answered = asked + [
        {"role": "assistant", "content": [block.model_dump() for block in message.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18C and sunny"}]},
    ]
    after = client.messages.create(model="llama3.2", max_tokens=256, messages=answered, tools=[WEATHER_MESSAGES_TOOL])
    assert after.content[0].text == "It is 18 degrees and sunny in Paris."


def test_thinking_comes_as_a_signed_block_and_streams_its_signature(client):
    thinking = {"type": "enabled", "budget_tokens": 1024}
    message = client.messages.create(
        model="qwen3:0.6b", max_tokens=2048, thinking=thinking, messages=ask("What is 17 * 23?")
    )
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert "391" in message.content[0].thinking and message.content[0].signature
    with client.messages.stream(
        model="qwen3:0.6b", max_tokens=2048, thinking=thinking, messages=ask("What is 17 * 23?")
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].signature == message.content[0].signature


def test_max_tokens_stops_the_message_with_its_reason(client):
    message = client.messages.create(model="llama3.2", max_tokens=5, messages=ask("Write a long story"))
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5


def test_count_tokens_counts_what_the_message_reads(client):
    counted = client.messages.count_tokens(model="llama3.2", messages=ask("Tell me something"))
    message = client.messages.create(model="llama3.2", max_tokens=256, messages=ask("Tell me something"))
    assert counted.input_tokens == message.usage.input_tokens


def test_errors_are_typed_exceptions(client):
    with pytest.raises(anthropic.NotFoundError) as unknown:
        client.messages.create(model="no-such-model", max_tokens=16, messages=ask("hi"))
    assert unknown.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="llama3.2", max_tokens=0, messages=ask("hi"))
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="llama3.2", max_tokens=16, messages=ask("[fault:429]"))


def test_a_mid_stream_error_event_raises_from_the_stream(client):
    with pytest.raises(anthropic.APIStatusError, match="model runner has unexpectedly stopped"):
        with client.messages.stream(
            model="llama3.2", max_tokens=256, messages=ask("[fault:mid-stream-error]")
        ) as stream:
            for _ in stream:
                pass
