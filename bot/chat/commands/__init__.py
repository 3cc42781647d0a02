"""The command grammar: one record per command, its words, usage and help text.
May import: engine, bot.errors, bot.exchanges (the venue names a command offers).
"""
