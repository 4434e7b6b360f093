"""Outside text made safe for a terminal: `clean(text)`.

Names, messages and conditions that come from a Git repo, a cluster, a container or a bundle may hold
terminal control sequences: ESC [2J clears the screen, OSC 8 draws a link whose target is not what it
shows, OSC 52 writes the clipboard, a CR or a bidi override makes a line read as something else. Every
piece of such text passes through `clean` before it reaches a terminal (ui's consoles do it for every
segment they print, logsetup for every log line), which turns each such character into visible
`\\xNN` (or `\\uNNNN`) text: nothing is dropped, so what the data really holds can still be read.

Kept as they are: `\\n` and `\\t` (layout, never a sequence by themselves) and all printable text.
"""

from __future__ import annotations

import re

# C0 controls but \t and \n, DEL, the C1 controls (U+0080-U+009F, 8-bit CSI/OSC among them), and the
# bidi marks, embeddings, overrides and isolates ("Trojan Source", CVE-2021-42574).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """`text` with every control character (but newline and tab) and bidi control shown as an escape."""
    if not _UNSAFE.search(text):  # the common case: nothing to do, no copy
        return text
    return _UNSAFE.sub(_visible, text)


def is_clean(text: str) -> bool:
    return _UNSAFE.search(text) is None
