"""The daily digest: its content, text, charts, cash flows and scheduled jobs.
May import: engine, storage, bot.errors, bot.settings, bot.render, bot.exchanges, bot.accounts
(which accounts a chat may see).
"""
