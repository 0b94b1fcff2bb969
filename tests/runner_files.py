"""What the Actions runner does with our files, written from its documented behaviour (actions/runner
FileCommandManager): used to check that what we write is read back as we meant it."""

from __future__ import annotations


def parse_output_file(text: str) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT: `name=value` lines and `name<<DELIM` … `DELIM` blocks; the runner fails the
    step on a block that never ends, so this raises."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            out[line[:eq]] = line[eq + 1:]
            continue
        if heredoc <= 0:
            raise ValueError(f"invalid format {line!r}")
        name, delim = line[:heredoc], line[heredoc + 2:]
        value: list[str] = []
        while True:
            if i >= len(lines):
                raise ValueError(f"matching delimiter not found {delim!r}")
            nxt = lines[i]
            i += 1
            if nxt == delim:
                break
            value.append(nxt)
        out[name] = "\n".join(value)
    return out


def unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(s: str) -> str:
    return unescape_data(s.replace("%3A", ":").replace("%2C", ","))


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """`::name k=v,k=v::message` → (name, properties, message), unescaped like the runner."""
    assert line.startswith("::"), line
    head, sep, message = line[2:].partition("::")
    assert sep, line
    name, _, props_text = head.partition(" ")
    props = {}
    for part in props_text.split(",") if props_text else []:
        k, _, v = part.partition("=")
        props[k] = unescape_property(v)
    return name, props, unescape_data(message)
