"""Secrets at rest and in logs: the credential vault (bound to accounts), log redaction.
May import: storage, bot.errors, bot.settings, bot.exchanges (credentials).
"""
