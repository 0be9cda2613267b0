"""Replaces one pack's section of models/README.md (from its heading, or between two marker
comments, up to the next section) and leaves the rest of the file as it is."""
from __future__ import annotations

import os
import re

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
README = os.path.join(REPO, "models", "README.md")


def replace_section(text: str, section: str, heading: str | None = None,
                    markers: tuple[str, str] | None = None) -> str:
    """text with the section put in place: between markers (kept) when given, else from the
    line `heading` to the next `## ` heading or marker comment (`<!-- `, which opens another
    section); appended at the end when absent."""
    section = section.rstrip("\n") + "\n"
    if markers:
        begin, end = markers
        body = begin + "\n" + section + end
        if begin in text and end in text:
            pre, rest = text.split(begin, 1)
            return pre + body + rest.split(end, 1)[1]
        return (text.rstrip() + "\n\n" if text.strip() else "# Model packs\n\n") + body + "\n"
    pat = re.compile(r"^" + re.escape(heading) + r"\n.*?(?=^## |^<!-- |\Z)", re.S | re.M)
    if pat.search(text):
        return pat.sub(lambda _: section + "\n", text).rstrip("\n") + "\n"
    return ((text.rstrip("\n") + "\n\n") if text.strip() else "# Model packs\n\n") + section


def write_section(section: str, heading: str | None = None, markers: tuple[str, str] | None = None,
                  readme: str = README) -> None:
    text = open(readme, encoding="utf-8").read() if os.path.exists(readme) else ""
    with open(readme, "w", encoding="utf-8") as fh:
        fh.write(replace_section(text, section, heading, markers))
    print(f"wrote {heading or markers[0]} in {readme}")
