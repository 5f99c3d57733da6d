"""A text file's encoding: told from its bytes, checked when given, named in errors."""

from __future__ import annotations

import codecs
import logging
import stat
from pathlib import Path
from typing import TextIO

from pipeline.errors import InputDataError

logger = logging.getLogger("pipeline.io")


#: ISO-2022-JP's escape sequences (JIS X 0208 in, ASCII or JIS-Roman back): 7-bit text
#: that is valid UTF-8, so only these bytes tell it from a UTF-8 file.
_ISO2022_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(B", b"\x1b(J")


def _utf16_without_bom(data: bytes) -> str | None:
    r"""``utf-16-le`` or ``utf-16-be`` for bytes that are UTF-16 without a byte-order mark.

    A CSV header is mostly ASCII, so in UTF-16 every other byte of it is NUL: on
    the odd offsets for little-endian, the even ones for big-endian. Text with
    NUL bytes in that pattern that decodes cleanly is taken for UTF-16.

    >>> _utf16_without_bom("katakana\nチタ\n".encode("utf-16-le"))
    'utf-16-le'
    >>> _utf16_without_bom("katakana\nチタ\n".encode("utf-8")) is None
    True
    """
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    sample = sample[: len(sample) // 2 * 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    for name, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros >= half * 0.3 and others <= half * 0.05:
            try:
                data[: len(data) // 2 * 2].decode(name)
            except UnicodeDecodeError:
                continue
            return name
    return None


def _japanese_share(text: str) -> float:
    """The share of a decoded text's non-ASCII characters that are kana, kanji or Japanese
    punctuation, the test of which legacy Japanese encoding a file was saved in.

    The same bytes often decode without error as both Shift-JIS and EUC-JP, but
    EUC-JP read as Shift-JIS gives half-width katakana and rare kanji in a jumble;
    the right reading gives full-width kana.
    """
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 0.0
    good = sum(
        1
        for c in wide
        if "\u3040" <= c <= "\u30ff" or "\u3000" <= c <= "\u303f" or "\uff01" <= c <= "\uff5e"
    )
    return good / len(wide)


def _sniff_encoding(data: bytes) -> str | None:
    """Name the likely encoding of bytes that are not UTF-8, for the error message.

    >>> [_sniff_encoding("ハバロフスク".encode(name)) for name in ("euc_jp", "cp932")]
    ['euc_jp', 'cp932']
    >>> _sniff_encoding("Хабаровск".encode("cp1251"))
    'cp1251'
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    japanese: list[tuple[float, str]] = []
    for candidate in ("cp932", "euc_jp"):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        japanese.append((_japanese_share(text), candidate))
    best = max(japanese, default=(0.0, ""), key=lambda pair: pair[0])
    if best[0] >= 0.5:
        return best[1]
    try:
        data.decode("cp1251")
    except UnicodeDecodeError:
        return best[1] or None
    return "cp1251"


_ENCODING_NAMES = {
    "cp932": "Shift-JIS",
    "euc_jp": "EUC-JP",
    "cp1251": "Windows-1251",
    "iso2022_jp": "ISO-2022-JP",
}


def _auto_encoding(head: bytes, path: Path, say: bool = True) -> str:
    """The encoding to read a file in when none is given: what its first bytes prove.

    UTF-16 (with or without BOM) and ISO-2022-JP cannot be mistaken for anything
    else and are read as such (logged, with ``say``); everything else is read as
    UTF-8, with or without BOM, and a legacy encoding is named by :func:`decode`'s
    error.
    """
    note = logger.info if say else logger.debug
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        note("%s: UTF-16 with a byte-order mark; reading it as UTF-16", path)
        return "utf-16"
    bare = _utf16_without_bom(head)
    if bare:
        note("%s: UTF-16 without a byte-order mark; reading it as %s", path, bare)
        return bare
    if any(escape in head for escape in _ISO2022_ESCAPES):
        note("%s: ISO-2022-JP (JIS escapes); reading it as ISO-2022-JP", path)
        return "iso2022_jp"
    return "utf-8-sig"


#: How much of a file is looked at to tell its encoding and its separator.
_HEAD_BYTES = 65_536


def check_encoding(encoding: str) -> str:
    """The codec's name, or :class:`InputDataError` for an unknown or non-text codec.

    ``rot13``, ``base64``, ``zlib`` and the like are codecs but not text encodings:
    Python refuses to open a file with them (a ``LookupError`` deep in ``open``).

    >>> check_encoding("Shift_JIS")
    'shift_jis'
    >>> check_encoding("rot13")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipeline.errors.InputDataError: --encoding rot13: not a text encoding ...
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        raise InputDataError(f"--encoding {encoding}: unknown encoding name") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputDataError(
            f"--encoding {encoding}: not a text encoding (a codec that turns text into text "
            "or bytes into bytes): name the encoding the file was saved in, such as utf-8, "
            "cp932 or euc_jp"
        )
    return info.name


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode a file's bytes: UTF-8 (with or without BOM), BOM'd UTF-16, or ``encoding``.

    >>> decode("カンスク".encode("utf-8-sig"), Path("x.csv"))
    'カンスク'
    """
    if encoding:
        try:
            return data.decode(check_encoding(encoding))
        except UnicodeDecodeError as exc:
            raise InputDataError(
                f"{path}: cannot be read as {encoding} (byte {exc.start}): "
                "check the encoding the file was saved in"
            ) from None
    auto = _auto_encoding(data[:_HEAD_BYTES], path)
    if auto != "utf-8-sig":
        try:
            return data.decode(auto)
        except UnicodeDecodeError as exc:  # a UTF-16 mark, then bytes that are not
            raise InputDataError(
                f"{path} begins as {auto.upper()} text but is not (bad bytes at offset "
                f"{exc.start}): re-save it as UTF-8, or pass --encoding NAME"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = _sniff_encoding(data)
        hint = f" (looks like {_ENCODING_NAMES.get(guess, guess)})" if guess else ""
        fix = f" or pass --encoding {guess}" if guess else " or pass --encoding NAME"
        raise InputDataError(
            f"{path} is not UTF-8{hint}, first bad byte at offset {exc.start}: "
            f"re-save it as UTF-8{fix}"
        ) from None


def _open_text(path: Path, encoding: str | None, say: bool = True) -> TextIO:
    """Open a CSV file as text: ``encoding``, BOM'd UTF-16, or UTF-8 with or without BOM.

    A FIFO, socket or device is refused, not read: it could wait for ever (issue 21).
    ``say``: log the encoding found (not when the file is opened again).
    """
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputDataError(
            f"{path}: not a regular file (a pipe, socket or device): save the data to a "
            "file and pass that"
        )
    if encoding:
        return path.open(encoding=check_encoding(encoding), newline="")
    with path.open("rb") as raw:
        head = raw.read(_HEAD_BYTES)
    return path.open(encoding=_auto_encoding(head, path, say), newline="")
