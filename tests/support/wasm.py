"""The C fixture functions (``fixtures/functions/*.c``), compiled to WebAssembly once per test process.

:func:`function_wasm` runs ``fixtures/functions/build.sh`` the first time it is called (the script itself skips
modules that are up to date) and returns a module's bytes. A missing toolchain fails loudly with the script's
message: the tests need real modules compiled by clang, never stand-ins.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from tests.support.paths import FIXTURES

BUILD_SCRIPT = FIXTURES / "functions" / "build.sh"
BUILD_DIR = FIXTURES / "functions" / "build"


@functools.cache
def built_functions() -> Path:
    """Run ``build.sh`` (once) and return the directory of compiled modules."""
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return BUILD_DIR


def function_wasm(name: str) -> bytes:
    """The compiled fixture module ``name`` (``echo``, ``hostile``, ``counter``...)."""
    return (built_functions() / f"{name}.wasm").read_bytes()
