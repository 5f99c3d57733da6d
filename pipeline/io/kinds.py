"""What an input file is, from its bytes: text, a workbook, or something to refuse.

A register reaches the pipeline as whatever the user's program saved: a CSV
file, an xlsx or ods workbook, now and then a zipped or gzipped copy, a PDF, a
password-protected workbook, or a pipe (``--input <(...)``). Each is told here
from its first bytes (never from its name) so that the readers get only what
they can read and everything else is refused saying what it is and the fix.
"""

from __future__ import annotations

import stat
from pathlib import Path

from pipeline.errors import InputDataError

_UNPACK = {"gzip": "gunzip -k", "bzip2": "bunzip2 -k", "xz": "unxz -k"}


def refuse_special_file(path: Path) -> None:
    """Refuse, with the fix, an input that is not a regular file before it is opened.

    ``--input <(...)`` is a pipe: it can be read once only, and a read that
    sniffs its encoding first would leave nothing for the parse ("the file is
    empty"); a device or socket may never end.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file: check the path") from None
    except PermissionError:
        raise InputDataError(f"{path}: permission denied: make it readable") from None
    except OSError as exc:
        raise InputDataError(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InputDataError(f"{path}: is a folder, not a CSV file")
    if stat.S_ISFIFO(mode):
        raise InputDataError(
            f"{path}: is a pipe (as `--input <(...)` or a FIFO makes), which can be read "
            "only once: save it to a file first (`... > register.csv`) and pass that file"
        )
    if not stat.S_ISREG(mode):
        raise InputDataError(f"{path}: is a device or socket, not a file: pass a CSV file")


#: The first bytes of files that are not text, and what they are.
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",
    b"%PDF": "pdf",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "ole",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
}
#: The stream an encrypted (password-protected) Office file keeps its workbook in.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def file_kind(path: Path) -> str:
    """What an input file is: ``text``, ``xlsx``, ``ods`` or ``xls``, from its bytes.

    The name's suffix is not trusted (a CSV saved as ``.xlsx``, an xlsx renamed
    ``.csv``). Files that hold no table the pipeline can read, a compressed
    file, a zip that is not a spreadsheet, a PDF, a password-protected
    workbook, raise :class:`InputDataError` saying what they are and the fix.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    magic = next((kind for start, kind in _MAGIC.items() if head.startswith(start)), "text")
    if magic == "text":
        return "text"
    if magic == "zip":
        return _zip_kind(path)
    if magic == "ole":
        if _ENCRYPTED_PACKAGE in path.read_bytes():
            raise InputDataError(
                f"{path}: is a password-protected (encrypted) workbook, which cannot be read "
                "without its password: open it, remove the password (Excel: File > Info > "
                "Protect Workbook > Encrypt with Password, clear it), save, and pass that file"
            )
        return "xls"
    if magic == "pdf":
        raise InputDataError(
            f"{path}: is a PDF, not a table: export the register from the program that made "
            "it as CSV or xlsx (or copy the table into a spreadsheet) and pass that file"
        )
    raise InputDataError(
        f"{path}: is {magic}-compressed, not a CSV file: decompress it first "
        f"(e.g. `{_UNPACK.get(magic, '7z x')} {path}`) and pass the file inside"
    )


def _zip_kind(path: Path) -> str:
    """``xlsx`` or ``ods`` for a zip that is a workbook; other zips are refused, listed."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputDataError(f"{path}: a damaged zip file ({exc}): save it again") from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype.strip() == _ODS_MIMETYPE:
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument") or "word/document.xml" in names:
        raise InputDataError(
            f"{path}: is a text document, not a spreadsheet: put the register in a "
            "spreadsheet (xlsx, ods) or a CSV file"
        )
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    raise InputDataError(
        f"{path}: is a zip archive, not a CSV file or a spreadsheet "
        f"(it holds {shown or 'nothing'}): unzip it and pass the register inside"
    )
