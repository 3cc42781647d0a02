"""Errors raised by the storage layer on purpose (a rule broken, a schema it cannot use)."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for storage errors."""


class ConflictError(StorageError):
    """A write would break a uniqueness rule the caller can act on (e.g. a duplicate label)."""


class MigrationError(StorageError):
    """A schema migration could not be loaded or applied; the database keeps its old version."""


class SchemaTooNewError(MigrationError):
    """The database was written by a newer liqwatch than this one: opening it is refused."""


class StorageUnavailable(StorageError):
    """The database refused an operation for a reason that passes — locked by another writer
    past ``busy_timeout``, disk full, an I/O error. Nothing was written: retry later."""


class StorageCorrupt(StorageError):
    """The file is not a SQLite database, or its pages are damaged: restore a backup."""
