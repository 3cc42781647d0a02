"""The composition root: the running service assembled once, `liqwatch run`, the supervisor.
May import anything in bot/ (it is where adapters and the core meet).
"""
