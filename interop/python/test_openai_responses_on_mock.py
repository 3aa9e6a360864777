"""The official `openai` Python SDK's Responses API against mock-ollama's exact flavour: create,
the streaming helper and its accumulator, a function call answered with its output, the response
store (retrieve, `previous_response_id`, input items, delete), `max_output_tokens` and errors."""

import json

import openai
import pytest
from conftest import WEATHER_RESPONSES_TOOL


@pytest.fixture
def client(mock_exact_url):
    return openai.OpenAI(base_url=f"{mock_exact_url}/v1", api_key="unused", max_retries=0)


def test_create_returns_a_response_with_its_text_and_usage(client):
    response = client.responses.create(model="llama3.2", input="Tell me something")
    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.output_text
    usage = response.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_the_stream_helper_accumulates_the_same_response(client):
    whole = client.responses.create(model="llama3.2", input="Tell me something")
    deltas = []
    with client.responses.stream(model="llama3.2", input="Tell me something") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == whole.output_text
    assert final.id == whole.id and final.status == "completed"


def test_a_function_call_and_its_output_continue_the_conversation(client):
    asked = [{"role": "user", "content": "What is the weather in Paris?"}]
    response = client.responses.create(model="llama3.2", input=asked, tools=[WEATHER_RESPONSES_TOOL])
    calls = [item for item in response.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["get_weather"]
    assert json.loads(calls[0].arguments) == {"city": "Paris", "unit": "celsius"}

    answered = asked + [calls[0].model_dump(exclude_none=True)] + [
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temp": 18}'}
    ]
    after = client.responses.create(model="llama3.2", input=answered, tools=[WEATHER_RESPONSES_TOOL])
    assert after.output_text == "It is 18 degrees and sunny in Paris."


def test_a_streamed_function_call_arrives_whole_in_the_final_response(client):
    with client.responses.stream(
        model="llama3.2", input="What is the weather in Paris?", tools=[WEATHER_RESPONSES_TOOL]
    ) as stream:
        argument_deltas = "".join(
            event.delta for event in stream if event.type == "response.function_call_arguments.delta"
        )
        final = stream.get_final_response()
    call = next(item for item in final.output if item.type == "function_call")
    assert argument_deltas == call.arguments
    assert json.loads(call.arguments)["city"] == "Paris"


def test_a_stored_response_is_retrieved_continued_listed_and_deleted(client):
    first = client.responses.create(model="llama3.2", instructions="Be brief.", input="Tell me something")
    assert client.responses.retrieve(first.id).output_text == first.output_text

    continued = client.responses.create(model="llama3.2", input="And then?", previous_response_id=first.id)
    assert continued.previous_response_id == first.id
    assert continued.usage.input_tokens > first.usage.input_tokens, "the earlier turns are read"

    items = client.responses.input_items.list(continued.id)
    assert [item.type for item in items.data] == ["message"]
    assert items.data[0].content[0].text == "And then?"

    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="llama3.2", input="More", previous_response_id=first.id)
    assert refused.value.code == "previous_response_not_found"


def test_max_output_tokens_makes_the_response_incomplete(client):
    response = client.responses.create(model="llama3.2", input="Write a long story", max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage.output_tokens == 16


def test_errors_are_typed_exceptions(client):
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="hi")
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="llama3.2", input="hi", max_output_tokens=1)
    assert refused.value.param == "max_output_tokens"
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="llama3.2", input="[fault:429]")


def test_a_mid_stream_failure_is_an_error_event_and_no_final_response(client):
    # openai-python raises only for an `error` event whose data holds an `error` object; the
    # Responses API's error event is flat (`code`, `message`, `param`), so it is yielded.
    with client.responses.stream(model="llama3.2", input="[fault:mid-stream-error]") as stream:
        errors = [event for event in stream if event.type == "error"]
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert len(errors) == 1 and "model runner has unexpectedly stopped" in errors[0].message
