"""Telegram's HTML parse mode, checked strictly enough to catch unescaped user input.

Telegram rejects a message whose HTML it cannot parse with 400 "can't parse entities". The
fake mirrors that for the rules that matter to an adapter: only the documented tags, balanced
nesting, and no bare ``<`` or ``&`` outside a tag or a supported entity.
"""

from __future__ import annotations

import re

from tests.fakes.telegram.model import ApiError, bad_request

#: Tags Telegram accepts in HTML mode, with the attributes each may carry.
ALLOWED: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}
_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
#: Telegram supports only these named entities, plus every numeric one.
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")


def check_html(text: str) -> None:
    """Raises the 400 Telegram gives for ``text`` in HTML parse mode, or returns if it parses."""
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            pos = _tag(text, pos, stack)
        elif char == "&":
            entity = _ENTITY.match(text, pos)
            if entity is None:
                raise _cant_parse(f"Unsupported HTML entity at byte offset {_offset(text, pos)}")
            pos = entity.end()
        else:
            pos += 1
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')


def _tag(text: str, pos: int, stack: list[str]) -> int:
    """Checks the tag starting at ``pos``, updates the open-tag stack, returns the next index."""
    match = _TAG.match(text, pos)
    if match is None:
        raise _cant_parse(f"Unexpected start tag at byte offset {_offset(text, pos)}")
    closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
    if name not in ALLOWED:
        raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {_offset(text, pos)}')
    if closing:
        if not stack or stack[-1] != name:
            expected = f'"</{stack[-1]}>"' if stack else "no end tag"
            raise _cant_parse(
                f"Unmatched end tag at byte offset {_offset(text, pos)}, "
                f'expected {expected}, found "</{name}>"'
            )
        stack.pop()
    else:
        _check_attributes(name, attrs, _offset(text, pos))
        stack.append(name)
    return match.end()


def _check_attributes(name: str, attrs: str, offset: int) -> None:
    found = {m.group(1).lower(): (m.group(2) or "").strip("\"'") for m in _ATTR.finditer(attrs)}
    unknown = set(found) - ALLOWED[name]
    if unknown:
        attr = sorted(unknown)[0]
        raise _cant_parse(f'Unsupported attribute "{attr}" in tag "{name}" at byte offset {offset}')
    if name == "span" and found.get("class") != "tg-spoiler":
        raise _cant_parse(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "a" and not found.get("href"):
        raise _cant_parse(f'Tag "a" must have attribute "href" at byte offset {offset}')


def _offset(text: str, pos: int) -> int:
    """Telegram reports positions as UTF-8 byte offsets."""
    return len(text[:pos].encode())


def _cant_parse(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")
