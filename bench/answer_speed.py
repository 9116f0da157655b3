"""Answer speed: time to the first token and to the whole answer, and streaming speed
through the engine and the LAN API against raw llama-cpp-python, all in one run.

1. Answers (`service.answers.ask`, caches off) to the first answerable questions of
   questions.jsonl, with `source_excerpt_tokens=96` and with 0 (the model reads the
   whole sources: the default and the baseline), in alternating blocks: the median
   time to the first text shown (each sentence checked before it is shown), to the
   model's first token and to the whole answer.
2. Streaming, the same prompts (a passage of the manuals and a request to explain it) and
   the same sampling, in turn: raw llama-cpp-python (`Llama.create_chat_completion`,
   stream, the same GGUF, context and threads as the engine) against the engine's stream
   (`service.answers.chat`), then raw against the LAN API (`enclave serve --port 0` on
   loopback, `/v1/chat/completions` with `stream` and `rag: false`). Tokens per second
   are counted from the first streamed token to the last (tokens: the text tokenized by
   the raw model), so the prompt's reading is the time to the first token, apart.
3. Answers through the API (`/v1/chat/completions`, `stream`, `rag: true`): time to the
   first piece and to the end of the stream, on the same questions.

Ratios are of medians measured in this run. The raw baseline needs the model file, so
this script reads `engine.models` (besides the facade). The library (R-intro and R-data)
is kept in bench/.cache/answer-speed. Bounded: about 3-5 minutes on two cores.

    .venv/bin/python bench/answer_speed.py [--questions 24] [--streams 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import PASSPHRASE, R_MANUALS, open_service, write_results  # noqa: E402

CACHE = Path(__file__).parent / ".cache" / "answer-speed"
DOCUMENTS = ("R-intro.pdf", "R-data.pdf")
STREAM_TOKENS = 96
WARM_UP = "What is a data frame?"
EXPLAIN = "Explain the following passage in detail, step by step.\n\n{passage}"


@dataclasses.dataclass
class Timed:
    first_s: float | None = None
    """Seconds from the request to the first piece of text."""
    last_s: float | None = None
    text: str = ""

    def add(self, piece: str, started: float) -> None:
        if piece:
            now = time.perf_counter() - started
            self.first_s = now if self.first_s is None else self.first_s
            self.last_s = now
            self.text += piece


def questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (Path(__file__).parent / "questions.jsonl")
            .read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if not r.get("unanswerable")][:n]


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


class Raw:
    """llama-cpp-python alone: the engine's model file, context, threads and sampling."""

    def __init__(self, config):
        from llama_cpp import Llama

        from engine.models import generation_model_file

        path = generation_model_file(config.generation_model, config.data_dir / "models")
        threads = config.threads or os.cpu_count() or 1
        self.threads = threads
        self.llama = Llama(str(path), n_ctx=config.context_tokens, n_threads=threads,
                           n_threads_batch=threads, verbose=False)
        self.temperature = config.temperature

    def stream(self, messages: list[dict]) -> Timed:
        timed, started = Timed(), time.perf_counter()
        for chunk in self.llama.create_chat_completion(
                messages, max_tokens=STREAM_TOKENS, temperature=self.temperature,
                repeat_penalty=1.1, stream=True):
            timed.add(chunk["choices"][0]["delta"].get("content") or "", started)
        return timed

    def tokens_per_s(self, timed: Timed) -> float | None:
        tokens = len(self.llama.tokenize(timed.text.encode(), add_bos=False))
        if tokens < 2 or not timed.last_s or timed.last_s <= timed.first_s:
            return None
        return (tokens - 1) / (timed.last_s - timed.first_s)


def engine_chat(service, messages: list[dict]) -> Timed:
    timed, started = Timed(), time.perf_counter()
    for piece in service.answers.chat(messages, STREAM_TOKENS):
        timed.add(piece, started)
    return timed


