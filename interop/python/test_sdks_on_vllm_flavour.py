"""The official `openai` and `anthropic` Python SDKs against mock-ollama's `vllm` flavour, which
plays vLLM's `/v1/responses` and `/v1/messages` from its source (vLLM needs an accelerator, so no
real one runs here): what works as against OpenAI and Anthropic, and what a client relying on the
rest would see."""

import json

import anthropic
import openai
import pytest
from conftest import WEATHER_MESSAGES_TOOL, WEATHER_RESPONSES_TOOL


@pytest.fixture
def responses(mock_vllm_url):
    return openai.OpenAI(base_url=f"{mock_vllm_url}/v1", api_key="unused", max_retries=0)


@pytest.fixture
def messages(mock_vllm_url):
    return anthropic.Anthropic(base_url=mock_vllm_url, api_key="unused", max_retries=0)


def ask(text):
    return [{"role": "user", "content": text}]


def test_responses_create_and_stream_agree_despite_vllms_own_reasoning_events(responses):
    whole = responses.responses.create(model="qwen3:0.6b", input="What is 17 * 23?")
    assert [item.type for item in whole.output] == ["reasoning", "message"]
    assert whole.output[0].content[0].text == "17 * 23 = 17 * 20 + 17 * 3 = 340 + 51 = 391."
    assert whole.output_text == "17 × 23 = 391."
    with responses.responses.stream(model="qwen3:0.6b", input="What is 17 * 23?") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    # The SDK has no class for vLLM's reasoning part events and passes them through as is.
    assert "response.reasoning_part.added" in kinds
    assert "response.reasoning_summary_part.added" not in kinds
    assert final.output_text == whole.output_text
    assert final.usage.output_tokens_details.reasoning_tokens == 2


def test_a_function_call_round_trips_but_its_call_id_changes_between_stream_and_final(responses):
    asked = ask("What is the weather in Paris?")
    whole = responses.responses.create(model="llama3.2", input=asked, tools=[WEATHER_RESPONSES_TOOL])
    call = whole.output[-1]
    assert call.type == "function_call" and call.call_id.startswith("chatcmpl-tool-")
    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}
    answered = asked + [call.model_dump(exclude_none=True)] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 18}'}
    ]
    after = responses.responses.create(model="llama3.2", input=answered, tools=[WEATHER_RESPONSES_TOOL])
    assert after.output_text == "It is 18 degrees and sunny in Paris."

    with responses.responses.stream(model="llama3.2", input=asked, tools=[WEATHER_RESPONSES_TOOL]) as stream:
        streamed = [event.item for event in stream if event.type == "response.output_item.done"]
        final = stream.get_final_response()
    assert streamed[0].call_id.startswith("call_")
    assert final.output[0].call_id != streamed[0].call_id, "a client that kept the streamed id answers an unknown call"


def test_a_cut_response_is_incomplete_yet_ends_in_response_completed(responses):
    with responses.responses.stream(model="llama3.2", input="Tell me something", max_output_tokens=3) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[-1] == "response.completed"
    assert final.status == "incomplete" and final.incomplete_details.reason == "max_output_tokens"


def test_the_store_is_off_so_retrieve_and_previous_response_id_are_not_found(responses):
    first = responses.responses.create(model="llama3.2", input="Tell me something", store=True)
    with pytest.raises(openai.NotFoundError, match="not found"):
        responses.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        responses.responses.create(model="llama3.2", input="And then?", previous_response_id=first.id)
    with pytest.raises(openai.BadRequestError, match="VLLM_ENABLE_RESPONSES_API_STORE"):
        responses.responses.create(model="llama3.2", input="Tell me something", background=True)


def test_messages_work_but_a_streamed_message_has_no_role(messages):
    whole = messages.messages.create(model="qwen3:0.6b", max_tokens=64, messages=ask("What is 17 * 23?"))
    assert [block.type for block in whole.content] == ["thinking", "text"]
    assert whole.role == "assistant" and whole.stop_reason == "end_turn"
    with messages.messages.stream(model="qwen3:0.6b", max_tokens=64, messages=ask("What is 17 * 23?")) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "17 × 23 = 391."
    assert len(final.content[0].signature) == 32
    # message_start's message leaves out its defaults (pydantic's exclude_unset).
    assert final.role is None and final.type is None


def test_a_streamed_tool_use_accumulates_its_input(messages):
    with messages.messages.stream(
        model="llama3.2", max_tokens=64, messages=ask("What is the weather in Paris?"), tools=[WEATHER_MESSAGES_TOOL]
    ) as stream:
        final = stream.get_final_message()
    tool_use = final.content[0]
    assert tool_use.type == "tool_use" and tool_use.id.startswith("chatcmpl-tool-")
    assert tool_use.input == {"city": "Paris", "unit": "celsius"}
    assert final.stop_reason == "tool_use"


def test_messages_errors_come_in_two_envelopes(messages):
    # A body pydantic refuses gets the server's OpenAI envelope; the SDK raises by status.
    with pytest.raises(anthropic.BadRequestError) as refused:
        messages.post("/v1/messages", body={"model": "llama3.2", "messages": []}, cast_to=object)
    assert refused.value.body["error"]["type"] == "BadRequestError"
    # The handler's own errors get Anthropic's envelope, typed by vLLM's class names.
    with pytest.raises(anthropic.NotFoundError) as unknown:
        messages.messages.create(model="nope", max_tokens=8, messages=ask("hi"))
    assert unknown.value.body["error"]["type"] == "NotFoundError"
