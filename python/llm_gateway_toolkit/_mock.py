"""The ``mock-ollama`` command as a Python object: started on a free port, stopped when done."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any, Deque, Dict, List, Mapping, Optional, Sequence, Type, Union

from ._binaries import binary

JsonObject = Dict[str, Any]

_LISTENING = re.compile(r"listening on (https?://\S+)")


class MockOllamaError(RuntimeError):
    """The mock did not start, or a control request failed."""


class MockOllama:
    """A ``mock-ollama`` process on ``127.0.0.1`` and a port the system picked.

    Without ``fixtures`` or ``scenario`` it serves its built-in scenario: ``llama3.2``,
    ``qwen3:0.6b``, ``llava:7b`` and ``nomic-embed-text``, generated replies, and faults for
    prompts containing ``[fault:429]``, ``[fault:503]``, ``[fault:mid-stream-error]``, ... .
    ``flavor`` picks whose OpenAI dialect ``/v1`` speaks (``ollama``, ``openai``, ``llamacpp``
    (llama.cpp's ``llama-server``), ``llama-cpp-python``,
    ``vllm``). ``time_scale`` multiplies every scripted delay; 0 (the default here, as in the
    Rust library) answers without sleeping.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        fixtures: Sequence[Union[str, Path]] = (),
        scenario: Optional[Mapping[str, Any]] = None,
        flavor: Optional[str] = None,
        strict: bool = False,
        time_scale: float = 0.0,
        seed: int = 0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 15.0,
    ) -> None:
        self._fixtures = [str(path) for path in fixtures]
        self._scenario = dict(scenario) if scenario is not None else None
        self._flavor = flavor
        self._strict = strict
        self._time_scale = time_scale
        self._seed = seed
        self._extra_args = list(extra_args)
        self._startup_timeout = startup_timeout
        self._process: Optional[subprocess.Popen[str]] = None
        self._log: Deque[str] = deque(maxlen=200)
        self._workdir: Optional[tempfile.TemporaryDirectory[str]] = None
        self._url: Optional[str] = None

    # Life cycle

    def start(self) -> "MockOllama":
        """Starts the process and waits until it listens."""
        if self._process is not None:
            raise MockOllamaError("this mock is already started")
        args = [binary("mock-ollama"), "--listen", "127.0.0.1:0"]
        args += ["--time-scale", str(self._time_scale), "--seed", str(self._seed)]
        fixtures = list(self._fixtures)
        if self._scenario is not None:
            self._workdir = tempfile.TemporaryDirectory(prefix="mock-ollama-")
            written = Path(self._workdir.name) / "scenario.json"
            written.write_text(json.dumps(self._scenario))
            fixtures.append(str(written))
        for fixture in fixtures:
            args += ["--fixtures", fixture]
        if self._flavor:
            args += ["--flavor", self._flavor]
        if self._strict:
            args.append("--strict")
        args += self._extra_args
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={"RUST_LOG": "info", **_inherited_env()},
        )
        self._process = process
        found: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._drain, args=(process, found), daemon=True).start()
        try:
            url = found.get(timeout=self._startup_timeout)
        except queue.Empty:
            url = None
        if not url:
            # No address: it exited (its log ended), or it is still silent at the deadline.
            exit_status = process.poll()
            self.stop()
            why = (
                f"it exited with status {exit_status}"
                if exit_status is not None
                else f"it said nothing of listening within {self._startup_timeout} s"
            )
            raise MockOllamaError(f"mock-ollama did not start: {why}; its log:\n{self.log}")
        self._url = url
        return self

    def _drain(self, process: "subprocess.Popen[str]", found: "queue.Queue[str]") -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._log.append(line.rstrip("\n"))
            match = _LISTENING.search(line)
            if match:
                found.put(match.group(1))
        # The log ended: the process is gone. A start still waiting learns it now.
        process.wait()
        found.put("")

    def stop(self) -> None:
        """Stops the process (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> "MockOllama":
        return self.start()

    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        error: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()

    # What it is

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: Ollama's API at the root, OpenAI's under ``/v1``."""
        if self._url is None:
            raise MockOllamaError("the mock is not started")
        return self._url

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, as ``OLLAMA_HOST`` takes it."""
        return self.url.split("://", 1)[1]

    @property
    def log(self) -> str:
        """Its last 200 log lines."""
        return "\n".join(self._log)

    # Control routes (mock-ollama/README.md, "Journal, control routes and expectations")

    def journal(self) -> List[JsonObject]:
        """Every request received, oldest first: ``seq``, ``method``, ``path``, ``headers``,
        ``body`` (parsed JSON), ``received_at_ms``, ``rule``, ``client_disconnected``."""
        entries = self._control("GET", "/_mock/requests")
        return list(entries) if isinstance(entries, list) else []

    def requests_to(self, path: str) -> List[JsonObject]:
        """The journal entries for one path (``/api/chat``, ``/v1/chat/completions``)."""
        return [entry for entry in self.journal() if entry.get("path") == path]

    def clear_journal(self) -> None:
        """Empties the journal."""
        self._control("DELETE", "/_mock/requests")

    def add_rule(self, rule: Mapping[str, Any]) -> None:
        """Appends one scenario rule (``match``, ``reply``, ``faults``, ``expect``)."""
        self._control("POST", "/_mock/rules", rule)

    def set_scenario(self, scenario: Mapping[str, Any]) -> None:
        """Replaces the whole scenario (models, timing, rules)."""
        self._control("PUT", "/_mock/scenario", scenario)

    def reset(self) -> None:
        """Back to the start-up scenario, with an empty journal."""
        self._control("POST", "/_mock/reset")

    def verify(self) -> None:
        """Raises :class:`MockOllamaError` when a rule's ``expect`` count was not met."""
        try:
            self._control("GET", "/_mock/expectations")
        except MockOllamaError as error:
            raise MockOllamaError(f"expectations not met: {error}") from None

    def _control(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise MockOllamaError(
                f"{method} {path}: HTTP {error.code} {error.read().decode(errors='replace')}"
            ) from None
        return json.loads(text) if text.strip() else None


def _inherited_env() -> Dict[str, str]:
    """This process's environment, but the mock's own log level: its start-up line is read."""
    return {key: value for key, value in os.environ.items() if key != "RUST_LOG"}
