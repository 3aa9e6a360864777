"""pytest fixtures for gateways under test: ``mock_ollama`` and ``conformance``.

Loaded automatically once the wheel is installed (entry point ``pytest11``)::

    @pytest.mark.mock_ollama(flavor="openai")
    def test_my_gateway_speaks_openai(mock_ollama, conformance):
        with start_my_gateway(upstream=mock_ollama.url) as gateway:
            conformance(gateway.url + "/v1", mock_faults=True).assert_conformant()
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

from ._conformance import ConformanceReport, run_conformance
from ._mock import MockOllama


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mock_ollama(**options): how the mock_ollama fixture starts the mock: fixtures=[paths], "
        "scenario={...}, flavor='ollama'|'openai'|'llamacpp'|'llama-cpp-python'|'vllm', strict=, time_scale=, seed=",
    )


@pytest.fixture
def mock_ollama(request: pytest.FixtureRequest) -> Iterator[MockOllama]:
    """A ``mock-ollama`` on a free loopback port for one test, stopped after it.

    Options come from the test's ``@pytest.mark.mock_ollama(...)`` marker and, for indirect
    parametrization, from ``request.param`` (a dict); see :class:`MockOllama`.
    """
    options: Dict[str, Any] = {}
    marker = request.node.get_closest_marker("mock_ollama")
    if marker is not None:
        options.update(marker.kwargs)
    options.update(getattr(request, "param", None) or {})
    with MockOllama(**options) as mock:
        yield mock


@pytest.fixture
def conformance(tmp_path: Path) -> Callable[..., ConformanceReport]:
    """The conformance runner: ``conformance(base_url, profile="compat", mock_faults=True)``
    returns a :class:`ConformanceReport`; its ``assert_conformant()`` fails the test with the
    table. Arguments as :func:`llm_gateway_toolkit.run_conformance`; the reports (``junit.xml``
    among them) go to the test's ``tmp_path``, one directory per run, unless ``report_dir`` says
    otherwise."""
    runs = itertools.count(1)

    def run(base_url: str, **options: Any) -> ConformanceReport:
        options.setdefault("report_dir", tmp_path / f"conformance-{next(runs)}")
        return run_conformance(base_url, **options)

    return run
