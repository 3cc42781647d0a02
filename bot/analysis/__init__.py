"""`liqwatch analyze` and the engine's input contract: snapshot files and ccxt dicts read in.
May import: engine, bot.errors, bot.render.
"""
