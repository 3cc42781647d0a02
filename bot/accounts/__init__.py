"""Account use cases: link, watch, list and unlink accounts, and the portfolio views.
May import: engine, storage, bot.errors, bot.exchanges, bot.security.
"""
