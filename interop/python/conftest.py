"""Starts the project's binaries on 127.0.0.1 with an OS-chosen port and stops them afterwards."""

import os
import pathlib
import re
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
LISTENING = re.compile(r"listening on (http://\S+)")

# The tool the fixtures' scripted weather replies answer (fixtures/scenarios/10-tool-calls.json).
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}


def start(binary: str, *args: str, env: dict | None = None):
    """Runs a binary from target/debug, waits for its 'listening on URL' log line, yields the URL."""
    path = TARGET / "debug" / binary
    if not path.exists():
        raise RuntimeError(f"{path} is missing; build it first (cargo build --workspace)")
    process = subprocess.Popen(
        [str(path), "--listen", "127.0.0.1:0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**(env if env is not None else os.environ), "RUST_LOG": "info"},
    )
    deadline = time.monotonic() + 30
    url = None
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        match = LISTENING.search(line)
        if match:
            url = match.group(1)
            break
    if url is None:
        process.kill()
        raise RuntimeError(f"{binary} did not report its address")
    return process, url


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def mock_ollama_url():
    process, url = start("mock-ollama", "--time-scale", "0", "--fixtures", str(ROOT / "fixtures" / "scenarios"))
    yield url
    stop(process)


@pytest.fixture(scope="session")
def gateway_url():
    """The gateway binary with its embedded mock Ollama (no config, no OLLAMA_HOST) serving the fixtures."""
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST", "GATEWAY_CONFIG")}
    process, url = start("gateway", "--mock-fixtures", str(ROOT / "fixtures" / "scenarios"), env=env)
    yield url
    stop(process)


@pytest.fixture(scope="session", params=["ollama", "openai"])
def mock_v1(request):
    """The mock-ollama binary serving the fixtures, its /v1 in one flavour: (flavour, base URL)."""
    process, url = start(
        "mock-ollama",
        "--time-scale", "0",
        "--fixtures", str(ROOT / "fixtures" / "scenarios"),
        "--flavor", request.param,
    )
    yield request.param, f"{url}/v1"
    stop(process)


@pytest.fixture
def fresh_mock_ollama_url():
    """A mock-ollama binary of this test's own (the built-in models), for tests that change its
    model list."""
    process, url = start("mock-ollama", "--time-scale", "0")
    yield url
    stop(process)


@pytest.fixture(scope="session")
def mock_exact_url():
    """The mock-ollama binary serving the fixtures in its exact flavour (`openai`), which plays
    OpenAI's Responses API with its response store and Anthropic's Messages API as documented."""
    process, url = start(
        "mock-ollama",
        "--time-scale", "0",
        "--fixtures", str(ROOT / "fixtures" / "scenarios"),
        "--flavor", "openai",
    )
    yield url
    stop(process)


@pytest.fixture(scope="session")
def mock_llamacpp_url():
    """The mock-ollama binary in its `llamacpp` flavour, which plays llama.cpp's `llama-server`
    on `/v1/responses` and `/v1/messages`."""
    process, url = start(
        "mock-ollama",
        "--time-scale", "0",
        "--fixtures", str(ROOT / "fixtures" / "scenarios"),
        "--flavor", "llamacpp",
    )
    yield url
    stop(process)


@pytest.fixture(scope="session")
def mock_vllm_url():
    """The mock-ollama binary in its `vllm` flavour, which plays vLLM's `/v1/responses` (its
    store disabled, as vLLM starts by default) and its `/v1/messages` converter."""
    process, url = start(
        "mock-ollama",
        "--time-scale", "0",
        "--fixtures", str(ROOT / "fixtures" / "scenarios"),
        "--flavor", "vllm",
    )
    yield url
    stop(process)


# The weather tool as the Responses API takes it: flat, no `function` wrapper.
WEATHER_RESPONSES_TOOL = {"type": "function", **WEATHER_TOOL["function"]}

# The weather tool as Anthropic's Messages API takes it.
WEATHER_MESSAGES_TOOL = {
    "name": WEATHER_TOOL["function"]["name"],
    "description": WEATHER_TOOL["function"]["description"],
    "input_schema": WEATHER_TOOL["function"]["parameters"],
}