def api_stream(client, body: dict) -> Timed:
    timed, started = Timed(), time.perf_counter()
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {"):
                choices = json.loads(line[6:]).get("choices") or [{}]
                timed.add(choices[0].get("delta", {}).get("content") or "", started)
    timed.last_s = time.perf_counter() - started  # the end of the stream: the whole answer
    return timed


def ask_blocks(service, asked: list[str], blocks: int) -> tuple[dict, object]:
    """Rows per configuration ("excerpts": 96 tokens a source, "whole_sources": the
    default and the baseline), asked in alternating blocks of the questions; returns the
    service last used."""
    configs = {"excerpts": dataclasses.replace(service.config, source_excerpt_tokens=96),
               "whole_sources": dataclasses.replace(service.config, source_excerpt_tokens=0)}
    rows: dict[str, list[dict]] = {name: [] for name in configs}
    size = -(-len(asked) // blocks)
    for b in range(blocks):
        for name, config in (list(configs.items()) if b % 2 == 0
                             else list(configs.items())[::-1]):
            service = service.reconfigured(config)
            service.answers.ask(WARM_UP).collect()  # the model loaded, the prompt's head read
            for question in asked[b * size:(b + 1) * size]:
                started = time.perf_counter()
                answer = service.answers.ask(question).collect()
                rows[name].append({"question": question, "kind": answer.kind,
                                   "whole_s": time.perf_counter() - started,
                                   "first_s": answer.timings.get("first_token"),
                                   "model_first_s": answer.timings.get("model_first_token")})
    return rows, service.reconfigured(configs["whole_sources"])


def summarise_asks(rows: list[dict]) -> dict:
    return {"answers": len(rows), "kinds": {k: sum(r["kind"] == k for r in rows)
                                            for k in ("answer", "quote", "refusal")},
            "first_text_p50_s": median(r["first_s"] for r in rows),
            "model_first_token_p50_s": median(r["model_first_s"] for r in rows),
            "whole_answer_p50_s": median(r["whole_s"] for r in rows)}


def compare(raw: Raw, other, prompts: list[list[dict]]) -> dict:
    """Raw and `other` (messages -> Timed) on each prompt in turn, the order alternating."""
    found: dict[str, list[Timed]] = {"raw": [], "other": []}
    for i, messages in enumerate(prompts):
        pair = [("raw", raw.stream), ("other", other)]
        for name, run in pair if i % 2 == 0 else pair[::-1]:
            found[name].append(run(messages))
    out = {}
    for name, timings in found.items():
        out[name] = {"first_token_p50_s": median(t.first_s for t in timings),
                     "tokens_per_s_p50": median(raw.tokens_per_s(t) for t in timings),
                     "tokens_p50": median(len(raw.llama.tokenize(t.text.encode(), add_bos=False))
                                          for t in timings)}
    out["tokens_per_s_ratio"] = ratio(out["other"]["tokens_per_s_p50"],
                                      out["raw"]["tokens_per_s_p50"])
    out["first_token_ratio"] = ratio(out["other"]["first_token_p50_s"],
                                     out["raw"]["first_token_p50_s"])
    return out


def start_server(data_dir: Path, key: str, threads: int):
    import httpx

    from bench.api_load import free_port

    port = free_port()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "ENCLAVE_KEY_SOURCE": "passphrase",
           "ENCLAVE_API_REQUESTS_PER_MINUTE": "100000", "HF_HUB_OFFLINE": "1",
           "ENCLAVE_ANSWER_CACHE_TTL_S": "0", "ENCLAVE_THREADS": str(threads)}
    server = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {key}"})
    server.stdout.readline()
    for _ in range(600):  # until the models are loaded
        try:
            if client.get("/ready").status_code == 200:
                return server, client
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=24,
                        help="questions asked per configuration")
    parser.add_argument("--streams", type=int, default=10, help="prompts streamed per comparison")
    parser.add_argument("--blocks", type=int, default=4, help="alternating blocks of questions")
    args = parser.parse_args()
    data_dir = CACHE / "data"
    service = open_service(data_dir, answer_cache_entries=0)
    report = service.library.ingest([R_MANUALS / name for name in DOCUMENTS])
    print(f"library: {report.pages} pages, {report.chunks} chunks", file=sys.stderr)
    asked = questions(args.questions)
    try:
        rows, service = ask_blocks(service, asked, args.blocks)
        answers = {name: summarise_asks(r) for name, r in rows.items()}
        answers["first_text_ratio"] = ratio(answers["excerpts"]["first_text_p50_s"],
                                            answers["whole_sources"]["first_text_p50_s"])
        answers["whole_answer_ratio"] = ratio(answers["excerpts"]["whole_answer_p50_s"],
                                              answers["whole_sources"]["whole_answer_p50_s"])
        print("answers", json.dumps(answers), flush=True)
        prompts = [[{"role": "user", "content": EXPLAIN.format(
            passage=service.answers.search(q, 1)[0].text[:1200])}]
            for q in questions(args.questions)[: args.streams]]
        raw = Raw(service.config)
        raw.stream(prompts[0])  # warm
        engine_chat(service, prompts[0])
        engine = compare(raw, lambda m: engine_chat(service, m), prompts)
        print("engine", json.dumps(engine), flush=True)
        key = service.access.create_key(f"bench-speed-{int(time.time())}", "read-only")[1]
    finally:
        service.close()
    server, client = start_server(data_dir, key, raw.threads)
    try:
        chat = {"rag": False, "max_tokens": STREAM_TOKENS}
        api_stream(client, {**chat, "messages": prompts[0]})  # warm
        api = compare(raw, lambda m: api_stream(client, {**chat, "messages": m}), prompts)
        print("api", json.dumps(api), flush=True)
        rag = [api_stream(client, {"messages": [{"role": "user", "content": q}]}) for q in asked]
        api_answers = {"answers": len(rag), "first_text_p50_s": median(t.first_s for t in rag),
                       "whole_answer_p50_s": median(t.last_s for t in rag)}
        print("api answers", json.dumps(api_answers), flush=True)
    finally:
        client.close()
        server.terminate()
        server.wait(30)
    write_results("answer_speed", {
        "model": service.config.generation_model, "threads": raw.threads,
        "documents": list(DOCUMENTS), "stream_tokens": STREAM_TOKENS,
        "answers": answers, "engine_stream": engine, "api_stream": api,
        "api_answers": api_answers, "asked": rows})


if __name__ == "__main__":
    main()
