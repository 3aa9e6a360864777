"""The OpenAI Agents SDK (`openai-agents`, Responses API only) running an agent with one function
tool to completion against mock-ollama's exact flavour and its default (Ollama's stateless layer,
which is enough: the SDK sends the whole conversation each turn): the model calls the tool, the
SDK runs it and sends its output back, and the final answer comes from the scripted turn that
reads it."""

import asyncio

import openai
import pytest
from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled


@pytest.mark.parametrize("flavour", ["mock_exact_url", "mock_ollama_url"])
def test_an_agent_calls_its_tool_and_answers_from_the_result(flavour, request):
    url = request.getfixturevalue(flavour)
    set_tracing_disabled(True)  # no trace export: the run stays on 127.0.0.1
    calls = []

    @function_tool
    def get_weather(city: str, unit: str) -> str:
        """Current weather for a city."""
        calls.append((city, unit))
        return f"18 degrees ({unit}) and sunny in {city}"

    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    agent = Agent(
        name="weather",
        instructions="Answer weather questions with the tool.",
        model=OpenAIResponsesModel(model="llama3.2", openai_client=client),
        tools=[get_weather],
    )

    async def run(streamed: bool):
        if not streamed:
            return await Runner.run(agent, "What is the weather in Paris?")
        result = Runner.run_streamed(agent, "What is the weather in Paris?")
        async for _ in result.stream_events():
            pass
        return result

    async def both():
        return [await run(streamed) for streamed in (False, True)]

    whole, streamed = asyncio.run(both())
    assert calls == [("Paris", "celsius")] * 2, "the tool ran once per run"
    assert whole.final_output == streamed.final_output == "It is 18 degrees and sunny in Paris."
