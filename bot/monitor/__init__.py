"""The poll loop and what runs beside it: the book re-priced at streamed marks, summaries,
ledger, watchdogs, the venues' reports, retention. May import: engine, storage, bot.errors,
bot.settings, bot.exchanges, bot.security, bot.analysis, bot.delivery, bot.stream (its records).
"""
