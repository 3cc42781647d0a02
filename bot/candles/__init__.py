"""Price history: candle files read and written, and `liqwatch candles fetch` into a local cache.
May import: engine, bot.errors, bot.exchanges (ccxt clients for fetching).
"""
