"""Reading the user's text files and checking where outputs go, with one-line errors that name the file.

Every text file r1 reads (recipes, JSONL data, samples, logs) is UTF-8; bytes that are not say which file
and line hold them instead of ending in a UnicodeDecodeError traceback.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from r1.errors import R1Error


def read_text(path: str | Path, field: str | None = None) -> str:
    """The UTF-8 text of `path`; a file that is not UTF-8 is a one-line error naming file:line."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        where = f"{field}: " if field else ""
        raise R1Error(f"{where}{path}:{line}: not UTF-8 text (byte 0x{raw[err.start]:02x}); r1 reads "
                      "text files as UTF-8") from None


def text_lines(path: str | Path, field: str | None = None) -> list[str]:
    """The lines of a UTF-8 file, split at newlines only (str.splitlines would also split inside a
    JSON string at U+2028 and the like, which real data such as GSM8K holds)."""
    return read_text(path, field).split("\n")


def check_output_path(value: str, field: str = "output_dir") -> str:
    """An output directory that can be made: it is a directory or does not exist yet, no part of it is a
    file, and its nearest existing parent is writable. Checked when a config loads, before any work."""
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file, not a directory")
    parent = path
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent != path and not parent.is_dir():
        raise ValueError(f"{parent} is a file, so {path} cannot be a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{parent} is not writable")
    return value


OS_REASONS = {
    errno.EEXIST: "a file is in the way of a directory",
    errno.ENOTDIR: "a file is in the way of a directory",
    errno.EISDIR: "is a directory, not a file",
    errno.ENOENT: "not found",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
}


def describe_os_error(err: OSError) -> str | None:
    """One line for a failed file operation on a path (None for an OSError of another kind, which
    stays a bug report with its traceback)."""
    if err.filename is None or err.errno not in OS_REASONS:
        return None
    return f"{err.filename}: {OS_REASONS[err.errno]}"
