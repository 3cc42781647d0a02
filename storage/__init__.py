"""Repository layer over SQLite (aiosqlite) or PostgreSQL (asyncpg): numbered migrations,
the dialects differing only inside this package (docs/storage.md)."""

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
