"""The wheel as a user meets it: the commands beside this Python, and the pytest fixtures."""

from __future__ import annotations

import json
import subprocess
import sysconfig
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict

import pytest

from llm_gateway_toolkit import ConformanceError, MockOllama, MockOllamaError, binary


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post(url: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def chat(mock: MockOllama, text: str) -> str:
    reply = post(
        mock.url + "/api/chat",
        {"model": "llama3.2", "stream": False, "messages": [{"role": "user", "content": text}]},
    )
    content: str = reply["message"]["content"]
    return content


def test_both_commands_are_installed_beside_this_python() -> None:
    scripts = Path(sysconfig.get_path("scripts"))
    for name in ("mock-ollama", "conformance"):
        path = Path(binary(name))
        assert path.parent == scripts, f"{name} at {path}, not in {scripts}"
        version = subprocess.run([str(path), "--version"], capture_output=True, text=True)
        assert version.returncode == 0 and version.stdout.startswith(name), version


def test_the_mock_serves_ollamas_api_and_journals_each_request(mock_ollama: MockOllama) -> None:
    models = [model["name"] for model in get(mock_ollama.url + "/api/tags")["models"]]
    assert "llama3.2:latest" in models
    assert chat(mock_ollama, "Hello there")
    (entry,) = mock_ollama.requests_to("/api/chat")
    assert entry["method"] == "POST"
    assert entry["body"]["messages"] == [{"role": "user", "content": "Hello there"}]


@pytest.mark.mock_ollama(
    scenario={
        "models": [{"name": "llama3.2:latest"}],
        "rules": [{"match": {"last_user_contains": "ping"}, "reply": {"text": "pong"}}],
    }
)
def test_a_marker_scripts_the_mock(mock_ollama: MockOllama) -> None:
    assert chat(mock_ollama, "ping") == "pong"


def test_rules_added_at_run_time_answer_until_reset(mock_ollama: MockOllama) -> None:
    mock_ollama.add_rule({"match": {"last_user_contains": "marco"}, "reply": {"text": "polo"}})
    assert chat(mock_ollama, "marco") == "polo"
    mock_ollama.reset()
    assert mock_ollama.journal() == []
    assert chat(mock_ollama, "marco") != "polo"


def test_verify_holds_the_mock_to_each_rules_expected_count(mock_ollama: MockOllama) -> None:
    mock_ollama.add_rule(
        {"match": {"last_user_contains": "once"}, "reply": {"text": "done"}, "expect": 1}
    )
    with pytest.raises(MockOllamaError, match="expectations not met"):
        mock_ollama.verify()
    assert chat(mock_ollama, "once") == "done"
    mock_ollama.verify()


@pytest.mark.parametrize("mock_ollama", [{"flavor": "vllm"}], indirect=True)
def test_indirect_parametrization_picks_the_flavour(mock_ollama: MockOllama) -> None:
    # vLLM's /v1/models names its owner "vllm".
    models = get(mock_ollama.url + "/v1/models")["data"]
    assert {model["owned_by"] for model in models} == {"vllm"}


def test_a_mock_that_cannot_start_says_why_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(MockOllamaError) as caught:
        MockOllama(fixtures=["/nonexistent/scenario.json"], startup_timeout=30).start()
    assert time.monotonic() - started < 10, "it failed when the mock exited, not at the deadline"
    message = str(caught.value)
    assert "it exited with status 1" in message, message
    assert "/nonexistent/scenario.json" in message, "its log tells why"


@pytest.mark.mock_ollama(flavor="openai")
def test_an_exactly_openai_endpoint_passes_strict(mock_ollama: MockOllama, conformance: Any) -> None:
    report = conformance(mock_ollama.url + "/v1", mock_faults=True, capability_repeats=0)
    report.assert_conformant()
    # The fault prompts reached the mock's built-in faults: the error checks were judged.
    for check in ("ERR-007", "ERR-008", "ERR-009", "ERR-010"):
        assert report.verdict(check).status == "pass", report.verdict(check)
    assert (report.report_dir / "junit.xml").is_file()
    assert report.report_dir.name == "conformance-1", "the reports are kept in the test's tmp_path"


def test_a_deviating_endpoint_fails_with_the_table(mock_ollama: MockOllama, conformance: Any) -> None:
    # The default flavour is Ollama's own OpenAI layer, deviations included.
    report = conformance(mock_ollama.url + "/v1", capability_repeats=0)
    assert report.failed
    with pytest.raises(AssertionError) as caught:
        report.assert_conformant()
    message = str(caught.value)
    assert message.startswith(
        f"{len(report.failures)} of {len(report.verdicts)} checks failed under the strict profile"
    )
    assert "CHECK       SEV    STATUS" in message
    for verdict in report.failures:
        assert f"{verdict.id} FAIL: " in message


def test_an_unreachable_endpoint_is_an_error_not_a_report(conformance: Any) -> None:
    with pytest.raises(ConformanceError, match="cannot reach"):
        conformance("http://127.0.0.1:9/v1", capability_repeats=0)
