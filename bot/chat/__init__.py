"""Chat for every platform: who asks where, the command grammar, the conversation, replies.
May import: engine, storage, bot.errors, bot.render, bot.exchanges, bot.delivery,
bot.accounts, bot.alerting, bot.digest — never an adapter.
"""
