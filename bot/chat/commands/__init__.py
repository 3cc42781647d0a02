"""The commands: one spec per command (its record, parser, words, arguments and who may run it
where) in one registry, read by the parser, /help and every platform's command menu.
May import: engine, bot.errors, bot.exchanges (the venues a command offers), bot.alerting
(what a rule action is).
"""
