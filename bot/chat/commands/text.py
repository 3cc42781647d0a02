"""What every command is called and says: usage lines, examples, menu summaries, hints.

One table per purpose, shared by the parser's error messages, /help and the platforms'
command menus (Telegram setMyCommands, Discord slash-command descriptions).
"""

from __future__ import annotations

#: One usage line per command: error messages and /help show the same text.
USAGE: dict[str, str] = {
    "start": "/start",
    "help": "/help [command]",
    "link": "/link <venue> <apiKey> <secret> [passphrase]",
    "watch": "/watch <venue> <wallet address>",
    "unlink": "/unlink <account>",
    "accounts": "/accounts",
    "positions": "/positions [account]",
    "risk": "/risk [account]",
    "stress": "/stress [asset] <±pct>",
    "alerts": "/alerts",
    "alert": "/alert add <rule> | /alert rm|pause|resume <rule id>",
    "ack": "/ack <alert id|all>",
    "snooze": "/snooze <alert id|all> <duration>",
    "quiet": "/quiet <from>-<to> [time zone] [critical|all] | /quiet off",
    "why": "/why <alert id>",
    "silence": "/silence <matchers…> <duration> | /silence | /silence rm <id>",
    "share": "/share <account>",
    "unshare": "/unshare <account>",
    "digest": "/digest [now | subscribe [accounts…] at HH:MM [zone] | unsubscribe]",
    "connect": "/connect [code | list | remove <platform or id>]",
    "chart": "/chart exposure|ladder|equity [account]",
}
#: A correct example where the usage line alone leaves room for doubt.
EXAMPLE: dict[str, str] = {
    "link": "/link binanceusdm <apiKey> <secret>",
    "watch": "/watch hyperliquid 0x1234…abcd",
    "stress": "/stress BTC -10%",
    "alert": "/alert add liq<5% BTC critical",
    "ack": "/ack 12",
    "snooze": "/snooze 12 1h",
    "quiet": "/quiet 22:00-07:00 Europe/Paris",
    "why": "/why 12",
    "silence": "/silence kind=liq symbol=BTC 2h",
    "connect": "/connect ABCD-EFGH-JKMN-PQRS",
}
#: What to say when a command lacks its argument.
MISSING: dict[str, str] = {
    "chart": "Say which chart: exposure, ladder or equity.",
    "link": "Give the venue, the API key and its secret (and passphrase if the venue has one).",
    "watch": "Give the venue and the wallet address to watch.",
    "unlink": "Say which account to unlink, by its label.",
    "share": "Say which of your accounts to share here, by its label.",
    "unshare": "Say which of your accounts to stop showing here, by its label.",
    "stress": "Give the price move in percent, and optionally the asset.",
    "alert": "Say which rule: its id, like 12.",
    "ack": "Say which alert to acknowledge: its id, like 12, or all.",
    "snooze": "Say which alert to snooze (its id, or all) and for how long.",
    "quiet": "Give the quiet window, like 22:00-07:00, or off.",
    "why": "Say which alert: its id, like 12.",
    "silence": "Say which silence: its id, like 3.",
    "connect": "Say which chat to remove: telegram, discord, or an id from /connect list.",
}
#: One short line per command: /help and the platforms' command menus (Telegram setMyCommands).
SUMMARY: dict[str, str] = {
    "start": "Register and take the short tour",
    "help": "List the commands, or explain one",
    "link": "Link an exchange account with a read-only API key (private chat only)",
    "watch": "Watch a public wallet address",
    "unlink": "Stop watching an account",
    "accounts": "List your linked accounts",
    "positions": "Open positions with distance to liquidation",
    "risk": "Portfolio risk: equity, exposure, leverage, closest liquidations",
    "stress": "What a price move would do to your positions",
    "alerts": "List your alert rules and firing alerts",
    "alert": "Add, remove, pause or resume an alert rule",
    "ack": "Acknowledge an alert: no more repeats",
    "snooze": "Snooze an alert (or all) for a while",
    "quiet": "Set quiet hours for this chat",
    "why": "Why an alert was (or was not) sent",
    "silence": "Silence alerts matching kind, symbol, account…",
    "share": "Show one of your accounts in this group (admins)",
    "unshare": "Stop showing one of your accounts in this group (admins)",
    "digest": "The daily exposure digest: now, or subscribe this chat at a time",
    "connect": "Use the same accounts and alerts on Telegram and Discord",
    "chart": "A chart now: exposure, liquidation ladder or 30-day equity",
}
RULE_HELP = (
    "Rules: <kind><op><threshold> [symbols] [info|warning|critical] [for N|for 90s] "
    "[clear <level>] [on <account>].\n"
    "Kinds: liq, prob, margin, roe, funding (%); leverage (x); pnl, exposure, "
    "account_exposure, price (USD, k/m allowed); blind and auth take no comparison.\n"
    "Examples: liq<5% BTC critical · margin>80% · price<60000 BTC/USDT:USDT · "
    "pnl<-500 for 3 · blind on main"
)
