"""Where the wheel's commands are."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path


class BinaryNotFound(RuntimeError):
    """The command is neither beside this Python nor on ``PATH``."""


def binary(name: str) -> str:
    """The path of ``mock-ollama`` or ``conformance``.

    ``$MOCK_OLLAMA_BIN`` / ``$CONFORMANCE_BIN`` win when set; then the scripts directory of the
    running Python (where ``pip install`` put them, even when the venv is not activated); then
    ``PATH``.
    """
    override = os.environ.get(name.upper().replace("-", "_") + "_BIN")
    if override:
        return override
    scripts = sysconfig.get_path("scripts")
    if scripts:
        beside = Path(scripts) / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise BinaryNotFound(
        f"`{name}` is not installed beside {scripts} nor on PATH: pip install llm-gateway-toolkit"
    )
