"""The Telegram adapter: python-telegram-bot 22 on liqwatch's own event loop (long polling)."""
