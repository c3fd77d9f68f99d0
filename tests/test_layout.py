"""The layout of tests/: folders that mirror the packages, each a package, helpers in tests/support, and no test
module importing another (what they share is in tests.support, their fixtures in conftest.py files)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS / "support"
# What may sit at the top of tests/: everything else is in a folder named after the package it tests.
TOP_LEVEL = {"__init__.py", "conftest.py", "test_layout.py"}


def package_of(path: Path) -> str:
    """The dotted name of the package the file ``path`` under tests/ belongs to."""
    return ".".join(path.parent.relative_to(TESTS.parent).parts)


def imported_modules(source: str, package: str) -> set[str]:
    """Every module the code of a module of ``package`` imports, anywhere in it, relative imports made absolute;
    for ``from module import x`` both ``module`` and ``module.x`` (``x`` may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def forbidden(module: str) -> bool:
    """Whether ``module`` is one of the test tree's own modules that no test code may import: anything under
    ``tests`` but ``tests.support`` (and the ``tests`` package itself, which ``from tests import support`` names)."""
    if module == "tests" or module == "tests.support" or module.startswith("tests.support."):
        return False
    return module.startswith("tests.")


def python_files() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def test_the_checker_sees_every_kind_of_import() -> None:
    source = (
        "import tests.core.test_codec\n"
        "from tests import test_layout, support\n"
        "from tests.conftest import key\n"
        "from . import test_graph\n"
        "from .conftest import orchestrator\n"
        "from ..support.cli import dmg\n"
        "def later():\n"
        "    from tests.cli.test_main import hello\n"
    )
    imported = imported_modules(source, "tests.service")
    assert "tests.support.cli" in imported and not forbidden("tests.support.cli.dmg")
    assert set(filter(forbidden, imported)) == {
        "tests.core.test_codec",
        "tests.test_layout",
        "tests.conftest",
        "tests.conftest.key",
        "tests.service",
        "tests.service.test_graph",
        "tests.service.conftest",
        "tests.service.conftest.orchestrator",
        "tests.cli.test_main",
        "tests.cli.test_main.hello",
    }


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(TESTS)): sorted(filter(forbidden, imported_modules(path.read_text(), package_of(path))))
        for path in python_files()
    }
    assert len(offenders) > 50
    assert {path: modules for path, modules in offenders.items() if modules} == {}, "share through tests.support"


def test_every_folder_of_tests_is_a_package() -> None:
    folders = {path.parent for path in python_files()}
    assert TESTS / "core" in folders and SUPPORT in folders
    assert not sorted(str(folder) for folder in folders if not (folder / "__init__.py").is_file())


def test_test_modules_live_in_the_folder_of_their_package() -> None:
    assert not sorted(path.name for path in TESTS.glob("*.py") if path.name not in TOP_LEVEL)


def test_support_holds_helpers_and_no_tests() -> None:
    for path in SUPPORT.rglob("*.py"):
        assert not path.name.startswith("test_"), path
        tree = ast.parse(path.read_text())
        tests = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name.startswith(("test_", "Test"))
        ]
        assert not tests, path
        assert ast.get_docstring(tree), f"{path} says what it offers in a docstring"
