"""The Telegram adapter: python-telegram-bot in, Conversation replies out, a Channel.
May import: engine, bot.errors, bot.settings, bot.render, bot.delivery, bot.chat.
"""
