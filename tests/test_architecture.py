"""The engine stays pure: numpy, the standard library (no I/O, no asyncio) and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"
ALLOWED_THIRD_PARTY = {"numpy"}
#: Standard-library modules that mean I/O, concurrency or a clock: the engine takes none.
FORBIDDEN_STDLIB = {
    "asyncio",
    "http",
    "multiprocessing",
    "selectors",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "threading",
    "urllib",
}


def _allowed() -> set[str]:
    stdlib = set(sys.stdlib_module_names) - FORBIDDEN_STDLIB
    return stdlib | ALLOWED_THIRD_PARTY | {"engine", "__future__"}


def _imports(path: Path) -> set[str]:
    """Top-level module names imported by ``path`` (relative imports count as engine)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("engine" if node.level else (node.module or "").split(".")[0])
    return names


def test_engine_imports_only_numpy_stdlib_and_itself() -> None:
    """Every engine module imports nothing outside numpy, the standard library and engine.*."""
    allowed = _allowed()
    files = sorted(ENGINE.rglob("*.py"))
    assert files, "engine/ has no modules"
    offenders = {str(f.relative_to(ENGINE.parent)): sorted(_imports(f) - allowed) for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_the_check_catches_an_impure_import(tmp_path: Path) -> None:
    """The import scan sees asyncio, aiosqlite and outer-layer imports (so the test can fail)."""
    module = tmp_path / "impure.py"
    module.write_text("import asyncio\nfrom storage import db\nfrom . import model\n")
    assert _imports(module) - _allowed() == {"asyncio", "storage"}
