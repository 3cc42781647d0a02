"""Fake servers the real client libraries talk to in tests."""
