"""Reading the files a user names: regular files only, never more bytes than a limit.

A FIFO or a device (``/dev/stdin``, ``/dev/zero``) would block or never end and a
folder is no file, so each is refused with its own message rather than reported as
"not found" or read forever. The file is opened without blocking and checked on the
open descriptor, so nothing can swap it between the check and the read.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from insight.errors import FileTooLargeError, UnreadableFileError, UnsafeInputError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_size(size: int, limit: int, name: str | None, setting: str) -> None:
    """FileTooLargeError when ``size`` bytes exceed ``limit`` (``setting`` names the limit's setting)."""
    if size > limit:
        label = f"'{name}'" if name else "the input"
        raise FileTooLargeError(
            f"{label} is {size:,} bytes ({size / 2**20:.1f} MB); the limit is {limit:,} bytes ({setting}).",
            hint="Split the file or raise the limit.",
        )


def read_regular_file(path: str | Path, *, what: str, limit: int, setting: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Parameters
    ----------
    path : the file.
    what : what the file is, for messages ("feedback file", "config file").
    limit : the most bytes accepted.
    setting : the setting or constant that sets ``limit``, named in the message.

    Raises
    ------
    UnreadableFileError
        The path does not exist, is a folder or cannot be opened.
    UnsafeInputError
        The path is a FIFO, device or socket.
    FileTooLargeError
        The file holds more than ``limit`` bytes.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise UnreadableFileError(f"{what.capitalize()} not found: '{path}'.") from None
    except OSError as exc:
        raise UnreadableFileError(f"Cannot open the {what} '{path}': {exc.strerror or exc}.") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFileError(f"The {what} '{path}' is a folder, not a file.", hint="Name a file in it.")
        if not stat.S_ISREG(info.st_mode):
            kind = next((kind for test, kind in _KINDS if test(info.st_mode)), "not a regular file")
            raise UnsafeInputError(f"The {what} '{path}' is {kind}; insight reads only regular files.")
        check_size(info.st_size, limit, path.name, setting)
        data = os.read(fd, limit + 1)  # a file that grows (or a /proc file of size 0) still stops here
        while data and len(data) <= limit and (more := os.read(fd, limit + 1 - len(data))):
            data += more
    except OSError as exc:
        raise UnreadableFileError(f"Cannot read the {what} '{path}': {exc.strerror or exc}.") from None
    finally:
        os.close(fd)
    check_size(len(data), limit, path.name, setting)
    return data
