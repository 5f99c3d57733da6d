"""Control characters in user text: one rule for the terminal, one for output files.

Names and notes come from users' spreadsheets and from web answers; they may hold
NUL, terminal escape sequences (``ESC [ 2 J`` clears a screen, ``ESC ] 8`` makes a
link), bidirectional overrides that reorder what a reader sees, or stray C0/C1
bytes. The same characters count in both places (:data:`CONTROL`): every C0 and
C1 control except tab, line feed and carriage return, DEL, and the Unicode
bidirectional embedding/override/isolate marks.

* The terminal (every ``camps`` message, ``review --list``, log lines) shows each
  one as a visible escape (``\\u001b``, ``\\u202e``): the sequence is inert and a
  reviewer still sees that the name holds it (:func:`for_terminal`).
* The files the export stage writes (GeoPackage, GeoJSON, by-class GeoJSON,
  Linked Places, ``unresolved.csv``) get U+FFFD REPLACEMENT CHARACTER for each
  (:func:`for_files`), the same in every file: GDAL cuts a string at NUL, so
  left alone a name would be short in the GeoPackage and GeoJSON and whole in
  the Linked Places file. The stage CSVs keep the user's text as it was.

Imports nothing of the pipeline.
"""

from __future__ import annotations

import re

#: What counts as a control character in user text (see the module docstring).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The terminal also must not see a bare CR (it rewrites the line it is on).
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    # \uXXXX, as JSON writes it: the same in a message and in `camps lookup --json`
    return f"\\u{ord(match.group()):04x}"


def for_terminal(text: str) -> str:
    """``text`` safe to print: each control character as a visible escape.

    >>> for_terminal("チタ\\x1b[2J\\x00 ok\\n\\tnext")
    'チタ\\\\u001b[2J\\\\u0000 ok\\n\\tnext'
    """
    return _TERMINAL.sub(_escape, text)


def for_files(text: str) -> str:
    """``text`` as every output file holds it: each control character as U+FFFD.

    >>> for_files("Чита\\x00 2\\x1b[0m")
    'Чита\\ufffd 2\\ufffd[0m'
    """
    return CONTROL.sub("\ufffd", text)


def has_control(text: str) -> bool:
    """Whether :func:`for_files` would change ``text``.

    >>> has_control("Чита"), has_control("a\\u202eb")
    (False, True)
    """
    # every character CONTROL matches is one str.isprintable refuses (Cc, Cf), and
    # that test is twice as fast as the search over a row's 2 KB of text
    return not text.isprintable() and CONTROL.search(text) is not None
