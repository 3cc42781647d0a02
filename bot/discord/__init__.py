"""The Discord adapter: discord.py 2.7 slash commands on liqwatch's own event loop."""
