"""One writer per library: an OS lock on `writer.lock` in the data directory.

The program that opens a library for writing holds an exclusive `flock` on this file for
as long as its vault is open, and writes into it who it is (program, pid, host, since).
The lock belongs to the open file, so the operating system drops it when the holder
closes the library or ends in any way (Ctrl-C, a crash, kill -9): a dead program never
leaves a library locked, and nothing has to clean up. The file itself stays (removing a
lock file races with the next opener); what it says is only read while it is locked.

Another program then either refuses (it came to write: after a grace of a second, for
a lock held only for a moment) or opens the library read-only: it never migrates,
repairs or saves the index, never runs the ingest worker, and every write through the
facade raises `LibraryInUseError`, which names the holder and says what to do. A program
that only reads takes the lock only to migrate a library made by an older Enclave, and
only while nobody holds it; `current_holder` asks who writes without taking it.

The holder's file descriptor is not inherited by the processes it starts (Python opens
files close-on-exec; Enclave's helper processes are spawned, not forked).

On Windows, `msvcrt.locking` stands in for `flock` (untested): it locks the file's first
byte, which is why the holder's description starts after a newline.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import UserError

LOCK_FILE = "writer.lock"
GRACE_S = 1.0
"""How long an opening for writing waits for the lock before it refuses."""


@dataclass(frozen=True)
class Holder:
    """Who holds a library for writing, as it wrote into the lock file."""

    program: str
    pid: int
    host: str
    since: float

    def __str__(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"{self.program} (pid {self.pid}{where})" if self.pid else self.program

    @property
    def running(self) -> bool:
        """Whether its process still runs (True when that cannot be told: another host)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # exists, but belongs to someone else
            return True
        return True


class LibraryInUseError(UserError):
    """Another program writes this library: the write (or the opening for writing) is
    refused. `holder` is that program, when it could be told."""

    def __init__(self, message: str, holder: Holder | None = None):
        super().__init__(message)
        self.holder = holder


def default_program() -> str:
    """How a program that did not say what it is appears in a refusal."""
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "a Python program"


class WriterLock:
    """The held lock of one data directory. `acquire` (or `try_acquire`), then `release`."""

    def __init__(self, path: Path, fd: int, previous: bytes | None):
        self.path, self._fd, self._previous = path, fd, previous

    @classmethod
    def try_acquire(cls, data_dir: Path, program: str | None = None,
                    wait: float = 0.0) -> "WriterLock | None":
        """Take the lock (trying for up to `wait` seconds) and write who holds it; None if
        another open file holds it."""
        path = data_dir / LOCK_FILE
        existed = path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        try:
            while not _lock(fd):
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                time.sleep(0.05)
            previous = _read(fd) if existed else None
            holder = {"program": program or default_program(), "pid": os.getpid(),
                      "host": socket.gethostname(), "since": time.time()}
            _write(fd, json.dumps(holder).encode())
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, previous)

    @classmethod
    def acquire(cls, data_dir: Path, program: str | None = None,
                wait: float = GRACE_S) -> "WriterLock":
        """Take the lock, or raise LibraryInUseError naming the holder."""
        lock = cls.try_acquire(data_dir, program, wait)
        if lock is None:
            raise in_use(data_dir)
        return lock

    def release(self, undo: bool = False) -> None:
        """Let go of the lock. `undo` (an opening that failed) puts the file back as it was
        (or removes it if this lock made it), so that a failed opening changes no file."""
        if self._fd < 0:
            return
        try:
            if undo:
                if self._previous is None:
                    self.path.unlink(missing_ok=True)
                else:
                    _write(self._fd, self._previous)
        finally:
            fd, self._fd = self._fd, -1
            os.close(fd)  # closing the file is what releases the lock

    def __enter__(self) -> "WriterLock":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.release(undo=exc_type is not None)  # what failed leaves the file as it was


def current_holder(data_dir: Path) -> Holder | None:
    """Who holds the library for writing now (None: nobody), asked without taking the
    lock: a shared lock is refused only while someone holds the exclusive one."""
    try:
        fd = os.open(data_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if not _lock(fd, shared=True):
            return holder(data_dir) or Holder("another program", 0, socket.gethostname(), 0.0)
        _unlock(fd)
        return None
    finally:
        os.close(fd)


def holder(data_dir: Path) -> Holder | None:
    """Who the lock file says holds the library (read it while it is held: once the lock
    is free, it names the last holder). None if it says nothing readable."""
    path = data_dir / LOCK_FILE
    for _ in range(20):  # a holder writes itself in just after taking the lock
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            raw = _read(fd)
        finally:
            os.close(fd)
        try:
            data = json.loads(raw.decode("utf-8").strip() or "null")
        except (UnicodeDecodeError, ValueError):
            data = None
        if isinstance(data, dict):
            try:
                return Holder(str(data["program"]), int(data["pid"]), str(data["host"]),
                              float(data["since"]))
            except (KeyError, TypeError, ValueError):
                return None
        time.sleep(0.025)
    return None


def _advice(who: Holder | None) -> str:
    program = who.program if who else ""
    if "desktop" in program:
        return ("Do it in the desktop app (or through the LAN API it serves: Settings → LAN "
                "API), or close the app and try again.")
    if program.endswith("serve"):
        return ("Do it through its LAN API (with a read-write key), or stop it and try again.")
    return ("Try again once it has finished (or stop it). Reading (status, search, ask, "
            "backup) works meanwhile.")


def in_use(data_dir: Path) -> LibraryInUseError:
    """The refusal to open a library for writing while another program writes it."""
    who = holder(data_dir)
    return LibraryInUseError(
        f"The library in {data_dir} is open for writing by {who or 'another program'}: "
        f"only one program at a time may change a library. {_advice(who)}", who)


def read_only(data_dir: Path, opened_while: Holder | None) -> LibraryInUseError:
    """The refusal of a write in a library opened read-only (`opened_while` held it)."""
    if opened_while is None:
        return LibraryInUseError(
            "This library was opened read-only here (for reading): nothing can be changed "
            "through it. Open it again for writing to change it.")
    if not opened_while.running:
        return LibraryInUseError(
            f"This library was opened read-only because {opened_while} was writing to it; "
            "that program has ended since: run the command (or the app) again to change "
            "the library.", opened_while)
    return LibraryInUseError(
        f"This library is open read-only here: {opened_while} is writing to it, and only "
        f"one program at a time may change a library. {_advice(opened_while)}", opened_while)


@contextlib.contextmanager
def exclusive(path: Path, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on the file `path` (made, 0600, if missing) while the block runs,
    released when it ends or the process dies; with `wait` False the block is told at once
    (False) that another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        got = _lock(fd)
        while wait and not got:
            time.sleep(0.05)
            got = _lock(fd)
        yield got
    finally:
        os.close(fd)


def _read(fd: int) -> bytes:
    """What the file says, after its first byte (the one Windows locks)."""
    os.lseek(fd, 1, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _write(fd: int, text: bytes) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"\n" + text)


if os.name == "posix":
    import fcntl

    def _lock(fd: int, shared: bool = False) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

else:  # pragma: no cover - Windows, untested (no shared lock: the probe takes it a moment)
    import msvcrt

    def _lock(fd: int, shared: bool = False) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
