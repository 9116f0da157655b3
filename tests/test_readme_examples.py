"""The README's examples, run as a reader copies them.

Every fenced block of README.md is either run here, line by line and as written, by bash
(or, for the Python block, by Python), or named in NOT_RUN with the reason. Where a block
shows output (the `text` blocks, the `# →` comments), what the command prints is compared
with it. One temporary library, made by the README's own `enclave ingest`, serves every
block; one `enclave serve` (the README's line) serves the API examples.

Only what must differ on a test machine is changed, by `Reader.substitute` (the table is
in `Reader.__init__`): the port (ENCLAVE_API_PORT, and `localhost:8765` in the curl
lines), `--host 0.0.0.0` (loopback here), the folders /srv/enclave and /media/usb/enclave
(temporary ones), the passphrase `...`, the keys `enc_…`, the upload's job id, the
backup's time-stamped name and the old passphrase and recovery key. HOME is a temporary
folder: ~/manuals holds the tests' sample corpus and R-intro.pdf (the README's `ask`
output is from the R manual). `enclave` on PATH is a wrapper for `python -m app`, and
the library is a passphrase one (ENCLAVE_KEY_SOURCE=passphrase: no keyring here).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import PASSPHRASE, R_INTRO, make_docx, write_sample_corpus

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NEW_PASSPHRASE = "a fresh passphrase"

NOT_RUN = {
    "make run     # set up": "`make run` opens the desktop window and `make test` runs the "
                             "whole suite, this module included",
    "sha256sum -c enclave-": "needs the built bundle (dist/, ~25 min to build): `make "
                             "package-test` (packaging/smoke_test.sh) checks its SHA-256, "
                             "unpacks it and installs it with install.sh",
    "enclave keys create maintenance-team": "its curl lines are run as written by "
                                            "tests/api/test_key_scope.py, on a library with "
                                            "personal data in two collections (the key made "
                                            "as the line says, through the engine; the line "
                                            "itself is tests/api/test_cli_api.py's)",
    "engine/            headless core": "the source tree's layout, not a command",
}
"""Blocks not run here (a distinctive piece of each), and why."""

RUN = ("export ENCLAVE_PASSPHRASE=", "$ enclave ingest ~/manuals", "$ enclave ask \"Which",
       "enclave keys create reporting --scope", "KEY=enc_", "from openai import OpenAI",
       "enclave backup --to", "enclave vault rekey", "ENCLAVE_BACKUP_PASSPHRASE=")
"""The blocks the tests below run (a distinctive piece of each)."""


@dataclass
class Block:
    lang: str
    text: str
    line: int


def readme_blocks() -> list[Block]:
    text = README.read_text()
    return [Block(m.group(1), m.group(2), text[:m.start()].count("\n") + 1)
            for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)]


def block(piece: str) -> Block:
    found = [b for b in readme_blocks() if piece in b.text]
    assert len(found) == 1, f"{len(found)} README blocks hold {piece!r}"
    return found[0]


def commands(piece: str) -> list[str]:
    """The block's command lines, a line continued with a backslash joined to the next;
    blank lines and comment lines left out."""
    joined = block(piece).text.replace("\\\n", " ")
    return [line for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reader:
    """A person at a terminal: a HOME, `enclave` on PATH, and the variables set so far
    (`export X=…` and `X=…` lines hold for the lines after them, as in one shell)."""

    def __init__(self, root: Path):
        self.home, self.cwd, self.data = root / "home", root / "work", root / "srv" / "enclave"
        self.usb = root / "media" / "usb" / "enclave"
        for folder in (self.home, self.cwd):
            folder.mkdir(parents=True)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        wrapper = bin_dir / "enclave"
        wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m app \"$@\"\n")
        wrapper.chmod(0o755)
        self.port = free_port()
        self.env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(self.home),
                    "LANG": "C.UTF-8", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                    "ENCLAVE_DATA_DIR": str(self.data),
                    "ENCLAVE_CONFIG_DIR": str(root / "config"),
                    "ENCLAVE_KEY_SOURCE": "passphrase", "ENCLAVE_API_PORT": str(self.port)}
        self.variables = ""
        self.table: dict[str, str] = {
            "ENCLAVE_PASSPHRASE=...": f"ENCLAVE_PASSPHRASE='{PASSPHRASE}'",
            "localhost:8765": f"127.0.0.1:{self.port}",
            "http://enclave-host:8765": f"http://127.0.0.1:{self.port}",
            "--host 0.0.0.0": "--host 127.0.0.1",  # a test serves on loopback only
            "/srv/enclave": str(self.data),
            "/media/usb/enclave": str(self.usb),
        }

    def substitute(self, text: str) -> str:
        for written in sorted(self.table, key=len, reverse=True):
            text = text.replace(written, self.table[written])
        return text

    def run(self, line: str, expect: int = 0, env: dict | None = None
            ) -> subprocess.CompletedProcess:
        command = self.substitute(line)
        if re.fullmatch(r"(export )?\w+=\S+(\s+#.*)?", line):  # holds for the next lines
            self.variables += command + "\n"
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", self.variables + command],
                              cwd=self.cwd, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == expect, (line, done.stdout, done.stderr)
        return done

    def start(self, line: str) -> "Serving":
        return Serving(self, line)


class Serving:
    """A README `enclave serve` line, running until stopped; its banner read."""

    def __init__(self, reader: Reader, line: str):
        self.log = reader.cwd / f"serve-{time.monotonic_ns()}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", reader.variables + reader.substitute(line)], cwd=reader.cwd,
                env=reader.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while "Enclave API on" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{line}: no banner\n{self.output()}")
            time.sleep(0.1)
        self.banner = next(line for line in self.output().splitlines()
                           if line.startswith("Enclave API on"))

    def output(self) -> str:
        return self.log.read_text()

    def pids(self) -> set[int]:
        process = psutil.Process(self.process.pid)
        return {self.process.pid} | {p.pid for p in process.children(recursive=True)}

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    reader = Reader(tmp_path_factory.mktemp("readme"))
    manuals = write_sample_corpus(reader.home / "manuals")
    shutil.copy(R_INTRO, manuals / "R-intro.pdf")
    (reader.cwd / "queries.txt").write_text("relief valve pressure\nvisitor badge colour\n")
    (reader.cwd / "questions.txt").write_text(
        "At what pressure does the relief valve open?\nWhen are visitor badges returned?\n")
    return reader


@pytest.fixture(scope="module")
def command_line(reader):
    """The block under "Command line", line by line: what each printed."""
    printed = {}
    for line in commands("export ENCLAVE_PASSPHRASE="):
        if line.startswith("enclave docs queue"):
            leave_in_the_queue(reader, make_docx(reader.home / "stuck.docx", "Stuck", ["x"]))
        printed[line] = reader.run(line)
    return printed


def leave_in_the_queue(reader: Reader, path: Path) -> None:
    """What an interrupted `enclave ingest` leaves: the file waiting in the queue."""
    from engine import EnclaveService
    from engine.config import EngineConfig

    service = EnclaveService.open(EngineConfig(data_dir=reader.data), lambda new: PASSPHRASE,
                                  prefer_keyring=False)
    try:
        service.library.enqueue([path], "plant", start=False)
    finally:
        service.close()


class Lan:
    """The README's `enclave serve`, started when a test needs it, stopped when one needs
    the library to itself; the keys its block created."""

    def __init__(self, reader: Reader):
        self.reader, self.serving, self.keys = reader, None, {}

    def serve(self) -> Serving:
        if self.serving is None:
            self.serving = self.reader.start(next(
                line for line in commands("enclave keys create reporting --scope")
                if line.split("#")[0].strip() == "enclave serve"))
        return self.serving

    def stop(self) -> None:
        if self.serving is not None:
            self.serving.stop()
            self.serving = None


@pytest.fixture(scope="module")
def lan(reader, command_line):
    lan = Lan(reader)
    for line in commands("enclave keys create reporting --scope"):
        if line.startswith("enclave keys create"):
            lan.keys[line.split()[3]] = reader.run(line).stdout.strip()
    assert set(lan.keys) == {"reporting", "intake", "hr-bot"}
    reader.table["KEY=enc_…"] = f"KEY={lan.keys['reporting']}"
    reader.table["WRITE_KEY=enc_…"] = f"WRITE_KEY={lan.keys['intake']}"
    reader.table['api_key="enc_…"'] = f'api_key="{lan.keys["reporting"]}"'
    yield lan
    lan.stop()


def test_every_block_is_run_or_said_why_not():
    for found in readme_blocks():
        pieces = [p for p in (*RUN, *NOT_RUN) if p in found.text]
        assert len(pieces) == 1, f"README.md line {found.line}: {pieces or 'not run'}"


def test_the_command_line_examples_run_as_written(command_line, reader):
    out = {line.split("#")[0].strip(): done.stdout for line, done in command_line.items()}
    assert out["enclave ingest ~/manuals --collection plant"].startswith(
        "Done: 7 ingested (")
    first = out['enclave search "relief valve pressure" -k 5 --collection plant'].splitlines()
    assert first[0].startswith("1. pumps.pdf, p. 2  (score ") and len(first) == 10
    lines = [json.loads(line) for line in out["enclave search --queries queries.txt --json"]
             .splitlines()]  # the fields the README names
    assert [line["query"] for line in lines] == ["relief valve pressure", "visitor badge colour"]
    assert {"document", "page", "score", "chunk_id", "text"} <= lines[0]["results"][0].keys()
    answer = out['enclave ask "At what pressure does the relief valve open?"']
    assert "12.5 bar" in answer and "  [1] pumps.pdf, p. 2" in answer.splitlines()
    answers = [json.loads(line) for line in out["enclave ask --questions questions.txt --json"]
               .splitlines()]
    assert len(answers) == 2 and {"question", "answer", "kind", "refused", "reason",
                                  "sources", "timings"} <= answers[0].keys()
    assert {"n", "document", "page", "score", "text", "cited"} <= answers[0]["sources"][0].keys()
    assert "No failed files." in out["enclave docs list ; enclave docs failed ; enclave docs retry"]
    assert "Deleted pumps.pdf (id " in out["enclave docs delete pumps.pdf"]
    assert out["enclave docs queue ; enclave docs skip stuck.docx"] == (
        f"{reader.home / 'stuck.docx'}\nSkipped {reader.home / 'stuck.docx'}: it is no longer "
        "queued.\n")
    assert "hr  (0 documents)" in out["enclave collections create hr ; enclave collections list"]
    assert out["enclave sync plant"] == (  # pumps.pdf, deleted above, is back
        "plant: Done: 1 ingested (3 pages, 3 chunks), 6 unchanged, 0 failed.\n")
    status = out["enclave --data-dir /srv/enclave status"]
    assert status == out["enclave status"] and f"data_dir: {reader.data}\n" in status
    assert "documents: 7\n" in status and "access: read-only (no other program" in status


def test_one_writer_the_refusal_as_the_readme_shows_it(lan, reader):
    """The `text` block under "One writer per library", and `enclave status` beside it."""
    serving = lan.serve()
    command, shown = block("$ enclave ingest ~/manuals").text.splitlines()
    refused = reader.run(command.removeprefix("$ "), expect=2)
    pattern = re.escape(reader.substitute(shown)).replace("4242", r"(\d+)")
    pid = re.fullmatch(pattern, refused.stderr.strip())
    assert pid and int(pid.group(1)) in serving.pids(), (shown, refused.stderr)
    status = reader.run("enclave status").stdout
    assert f"access: read-only (enclave serve (pid {pid.group(1)}) was writing it)" in status


def test_the_ask_example_prints_what_the_readme_shows(command_line, reader):
    """The answer (SmolLM2 samples at temperature 0.1: its words may vary from run to run,
    though five runs printed the README's) cites the R manual's page as shown."""
    command, answer, cited = block('$ enclave ask "Which').text.splitlines()
    printed = reader.run(command.removeprefix("$ ")).stdout.splitlines()
    assert len(printed) == 2 and printed[1] == cited, printed
    assert "%*%" in printed[0] and printed[0].endswith("[1].") and "%*%" in answer, printed


def test_the_lan_api_examples_run_as_written(lan, reader):
    """The curl lines and the Python client, against the README's `enclave serve`."""
    serving = lan.serve()
    assert serving.banner.startswith(f"Enclave API on http://127.0.0.1:{reader.port} "
                                     "(this machine only)"), serving.banner
    lines = commands("KEY=enc_")
    for line in lines[:2]:  # KEY=…, WRITE_KEY=…
        reader.run(line)
    search, chat, follow_up, upload, job = lines[2:]
    hits = json.loads(reader.run(search).stdout)["hits"]
    assert len(hits) == 3 and (hits[0]["document"], hits[0]["page"]) == ("pumps.pdf", 2)
    streamed = [line[6:] for line in reader.run(chat).stdout.splitlines()
                if line.startswith("data: ")]
    assert streamed[-1] == "[DONE]" and "sources" in json.loads(streamed[-2])
    assert "spring shutdown" in "".join(
        json.loads(c)["choices"][0]["delta"].get("content") or "" for c in streamed[:-1])
    answered = json.loads(reader.run(follow_up).stdout)  # as the paragraph under it says
    assert answered["searched_for"] == "What pressure does it open at? (relief valve)"
    assert ("pumps.pdf", 2) in [(s["document"], s["page"]) for s in answered["sources"]]
    for name in ("manual.pdf", "policy.docx"):  # the files the reader uploads
        shutil.copy(reader.home / "manuals" / name.replace("manual", "pumps"), reader.cwd / name)
    accepted = json.loads(reader.run(upload).stdout)
    assert accepted["id"] and accepted["files_total"] == 2
    reader.table["<id>"] = accepted["id"]
    for _ in range(600):
        state = json.loads(reader.run(job).stdout)
        if state["state"] == "done":
            break
        time.sleep(0.2)
    assert state["collection"] == "plant" and {f["state"] for f in state["files"]} <= {
        "indexed", "unchanged"}, state

    python = reader.substitute(block("from openai import OpenAI").text)
    done = subprocess.run([sys.executable, "-c", python], cwd=reader.cwd, env=reader.env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "spring shutdown" in done.stdout and "'document': 'pumps.pdf'" in done.stdout
    assert "badge" in done.stdout.rsplit("}]\n", 1)[1]  # streamed, after the sources


def test_the_serve_keys_and_audit_examples_run_as_written(lan, reader):
    """The rest of the LAN API's block: HTTPS with a generated and with a given certificate
    (the library to itself: one `enclave serve` at a time), the keys listed and one
    revoked, the audit log verified and exported."""
    lan.serve()  # its requests are in the audit log below
    lan.stop()
    lines = commands("enclave keys create reporting --scope")
    self_signed, given = [line for line in lines if line.startswith("enclave serve --host")]
    serving = reader.start(self_signed)
    try:
        assert f"on https://127.0.0.1:{reader.port} " in serving.banner, serving.banner
        assert httpx.get(f"https://127.0.0.1:{reader.port}/health", verify=False).is_success
    finally:
        serving.stop()
    for made, name in (("api-cert.pem", "site.pem"), ("api-key.pem", "site.key")):
        shutil.copy(reader.data / "tls" / made, reader.cwd / name)  # the site's certificate
    serving = reader.start(given)
    try:
        trusted = ssl.create_default_context(cafile=reader.cwd / "site.pem")
        assert httpx.get(f"https://127.0.0.1:{reader.port}/health", verify=trusted).is_success
    finally:
        serving.stop()
    listed, audit = [reader.run(line).stdout for line in lines
                     if line.startswith(("enclave keys list", "enclave audit"))]
    assert listed.startswith("hr-bot\tread-only\t") and "Revoked 'reporting'." in listed
    assert re.fullmatch(r"The audit log is intact: \d+ entries\.\n", audit), audit
    entries = int(re.search(r"\d+", audit).group(0))
    with (reader.cwd / "audit.csv").open(newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert len(rows) == entries and all(row["route"] for row in rows), rows[:3]


def test_the_backup_and_key_change_examples_run_as_written(command_line, lan, reader):
    """Backups (made, listed, verified, restored over the library), the key changed, and
    the older backup verified with the old passphrase and with the old recovery key, then
    restored with the old passphrase."""
    from engine import EnclaveService
    from engine.config import EngineConfig

    lan.stop()
    service = EnclaveService.open(EngineConfig(data_dir=reader.data), lambda new: PASSPHRASE,
                                  prefer_keyring=False, access="read")
    try:
        old_recovery_key = service.backups.recovery_key()  # as Settings → Backups shows it
    finally:
        service.close()
    printed = []
    for line in commands("enclave backup --to"):
        printed.append(reader.run(line).stdout)
        if len(printed) == 1:  # the backup made now stands for the README's
            name = re.search(r"enclave-backup-\d{8}-\d{6}", printed[0]).group(0)
            reader.table["enclave-backup-20261124-020000"] = name
    backup, listing, verify, restore = printed
    assert backup.startswith(f"Backed up and verified: {reader.usb / name} (")
    assert listing.startswith(f"{name}\t") and "key: passphrase" in listing
    assert verify.startswith(f"{name} is intact: ")
    assert restore.startswith(f"Restored {name} into {reader.data} (")

    rekey, = commands("enclave vault rekey")
    changed = reader.run(rekey, env={"ENCLAVE_NEW_PASSPHRASE": NEW_PASSPHRASE}).stdout
    assert "New recovery key" in changed
    reader.variables += f"export ENCLAVE_PASSPHRASE='{NEW_PASSPHRASE}'\n"
    when = re.search(r"changed on (\S+ \S+) to", changed).group(1)
    asked = reader.run(f"enclave backups verify /media/usb/enclave/{name}",
                       expect=2).stderr
    shown = re.search(r'says "(This backup was made .*?)"', " ".join(
        README.read_text().split())).group(1).replace("2026-11-24 14:02", when)
    assert shown in asked, asked

    reader.table.update({"enclave-backup-…": name, "ENCLAVE_BACKUP_PASSPHRASE=…":
                         f"ENCLAVE_BACKUP_PASSPHRASE='{PASSPHRASE}'",
                         "<the old one>": f"'{PASSPHRASE}'", "1a2b3c4d-…": old_recovery_key})
    with_passphrase, with_recovery_key, restored = [
        reader.run(line).stdout for line in commands("ENCLAVE_BACKUP_PASSPHRASE=")]
    assert with_passphrase == with_recovery_key == verify
    assert restored.startswith(f"Restored {name} into {reader.data} (")
    assert f"The backup was made before the key was changed on {when}" in restored

