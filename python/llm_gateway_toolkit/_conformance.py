"""The ``conformance`` command from Python: run it, read its ``report.json``."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from ._binaries import binary

#: The exit status of a run whose checks all passed (warnings and skips included).
PASSED = 0
#: The exit status of a run with at least one failed check.
FAILED = 1
#: The exit status of a run that could not judge anything (unreachable, not the API, bad args).
NOT_JUDGED = 2


class ConformanceError(RuntimeError):
    """Nothing could be judged: the endpoint is unreachable or not an OpenAI-compatible API, or
    the arguments are wrong (the runner's exit status 2)."""


@dataclass(frozen=True)
class Verdict:
    """One check's verdict: ``status`` is ``pass``, ``fail``, ``warn``, ``skip`` or
    ``unsupported``."""

    id: str
    group: str
    severity: str
    description: str
    status: str
    evidence: str


@dataclass
class ConformanceReport:
    """What one run found (its ``report.json``, plus the printed table)."""

    target: str
    model: str
    profile: str
    verdicts: List[Verdict]
    #: The table the runner printed: every check, its status and evidence.
    table: str
    #: Where report.json, junit.xml, report.md and transcript.json were written.
    report_dir: Path
    #: The model-capability scores, informational (``forced_tool_call``, ...).
    capabilities: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> List[Verdict]:
        """The verdicts that failed under the profile."""
        return [verdict for verdict in self.verdicts if verdict.status == "fail"]

    @property
    def failed(self) -> bool:
        """True when any check failed under the profile."""
        return bool(self.failures)

    def verdict(self, check_id: str) -> Optional[Verdict]:
        """The verdict of one check, e.g. ``"ERR-007"``."""
        return next((v for v in self.verdicts if v.id == check_id), None)

    def assert_conformant(self) -> None:
        """Raises ``AssertionError`` with the table and each failure's evidence when any check
        failed."""
        failures = self.failures
        if not failures:
            return
        lines = [
            f"{len(failures)} of {len(self.verdicts)} checks failed under the "
            f"{self.profile} profile",
            "",
            self.table,
        ]
        for verdict in failures:
            lines.append(f"{verdict.id} FAIL: {verdict.description}\n  {verdict.evidence}")
        raise AssertionError("\n".join(lines))


def run_conformance(
    base_url: str,
    *,
    model: str = "llama3.2",
    profile: str = "strict",
    mock_faults: bool = False,
    api_key: Optional[str] = None,
    expect_auth: bool = False,
    checks: Optional[str] = None,
    capability_repeats: int = 3,
    timeout_ms: Optional[int] = None,
    report_dir: Optional[Union[str, Path]] = None,
    extra_args: Sequence[str] = (),
) -> ConformanceReport:
    """Judges the OpenAI-compatible endpoint whose ``/v1`` root is ``base_url``.

    ``mock_faults`` sends the prompts mock-ollama's built-in fault rules answer, for an endpoint
    in front of the mock, so the error checks that need a failure are judged. ``extra_args``
    reaches any other option of ``conformance --help``. The reports go to ``report_dir`` (a
    temporary directory when not given). Raises :class:`ConformanceError` when nothing could be
    judged; failed checks are in the report, not an exception.
    """
    directory = Path(report_dir) if report_dir else Path(tempfile.mkdtemp(prefix="conformance-"))
    args = [
        binary("conformance"),
        "--base-url",
        base_url,
        "--model",
        model,
        "--profile",
        profile,
        "--capability-repeats",
        str(capability_repeats),
        "--report-dir",
        str(directory),
    ]
    if mock_faults:
        args.append("--mock-faults")
    if api_key is not None:
        args += ["--api-key", api_key]
    if expect_auth:
        args.append("--expect-auth")
    if checks:
        args += ["--checks", checks]
    if timeout_ms is not None:
        args += ["--timeout-ms", str(timeout_ms)]
    args += list(extra_args)
    finished = subprocess.run(args, capture_output=True, text=True, check=False)
    if finished.returncode not in (PASSED, FAILED):
        raise ConformanceError(
            finished.stderr.strip() or f"conformance exited with status {finished.returncode}"
        )
    report = json.loads((directory / "report.json").read_text())
    return ConformanceReport(
        target=report["target"],
        model=report["model"],
        profile=report["profile"],
        verdicts=[
            Verdict(
                id=verdict["id"],
                group=verdict["group"],
                severity=verdict["severity"],
                description=verdict["description"],
                status=verdict["status"],
                evidence=verdict["evidence"],
            )
            for verdict in report["verdicts"]
        ],
        table=finished.stdout,
        report_dir=directory,
        capabilities=list(report.get("capabilities", [])),
    )
