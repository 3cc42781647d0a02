"""Operator commands on the server: genkey, rotate-key, accounts add|list|remove.
May import: engine, storage, bot.errors, bot.settings, bot.exchanges, bot.security,
bot.accounts, bot.render.
"""
