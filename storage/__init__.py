"""Repository layer over SQLite (aiosqlite): one database file, numbered migrations."""

from storage.db import Database, Transaction
from storage.errors import (
    ConflictError,
    MigrationError,
    SchemaTooNewError,
    StorageCorrupt,
    StorageError,
    StorageUnavailable,
)

__all__ = [
    "ConflictError",
    "Database",
    "MigrationError",
    "SchemaTooNewError",
    "StorageCorrupt",
    "StorageError",
    "StorageUnavailable",
    "Transaction",
]
