"""Hostile files: one batch of them fails file by file, each with its reason and within its
budget, while the good files beside them are ingested and memory stays bounded."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import threading
import time

import psutil
import pytest

from engine.errors import OverBudgetError
from engine.ingest.parsers import ReadLimits
from engine.ingest.reader import ReaderProcess
from tests.conftest import R_INTRO
from tests.engine.hostile_files import make_good_files, make_hostile_corpus

READ_TIMEOUT_S = 30.0


def _readers() -> list[psutil.Process]:
    """This process's reader children (started by multiprocessing's spawn)."""
    found = []
    for child in psutil.Process().children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


class PeakMemory:
    """Samples the resident memory of this process and of its reader children."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.start = self.me.memory_info().rss
        self.peak = self.reader_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.me.memory_info().rss)
            for child in _readers():
                try:
                    self.reader_peak = max(self.reader_peak, child.memory_info().rss)
                except psutil.Error:  # gone meanwhile
                    pass

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_a_hostile_batch_fails_file_by_file_and_the_good_files_go_in(open_service, config,
                                                                       tmp_path):
    folder = tmp_path / "batch"
    expected = make_hostile_corpus(folder)
    good = make_good_files(folder)
    assert len(expected) >= 20
    service = open_service(dataclasses.replace(config, read_timeout_s=READ_TIMEOUT_S))
    started: dict[str, float] = {}
    took: dict[str, float] = {}

    def progress(event) -> None:
        if event.stage == "parsing":
            started.setdefault(event.path, time.monotonic())
        elif event.final and event.path in started:
            took[event.path] = time.monotonic() - started[event.path]

    service.answers.search("warm up the embedding model", k=1)  # its memory is not the files'
    with PeakMemory() as memory:
        # the pipe is named on its own: a folder's walk passes over what is not a file
        report = service.library.ingest([folder, folder / "pipe.txt"], progress=progress)

    failed = dict(report.failed)
    for name, pattern in expected.items():
        path = str(folder / name)
        if pattern is None:
            assert path in report.ingested, (name, failed.get(path))
        else:
            assert path in failed, f"{name} was not refused"
            assert re.search(pattern, failed[path]), (name, failed[path])
    assert sorted(report.ingested) == sorted(
        [str(p) for p in good] + [str(folder / n) for n, p in expected.items() if p is None])
    assert service.library.pending() == 0  # nothing left to jam the next import
    assert all(seconds < READ_TIMEOUT_S + 5 for seconds in took.values()), took
    hits = service.answers.search("relief valve opens", k=3)
    assert hits and hits[0].document == "good.docx"
    # the reader is capped at its start + read_memory_mb; the worker only holds parsed text
    assert memory.reader_peak < 1.5 * 2**30, memory.reader_peak / 2**20
    assert memory.peak - memory.start < 600 * 2**20, (memory.peak - memory.start) / 2**20


REFERENCE_MANUAL = R_INTRO.parent / "fullrefman.pdf"
"""3,800 pages: about 5 s and 300 MB to read on this machine."""


@pytest.fixture
def reader_within():
    """A reader process with the given budgets (stopped after the test)."""
    readers = []

    def start(timeout_s: float, memory_mb: int) -> ReaderProcess:
        readers.append(ReaderProcess(ReadLimits(), timeout_s=timeout_s, memory_mb=memory_mb))
        return readers[-1]

    yield start
    for reader in readers:
        reader.close()


def _reads_the_next_file(reader: ReaderProcess, tmp_path) -> bool:
    return reader.read(tmp_path / "next.txt", b"the next file is read").length > 0


def test_the_reader_stops_past_its_time(reader_within, tmp_path):
    reader = reader_within(timeout_s=1, memory_mb=1024)
    with pytest.raises(OverBudgetError, match="longer than 1 s"):
        reader.read(REFERENCE_MANUAL)
    assert _reads_the_next_file(reader, tmp_path)


def test_the_reader_stops_past_its_memory(reader_within, tmp_path):
    reader = reader_within(timeout_s=60, memory_mb=40)
    with pytest.raises(OverBudgetError, match="more than 40 MiB"):
        reader.read(REFERENCE_MANUAL)
    assert _reads_the_next_file(reader, tmp_path)


def test_a_reader_killed_mid_file_fails_that_file_only(reader_within, tmp_path):
    reader = reader_within(timeout_s=60, memory_mb=1024)
    reader.read(tmp_path / "warm.txt", b"start the child")
    (child,) = _readers()
    threading.Timer(0.3, os.kill, (child.pid, signal.SIGKILL)).start()  # as the OOM killer would
    with pytest.raises(OverBudgetError, match="crashed the reader"):
        reader.read(REFERENCE_MANUAL)
    assert _reads_the_next_file(reader, tmp_path)
