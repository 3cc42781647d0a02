"""Chat for every platform: who asks where, the command registry, the conversation (who may
run what where, then each command's handler), replies and the alert buttons' codec.
May import: engine, storage, bot.errors, bot.render, bot.exchanges, bot.delivery,
bot.accounts, bot.alerting, bot.digest — never an adapter.
"""
