"""The console adapter: the demo's terminal session and its Channel.
May import: engine, bot.errors, bot.render, bot.delivery, bot.chat.
"""
