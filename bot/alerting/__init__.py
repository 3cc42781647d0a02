"""The alert stage a poll runs, and the alert use cases (rules, ack, snooze, silences, why).
May import: engine, storage, bot.errors, bot.monitor (the poll event).
"""
