"""`liqwatch backtest`: a position (or a stored account) replayed over candles through the
real alert pipeline, the vectorised sweep over many start times, and their chart and JSON.
May import: engine, bot.errors, bot.analysis (the snapshot contract), bot.candles (candle
files and the cache), bot.render (notice text).
"""
