"""The official `openai` and `anthropic` Python SDKs against mock-ollama's `llamacpp` flavour,
which plays llama.cpp's `llama-server` on `/v1/responses` and `/v1/messages`: what works as
against OpenAI and Anthropic, and where that server's deviations break the SDKs. LLAMA_SERVER_URL
points the same suite at a real `llama-server` instead (conformance/third-party/run.sh does)."""

import os

import anthropic
import openai
import pytest


@pytest.fixture
def base_url(request):
    return os.environ.get("LLAMA_SERVER_URL") or request.getfixturevalue("mock_llamacpp_url")


@pytest.fixture
def model():
    return os.environ.get("LLAMA_SERVER_MODEL", "llama3.2")


# The real server now and then closes a kept-alive connection after a stream without answering
# the next request on it ("Server disconnected without sending a response"); the SDKs' own
# retries (2 by default) absorb that, so they are left on against it.
RETRIES = 2 if os.environ.get("LLAMA_SERVER_URL") else 0


@pytest.fixture
def responses(base_url):
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=RETRIES)


@pytest.fixture
def messages(base_url):
    return anthropic.Anthropic(base_url=base_url, api_key="unused", max_retries=RETRIES)


def ask(text):
    return [{"role": "user", "content": text}]


def test_responses_create_works_and_echoes_nothing_of_the_request(responses, model):
    response = responses.responses.create(model=model, input="Tell me something", max_output_tokens=16)
    assert response.status == "completed" and response.output_text
    assert response.tools is None and response.instructions is None, "nothing of the request echoed"


def test_the_responses_stream_breaks_the_sdk_accumulator(responses, model):
    # Its events carry no output_index: openai-python's accumulator indexes its output list
    # with None.
    with pytest.raises(TypeError, match="not NoneType"):
        with responses.responses.stream(model=model, input="Tell me something", max_output_tokens=16) as stream:
            stream.get_final_response()


def test_previous_response_id_is_refused(responses, model):
    with pytest.raises(openai.BadRequestError, match="does not support 'previous_response_id'"):
        responses.responses.create(model=model, input="And then?", previous_response_id="resp_1")


def test_messages_create_stream_and_count_tokens_work(messages, model):
    whole = messages.messages.create(model=model, max_tokens=16, messages=ask("Tell me something"))
    assert whole.content[0].type == "text" and whole.stop_reason in ("end_turn", "max_tokens")
    assert whole.id.startswith("chatcmpl-")
    with messages.messages.stream(model=model, max_tokens=16, messages=ask("Tell me something")) as stream:
        final = stream.get_final_message()
    assert final.content[0].text and final.usage.output_tokens > 0
    assert messages.messages.count_tokens(model=model, messages=ask("Tell me something")).input_tokens > 0


def test_messages_errors_are_not_anthropics_envelope(messages, model):
    # The SDK still raises by status, but the body is llama-server's {"error": {code, message,
    # type}}, so the message it shows is that whole object.
    with pytest.raises(anthropic.InternalServerError) as refused:
        messages.post("/v1/messages", body={"model": model, "max_tokens": 8}, cast_to=object)
    assert refused.value.body["error"]["code"] == 500
