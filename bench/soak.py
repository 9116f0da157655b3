"""Soak: mixed traffic on the LAN API from many clients for a bounded time while backups run.

`enclave serve` runs in its own process over a small real library (Debian's R-intro and
the tests' sample corpus). CLIENTS threads send, for SECONDS: searches (most), answers
(two clients only, so that the generation queue is never full by design), document and
collection listings, /health and /metrics, uploads of small unique notes and deletions of
notes uploaded earlier. Meanwhile `enclave backup` runs every BACKUP_EVERY_S seconds
(read-only, beside the server). The server's resident memory is sampled each second.

At the end: any 5xx is a failure; every accepted upload (202, job done) must be found by
its unique sentence, and every deleted note must be gone from search and from the
document list. Figures go to bench/results/soak.json.

    .venv/bin/python bench/soak.py [SECONDS] [CLIENTS]       (make soak: 600 s, 32 clients)
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import PASSPHRASE, R_MANUALS, open_service, write_results  # noqa: E402
from bench.api_load import free_port  # noqa: E402

BACKUP_EVERY_S = 60.0
QUESTIONS = ["How do I quit R?", "What does tapply do?", "How are factors stored?",
             "At what pressure does the relief valve open?"]


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    work = Path(tempfile.mkdtemp(prefix="enclave-soak-"))
    data = work / "data"
    sys.path.insert(0, str(ROOT))
    from tests.conftest import write_sample_corpus

    service = open_service(data)
    try:
        service.library.ingest([R_MANUALS / "R-intro.pdf", write_sample_corpus(work / "corpus")])
        key = service.access.create_key("soak", "read-write")[1]
    finally:
        service.close()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "ENCLAVE_KEY_SOURCE": "passphrase",
           "ENCLAVE_API_REQUESTS_PER_MINUTE": "100000", "HF_HUB_OFFLINE": "1",
           "ENCLAVE_BACKUP_DIR": str(work / "backups")}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data), "serve",
                               "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    if not server.stdout.readline():  # "listening on ...", or it ended
        sys.exit(f"enclave serve did not start (exit code {server.wait()})")
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # until it listens and its models are loaded
        try:
            if httpx.get(f"{url}/ready", headers={"Authorization": f"Bearer {key}"}
                         ).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []
    accepted: dict[str, str] = {}  # job id -> unique sentence
    deleted: list[tuple[int, str]] = []
    rss: list[int] = []
    backups: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + seconds

    def record(response: httpx.Response, what: str) -> None:
        with lock:
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{what}: {response.status_code} {response.text[:200]}")

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=300) as http:
            while time.monotonic() < deadline:
                roll = rng.random()
                if n < 2:  # the two answering clients
                    record(http.post("/v1/query", json={"question": rng.choice(QUESTIONS)}),
                           "query")
                elif roll < 0.70:
                    record(http.post("/v1/search", json={"query": rng.choice(QUESTIONS),
                                                         "k": 5}), "search")
                elif roll < 0.78:
                    record(http.get("/v1/documents"), "documents")
                elif roll < 0.82:
                    record(http.get("/health"), "health")
                elif roll < 0.85:
                    record(http.get("/metrics"), "metrics")
                elif roll < 0.93:
                    token = f"soak{n}x{rng.randrange(10**9)}"
                    sentence = f"The note {token} records the valve check of crew {n}."
                    response = http.post("/v1/documents", files=[
                        ("files", (f"{token}.txt", sentence.encode()))])
                    record(response, "upload")
                    if response.status_code == 202:
                        with lock:
                            accepted[response.json()["id"]] = token
                else:
                    listed = http.get("/v1/documents").json().get("documents", [])
                    notes = [d for d in listed if d["name"].startswith(f"soak{n}x")]
                    if notes:
                        victim = rng.choice(notes)
                        response = http.delete(f"/v1/documents/{victim['id']}")
                        record(response, "delete")
                        if response.status_code == 200:
                            with lock:
                                deleted.append((victim["id"], victim["name"][:-4]))

    def sample() -> None:
        process = psutil.Process(server.pid)
        next_backup = time.monotonic() + BACKUP_EVERY_S / 2
        while not stop.wait(1.0):
            rss.append(process.memory_info().rss)
            if time.monotonic() >= next_backup:
                done = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data),
                                       "backup"], env=env, cwd=ROOT, capture_output=True,
                                      text=True)
                backups.append(done.returncode)
                if done.returncode != 0:
                    failures.append(f"backup: {done.stderr.strip()[-800:]}")
                next_backup = time.monotonic() + BACKUP_EVERY_S

    started = time.monotonic()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                      timeout=300) as http:
        for job_id in accepted:  # let the worker finish the uploads still queued
            while http.get(f"/v1/jobs/{job_id}").json().get("state") not in ("done", None):
                time.sleep(0.5)
        gone = {token for _, token in deleted}
        names = {d["name"] for d in http.get("/v1/documents").json()["documents"]}
        lost = [t for t in accepted.values() if t not in gone and not any(
            t in h["text"] for h in http.post("/v1/search", json={"query": t, "k": 3})
            .json()["hits"])]
        kept = [t for t in gone if f"{t}.txt" in names or any(
            t in h["text"] for h in http.post("/v1/search", json={"query": t, "k": 3})
            .json()["hits"])]
    server.terminate()
    server.wait(60)
    results = {
        "seconds": round(elapsed), "clients": clients, "requests": sum(statuses.values()),
        "requests_per_second": round(sum(statuses.values()) / elapsed, 1),
        "statuses": dict(sorted(statuses.items())), "server_errors": len(failures),
        "failures": failures[:20], "uploads_accepted": len(accepted),
        "uploads_not_found": lost[:20], "deleted": len(deleted),
        "deleted_still_found": kept[:20], "backups": len(backups),
        "backups_failed": sum(1 for code in backups if code),
        "server_rss_mb": {"first": round(rss[0] / 2**20) if rss else None,
                          "max": round(max(rss) / 2**20) if rss else None,
                          "last": round(rss[-1] / 2**20) if rss else None},
    }
    write_results("soak", results)
    print(json.dumps(results, indent=1))
    ok = not failures and not lost and not kept
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
