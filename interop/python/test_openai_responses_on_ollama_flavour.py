"""The official `openai` Python SDK's Responses API against mock-ollama's default flavour
(`ollama`), which plays Ollama's stateless Responses layer: the stateless subset works as against
OpenAI, and the deviations show where a client relying on the rest would break."""

import json

import openai
import pytest
from conftest import WEATHER_RESPONSES_TOOL


@pytest.fixture
def client(mock_ollama_url):
    return openai.OpenAI(base_url=f"{mock_ollama_url}/v1", api_key="unused", max_retries=0)


def test_create_and_the_stream_helper_agree(client):
    whole = client.responses.create(model="llama3.2", input="Tell me something")
    assert whole.status == "completed" and whole.output_text
    assert whole.usage.total_tokens == whole.usage.input_tokens + whole.usage.output_tokens
    deltas = []
    with client.responses.stream(model="llama3.2", input="Tell me something") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == whole.output_text
    assert final.status == "completed"


def test_a_function_call_and_its_output_continue_the_conversation(client):
    asked = [{"role": "user", "content": "What is the weather in Paris?"}]
    response = client.responses.create(model="llama3.2", input=asked, tools=[WEATHER_RESPONSES_TOOL])
    assert [item.type for item in response.output] == ["function_call"], "no message beside a call"
    call = response.output[0]
    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}

    answered = asked + [call.model_dump(exclude_none=True)] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 18}'}
    ]
    after = client.responses.create(model="llama3.2", input=answered, tools=[WEATHER_RESPONSES_TOOL])
    assert after.output_text == "It is 18 degrees and sunny in Paris."


def test_a_streamed_function_call_accumulates_whole(client):
    with client.responses.stream(
        model="llama3.2", input="What is the weather in Paris?", tools=[WEATHER_RESPONSES_TOOL]
    ) as stream:
        argument_deltas = "".join(
            event.delta for event in stream if event.type == "response.function_call_arguments.delta"
        )
        final = stream.get_final_response()
    assert argument_deltas == final.output[0].arguments


def test_nothing_is_stored_so_retrieve_and_previous_response_id_do_not_work(client):
    first = client.responses.create(model="llama3.2", input="Tell me something", store=True)
    assert first.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    # previous_response_id is accepted and dropped: the reply echoes none and has read nothing
    # of the first turn.
    alone = client.responses.create(model="llama3.2", input="And then?")
    continued = client.responses.create(model="llama3.2", input="And then?", previous_response_id=first.id)
    assert continued.previous_response_id is None
    assert continued.usage.input_tokens == alone.usage.input_tokens


def test_max_output_tokens_cuts_the_text_but_the_status_says_completed(client):
    response = client.responses.create(model="llama3.2", input="Write a long story", max_output_tokens=16)
    assert response.usage.output_tokens == 16
    assert response.status == "completed" and response.incomplete_details is None


def test_a_mid_stream_failure_leaves_the_accumulator_without_a_final_response(client):
    # Ollama's layer drops the failure: no `error` event, the body just ends before
    # `response.completed`, and the SDK can only say the stream ended early.
    with client.responses.stream(model="llama3.2", input="[fault:mid-stream-error]") as stream:
        kinds = [event.type for event in stream]
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert "error" not in kinds and "response.output_text.delta" in kinds


def test_refusals_are_typed_exceptions(client):
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="hi")
    with pytest.raises(openai.BadRequestError, match="unknown input item type"):
        client.responses.create(model="llama3.2", input=[{"type": "note"}])
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="llama3.2", input="[fault:429]")
