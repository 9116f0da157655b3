"""Checks of the package test's outputs (packaging/smoke_test.sh), run by the system's
python3 with nothing but the standard library: never the source tree's venv.

    python3 smoke_checks.py search FILE | scan FILE | ask FILE | api-search URL KEY
        | summary WORK TARBALL
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import urllib.error
import urllib.request

QUESTION_FACT = "1,200"  # the DOCX says: serviced every 1,200 operating hours


def check_search(path: str) -> None:
    top = json.load(open(path))["results"][:3]
    assert any(h["document"] == "R-intro.pdf" and h["page"] in (9, 10) for h in top), top
    print("search: the page of R-intro.pdf on quitting R is among the first three")


def check_scan(path: str) -> None:
    top = json.load(open(path))["results"][0]
    assert top["document"] == "scan.pdf" and top["page"] == 1 and "10.4 bar" in top["text"], top
    print("scan: the scanned page was read with OCR and is found")


def check_ask(path: str) -> None:
    answer = json.load(open(path))
    cited = [s for s in answer["sources"] if s["cited"]]
    assert answer["kind"] in ("answer", "quote") and QUESTION_FACT in answer["answer"], answer
    assert cited and cited[0]["document"] == "maintenance.docx", cited
    print(f"ask: {answer['kind']}, citing {cited[0]['document']}: {answer['answer'][:100]!r}")


def check_api_search(url: str, key: str) -> None:
    body = json.dumps({"query": "How do I quit R?", "k": 3}).encode()
    request = urllib.request.Request(f"{url}/v1/search", body,
                                     {"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("/v1/search answered without a key")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401, exc.code
    request.add_header("Authorization", f"Bearer {key}")
    results = json.load(urllib.request.urlopen(request))["hits"]
    assert results and results[0]["document"] == "R-intro.pdf", results
    print(f"serve: 401 without a key; with one, /v1/search finds R-intro.pdf page "
          f"{results[0]['page']}")


def _median(path: str, key: str) -> float | None:
    if not os.path.exists(path):
        return None
    rows = [json.loads(line) for line in open(path) if line.strip()]
    return round(statistics.median(row[key] for row in rows), 2) if rows else None


def summary(work: str, tarball: str) -> None:
    timings = dict(line.split(" ", 1) for line in open(f"{work}/timings").read().splitlines())
    folder = subprocess.run(["du", "-sb", "dist/enclave"], capture_output=True, text=True,
                            check=True).stdout.split()[0]
    result = {
        "bundle_mb": round(int(folder) / 1e6), "tarball_mb": round(os.path.getsize(tarball) / 1e6),
        "ingest_r_intro_and_docx_s": round(float(timings["ingest_s"]), 1),
        "ask_s": round(float(timings["ask_s"]), 1),
        "ask_nehalem_s": round(float(timings["nehalem_ask_s"]), 1),
        "cpu_backend_native": timings.get("native", ""),
        "cpu_backend_nehalem": timings.get("nehalem", ""),
        "bundle_window_s": _median(f"{work}/desktop.json", "window_s"),
        "bundle_ready_s": _median(f"{work}/desktop.json", "ready_s"),
        "source_window_s": _median(f"{work}/source-desktop.json", "window_s"),
        "source_ready_s": _median(f"{work}/source-desktop.json", "ready_s"),
    }
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/package.json", "w") as f:
        json.dump(result, f, indent=1)
    print("package test passed:", json.dumps(result, indent=1))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"search": check_search, "scan": check_scan, "ask": check_ask,
     "api-search": check_api_search, "summary": summary}[command](*args)
