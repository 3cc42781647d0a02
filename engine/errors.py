"""Domain errors raised by the engine (everything else is reported as per-position diagnostics)."""


class EngineError(Exception):
    """Base class for engine errors."""


class SnapshotError(EngineError):
    """An account snapshot cannot be read at all (as opposed to one bad position in it)."""
