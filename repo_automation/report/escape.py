"""Escaping untrusted text (titles, names, paths, messages) before it goes into Markdown or an issue body.

Rendered Markdown on GitHub accepts inline HTML and turns `@name` into a notification and `#123` into a
link, so outside text is escaped: Markdown punctuation is backslash-escaped, `<`/`>`/`&` become entities,
and `@` gets a zero-width joiner so nobody is pinged by a finding's title.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
ZWJ = "\u200d"


def escape_markdown(text: object, *, max_len: int | None = None) -> str:
    """Make `text` inert in GitHub-flavoured Markdown: no formatting, HTML, links or @mentions."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    if max_len is not None and len(s) > max_len:
        s = s[: max_len - 1] + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _MENTION.sub("@" + ZWJ, s)
    return s.replace("\n", " ")


def escape_code(text: object) -> str:
    """Text as an inline code span that nothing inside can close: the fence is one backtick longer than the
    longest run of backticks in the text (CommonMark), padded with a space where the text touches it."""
    s = "" if text is None else str(text).replace("\r", " ").replace("\n", " ")
    if not s:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"
