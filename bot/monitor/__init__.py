"""The poll loop and what runs beside it: summaries, ledger, watchdogs, retention.
May import: engine, storage, bot.errors, bot.settings, bot.exchanges, bot.security,
bot.analysis, bot.delivery.
"""
