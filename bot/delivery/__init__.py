"""Getting messages out: the Channel port, the notifier and its pacing, operator messages.
May import: engine, storage, bot.errors, bot.render.
"""
