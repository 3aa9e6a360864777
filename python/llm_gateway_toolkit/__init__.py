"""mock-ollama and the conformance runner, from Python.

The wheel installs two commands, ``mock-ollama`` and ``conformance`` (no Rust toolchain needed),
and this package drives them:

- :class:`MockOllama` starts the mock on a free loopback port, gives its URL and request journal,
  and stops it;
- :func:`run_conformance` judges an OpenAI-compatible endpoint and returns a
  :class:`ConformanceReport`;
- the pytest plugin (:mod:`llm_gateway_toolkit.pytest_plugin`, loaded automatically) wraps both as
  the ``mock_ollama`` and ``conformance`` fixtures.
"""

from ._binaries import BinaryNotFound, binary
from ._conformance import ConformanceError, ConformanceReport, Verdict, run_conformance
from ._mock import MockOllama, MockOllamaError

__all__ = [
    "BinaryNotFound",
    "ConformanceError",
    "ConformanceReport",
    "MockOllama",
    "MockOllamaError",
    "Verdict",
    "binary",
    "run_conformance",
]
