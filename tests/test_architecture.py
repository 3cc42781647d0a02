"""The layers, enforced: the engine stays pure, storage sits on the engine alone, each package of
bot/ imports only what its ``__init__`` says, adapters never import each other or get imported
by the core, and only storage/ holds SQL.

See docs/architecture.md#layers for the map these rules draw.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE, STORAGE, BOT = ROOT / "engine", ROOT / "storage", ROOT / "bot"
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

#: The chat platforms' adapters: nothing but the composition roots may import them, and they
#: never import each other.
ADAPTERS = {"telegram", "discord", "console"}
#: What each unit of bot/ (a package, or a top-level module) may import of bot/, engine and
#: storage. The composition roots (runtime, demo, cli) may import anything but each other's
#: entry points. Read inner to outer.
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "settings": {"engine", "errors"},
    "render": {"engine"},
    "exchanges": {"engine", "errors"},
    "security": {"errors", "settings", "exchanges", "storage"},
    "analysis": {"engine", "errors", "render"},
    "delivery": {"engine", "errors", "render", "storage"},
    "monitor": {
        "engine", "errors", "settings", "storage", "exchanges", "security", "analysis",
        "delivery", "stream",
    },
    "alerting": {"engine", "errors", "storage", "monitor"},
    "accounts": {"engine", "errors", "storage", "exchanges", "security"},
    "digest": {"engine", "errors", "settings", "storage", "render", "exchanges", "accounts"},
    "chat": {
        "engine", "errors", "storage", "render", "exchanges", "delivery", "accounts",
        "alerting", "digest",
    },
    "telegram": {"engine", "errors", "settings", "render", "delivery", "chat"},
    "discord": {"engine", "errors", "settings", "render", "delivery", "chat"},
    "console": {"engine", "errors", "render", "delivery", "chat"},
    "ops": {
        "engine", "errors", "settings", "storage", "exchanges", "security", "accounts", "render",
    },
    "stream": {"engine", "errors", "exchanges", "delivery"},
    "candles": {"engine", "errors", "exchanges"},
    "backtest": {"engine", "errors", "analysis", "candles", "render"},
    "calibrate": {"engine", "errors", "candles", "digest"},
}  # fmt: skip
ROOTS = {"runtime", "demo", "cli", "__main__", "__init__"}
#: SQL statements in a string: only storage/ may hold them.
SQL = re.compile(
    r"\b(SELECT\s+[\w*(]|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|CREATE\s+(TABLE|INDEX)\b|PRAGMA\s+\w)"
)


def _allowed_engine() -> set[str]:
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


def _unit(path: Path) -> str:
    """The bot/ unit a file belongs to: its package, or its module name at the top."""
    parts = path.relative_to(BOT).with_suffix("").parts
    return parts[0]


def _layer_imports(path: Path) -> set[str]:
    """The units of bot/ (and engine, storage) a bot/ file imports, its own excluded."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" for a in node.names]
            modules = names if node.module == "bot" else [node.module]
        for module in modules:
            parts = module.split(".")
            if parts[0] == "bot" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] in ("engine", "storage"):
                found.add(parts[0])
    return found - {_unit(path)}


def _bot_files() -> list[Path]:
    return sorted(p for p in BOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_engine_imports_only_numpy_stdlib_and_itself() -> None:
    """Every engine module imports nothing outside numpy, the standard library and engine.*."""
    allowed = _allowed_engine()
    files = sorted(ENGINE.rglob("*.py"))
    assert files, "engine/ has no modules"
    offenders = {str(f.relative_to(ROOT)): sorted(_imports(f) - allowed) for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_storage_imports_only_the_engine_itself_and_its_driver() -> None:
    """storage/ sits on the engine alone: never bot/, never a network or chat library."""
    allowed = set(sys.stdlib_module_names) | {
        "engine",
        "storage",
        "aiosqlite",
        "asyncpg",
        "__future__",
    }
    offenders = {
        str(f.relative_to(ROOT)): sorted(_imports(f) - allowed) for f in STORAGE.rglob("*.py")
    }
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_every_bot_unit_imports_only_its_layers() -> None:
    """Each package imports what the table allows: adapters never import each other, and the
    core never imports an adapter (only the composition roots do)."""
    offenders: dict[str, list[str]] = {}
    for path in _bot_files():
        unit = _unit(path)
        if unit in ROOTS:
            continue
        assert unit in LAYERS, f"{unit} (bot/{path.relative_to(BOT)}) is not in the layer table"
        bad = sorted(_layer_imports(path) - LAYERS[unit])
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}
    for unit, allowed in LAYERS.items():
        assert not (allowed & ADAPTERS), f"{unit} may import an adapter"


def test_each_package_says_what_lives_there_and_what_it_may_import() -> None:
    """A package's __init__ docstring is the map: it names every layer the table allows it."""
    for init in sorted(BOT.glob("*/__init__.py")):
        unit = init.parent.name
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert doc, f"bot/{unit}/__init__.py has no docstring"
        if unit in LAYERS:
            assert "May import" in doc, f"bot/{unit}: say what it may import"
            missing = [name for name in LAYERS[unit] if name not in doc]
            assert missing == [], f"bot/{unit}/__init__.py does not name {missing}"


def _sql_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    texts = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return [text[:60] for text in texts if SQL.search(text)]


def test_only_storage_holds_sql() -> None:
    """SQL lives in storage/ (the seam a second database dialect plugs into)."""
    found = {
        str(path.relative_to(ROOT)): hits
        for path in [*_bot_files(), *sorted(ENGINE.rglob("*.py"))]
        if (hits := _sql_strings(path))
    }
    assert found == {}


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import asyncio\nfrom storage import db\nfrom . import model\n", {"asyncio", "storage"}),
    ],
)
def test_the_engine_check_catches_an_impure_import(
    tmp_path: Path, source: str, caught: set[str]
) -> None:
    """The import scan sees asyncio, aiosqlite and outer-layer imports (so the test can fail)."""
    module = tmp_path / "impure.py"
    module.write_text(source)
    assert _imports(module) - _allowed_engine() == caught


def test_the_sql_check_catches_a_query(tmp_path: Path) -> None:
    """A query string is found; prose that merely says "select" or "update" is not."""
    module = tmp_path / "query.py"
    module.write_text(
        'Q = "SELECT id FROM alerts WHERE x = ?"\nP = "select the account, then update its label"\n'
    )
    assert _sql_strings(module) == ["SELECT id FROM alerts WHERE x = ?"]
