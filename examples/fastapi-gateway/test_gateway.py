"""The gateway's test suite: mock-ollama as its backend, the conformance runner as its judge.

Needs the toolkit's wheel (`pip install llm_gateway_toolkit-*.whl`): its pytest plugin gives the
`mock_ollama` and `conformance` fixtures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

import httpx
import pytest
from llm_gateway_toolkit import ConformanceReport, MockOllama

HERE = Path(__file__).parent

#: What the strict profile still flags, each a SHOULD (README.md, "What strict still flags").
STRICT_FLAGS = ["NS-005", "NS-008", "REQ-006", "REQ-009", "REQ-010"]

Gateway = Callable[..., str]


@pytest.fixture
def gateway(mock_ollama: MockOllama) -> Iterator[Gateway]:
    """Starts `uvicorn gateway:app` on a free port in front of the mock; returns its `/v1` root.
    `gateway(broken="fastapi-validation")` starts it with that bug turned on."""
    started: list[subprocess.Popen[str]] = []

    def start(broken: Optional[str] = None) -> str:
        env = {**os.environ, "OLLAMA_URL": mock_ollama.url}
        if broken:
            env["GATEWAY_BREAK"] = broken
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gateway:app", "--host", "127.0.0.1", "--port", "0"],
            cwd=HERE, env=env, stderr=subprocess.PIPE, text=True,
        )
        started.append(process)
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        for line in process.stderr:
            found = re.search(r"running on (http://\S+)", line)
            if found:
                # Keep reading its log, so that a full pipe never stalls it.
                threading.Thread(target=process.stderr.read, daemon=True).start()
                return found.group(1) + "/v1"
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"the gateway did not start (exit status {process.poll()})")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_the_gateway_passes_the_compat_profile(
    gateway: Gateway, conformance: Callable[..., ConformanceReport]
) -> None:
    report = conformance(gateway(), profile="compat", mock_faults=True)
    report.assert_conformant()


def test_strict_flags_only_the_documented_shoulds(
    gateway: Gateway, conformance: Callable[..., ConformanceReport]
) -> None:
    report = conformance(gateway(), profile="strict", mock_faults=True, capability_repeats=0)
    assert [verdict.id for verdict in report.failures] == STRICT_FLAGS, report.table
    assert all(verdict.severity == "SHOULD" for verdict in report.failures)


def test_fastapis_own_validation_errors_fail_the_compat_profile(
    gateway: Gateway, conformance: Callable[..., ConformanceReport]
) -> None:
    # The tutorial's version: no handler for RequestValidationError, so FastAPI answers
    # `422 {"detail": [...]}`, not OpenAI's envelope.
    report = conformance(
        gateway(broken="fastapi-validation"), profile="compat", capability_repeats=0
    )
    assert [verdict.id for verdict in report.failures] == ["ERR-001", "ERR-002", "ERR-003"]
    with pytest.raises(AssertionError, match="3 of .* checks failed under the compat profile"):
        report.assert_conformant()


def test_requests_reach_ollamas_native_api(gateway: Gateway, mock_ollama: MockOllama) -> None:
    reply = httpx.post(
        gateway() + "/chat/completions",
        json={"model": "llama3.2", "max_tokens": 5,
              "messages": [{"role": "developer", "content": "Be brief."},
                           {"role": "user", "content": "Hello"}]},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["object"] == "chat.completion"
    (sent,) = mock_ollama.requests_to("/api/chat")
    assert sent["body"]["options"] == {"num_predict": 5}
    assert sent["body"]["messages"][0] == {"role": "system", "content": "Be brief."}
