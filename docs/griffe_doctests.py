"""A Griffe extension for the API pages: docstring examples as code blocks.

kattn's docstrings show their examples as doctest lines (`>>> ...`, then
the expected output) after a line such as "Example:", where Markdown would
read the `>>>` as nested quotes. This extension wraps each run of example
lines, from a `>>>` line to the next blank line, in a ```pycon fence, and
turns the "Example..." line before it into plain bold text, so the example
stays a block of code on the page and is not parsed as a docstring section.
It also joins an argument list that wraps onto a second line
("num_heads, dropout,\n    key_dim: as in ...") into one line, which is how
Google-style parsers expect several arguments described together.
"""

import re

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)(Examples?\b.*:)\s*$")
_WRAPPED_NAMES = re.compile(r"^(\s+[\w, ]+,)\n\s+(?=[\w, ]+:)", re.MULTILINE)


def fence_doctests(text):
    """`text` with every doctest run fenced as ```pycon code."""
    lines, out, index = _WRAPPED_NAMES.sub(r"\1 ", text).splitlines(), [], 0
    while index < len(lines):
        line = lines[index]
        heading = _EXAMPLE_HEADING.match(line)
        if heading:
            out.append(f"{heading.group(1)}**{heading.group(2)}**")
            index += 1
            continue
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while index < len(lines) and lines[index].strip():
                block.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index].lstrip())
                index += 1
            out += [indent + "```pycon", *(indent + b for b in block), indent + "```"]
            continue
        out.append(line)
        index += 1
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Apply `fence_doctests` to every docstring Griffe loads."""

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
