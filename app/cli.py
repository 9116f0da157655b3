"""The `enclave` command line: ingest, search, ask, documents, collections, sync (and, in
cli_admin.py, the LAN API's serve, keys and audit, and backups; in cli_vault.py, changing
the vault's key).

Every command opens the engine through the one facade, `EnclaveService`. User errors
print one line on stderr and exit with status 2; an interrupted ingest says how many
files are left for the next run.

A command that changes the library opens it for writing and is refused at once while
another program (the desktop app, `enclave serve`, another `enclave ingest`) writes it;
a command that only reads (`READING`) opens it read-only and works meanwhile.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from pathlib import Path

from app import __version__, stay_offline
from app.settings import SettingsError, changed_settings, load_settings

EXIT_USER_ERROR = 2
READING = {("search", None), ("ask", None), ("status", None), ("docs", "list"),
           ("docs", "failed"), ("docs", "queue"), ("collections", "list"), ("keys", "list"), ("audit", "verify"),
           ("audit", "export"), ("backup", None), ("backups", "list"), ("backups", "verify")}
"""(command, action) that only read the library: they never hold its writer lock."""


def _passphrase(new: bool) -> str | None:
    """ENCLAVE_PASSPHRASE, else a prompt on a terminal (asked twice for a new vault)."""
    phrase = os.environ.get("ENCLAVE_PASSPHRASE")
    if phrase or not sys.stdin.isatty():
        return phrase
    if not new:
        return getpass.getpass("Vault passphrase: ")
    first = getpass.getpass("Choose a passphrase for the new vault: ")
    if getpass.getpass("Repeat it: ") != first:
        print("The two passphrases differ.", file=sys.stderr)
        return None
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="enclave", description="Private document assistant.")
    parser.add_argument("--version", action="version", version=f"enclave {__version__}")
    parser.add_argument("--data-dir", type=Path, help="data directory (default: per user)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("ingest", help="add files and folders to a collection")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="files or folders (none: finish an interrupted ingest)")
    p.add_argument("--collection", default="default")

    p = commands.add_parser("search", help="find the passages that match a query")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=5, help="how many results (default 5)")
    p.add_argument("--collection")
    p.add_argument("--queries", type=Path, help="a file with one query per line")
    p.add_argument("--json", action="store_true", help="one JSON line per query")

    p = commands.add_parser("ask", help="answer a question from the documents")
    p.add_argument("question", nargs="?")
    p.add_argument("--collection")
    p.add_argument("--questions", type=Path, help="a file with one question per line")
    p.add_argument("--conversation", action="store_true",
                   help="the questions are one conversation: a follow-up ('What pressure "
                        "does it open at?') is understood from the questions before it")
    p.add_argument("--json", action="store_true", help="one JSON line per question")

    docs = commands.add_parser("docs", help="list, delete or retry documents")
    docs_commands = docs.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = docs_commands.add_parser("list", help="list documents")
    p.add_argument("--collection")
    p.add_argument("--json", action="store_true")
    p = docs_commands.add_parser("delete", help="delete documents by id, file name or path")
    p.add_argument("refs", nargs="+", metavar="DOCUMENT")
    p.add_argument("--collection")
    docs_commands.add_parser("failed", help="list files that failed, with the reason")
    docs_commands.add_parser("retry", help="try the failed files again")
    docs_commands.add_parser("queue", help="list the files waiting to be imported")
    p = docs_commands.add_parser("skip", help="take files out of the import queue")
    p.add_argument("refs", nargs="+", metavar="FILE", help="a file name or path from `docs queue`")

    coll = commands.add_parser("collections", help="manage collections")
    coll_commands = coll.add_subparsers(dest="action", required=True, metavar="ACTION")
    coll_commands.add_parser("list", help="list collections")
    coll_commands.add_parser("create", help="create a collection").add_argument("name")
    coll_commands.add_parser("delete", help="delete a collection and its documents").add_argument("name")
    p = coll_commands.add_parser("link", help="link a collection to a folder (see sync)")
    p.add_argument("name")
    p.add_argument("folder", type=Path)

    p = commands.add_parser("sync", help="bring linked collections in line with their folders")
    p.add_argument("collection", nargs="?")
    commands.add_parser("status", help="what the vault holds")
    from app.cli_admin import add_admin_commands, add_backup_commands
    from app.cli_vault import add_vault_commands

    add_admin_commands(commands)
    add_backup_commands(commands)
    add_vault_commands(commands)
    return parser


def _lines(path: Path) -> list[str]:
    from engine import UserError

    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror}") from exc


def _inputs(single: str | None, many: Path | None, what: str) -> list[str]:
    from engine import UserError

    if (single is None) == (many is None):
        raise UserError(f"Give either a {what} or --{what}s FILE.")
    return [single] if single is not None else _lines(many)


def _page(page: int | None) -> str:
    return f", p. {page}" if page else ""


def _progress_bar(enabled: bool):
    """A tqdm bar fed by ingest progress snapshots, on a terminal only."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(unit="file", file=sys.stderr, dynamic_ncols=True)

    def update(progress) -> None:
        bar.total = progress.files_total
        bar.n = progress.files_done
        pages = (f" page {progress.ocr_pages_done + 1}/{progress.ocr_pages_total}"
                 if progress.stage == "recognising"
                 and progress.ocr_pages_done < progress.ocr_pages_total else "")
        bar.set_postfix_str(f"{progress.chunks_done} chunks"
                            + (f" · {progress.stage}{pages} {progress.current_file}"
                               if progress.current_file else ""), refresh=False)
        bar.refresh()

    return update, bar.close


def _print_report(report, out) -> None:
    verb = "Interrupted" if report.cancelled else "Done"
    pages = f"{report.pages} pages, " if report.pages else ""
    print(f"{verb}: {len(report.ingested)} ingested ({pages}{report.chunks} chunks), "
          f"{len(report.skipped)} unchanged, {len(report.failed)} failed"
          + (f", {len(report.deleted)} deleted" if report.deleted else "") + ".", file=out)
    for path, reason in report.failed:
        print(f"  failed: {path}: {reason}", file=out)
    if report.error:
        print(f"The import stopped: {report.error}. The files left stay queued: run "
              "`enclave ingest` again once this is mended.", file=out)


def _run(args: argparse.Namespace, service) -> int:
    out = sys.stdout
    if args.command == "ingest":
        pending = service.library.pending()
        if pending:
            print(f"Resuming {pending} file(s) left by an interrupted ingest.", file=sys.stderr)
        update, close = _progress_bar(sys.stderr.isatty())
        try:
            report = service.library.ingest(args.paths, args.collection, progress=update)
        finally:
            close()
        _print_report(report, out)
        return 1 if report.error or (report.failed and not report.ingested
                                     and not report.skipped) else 0

    if args.command == "search":
        for query in _inputs(args.query, args.queries, "query"):
            hits = service.answers.search(query, args.k, args.collection)
            if args.json:
                print(json.dumps({"query": query, "results": [
                    {"document": h.document, "page": h.page, "score": h.score,
                     "chunk_id": h.chunk_id, "document_id": h.document_id, "text": h.text,
                     "char_start": h.char_start, "char_end": h.char_end} for h in hits]},
                    ensure_ascii=False), file=out, flush=True)
                continue
            print(f"# {query}" if args.queries else "", file=out, end="\n" if args.queries else "")
            if not hits:
                print("No match.", file=out)
            for rank, h in enumerate(hits, 1):
                snippet = " ".join(h.text.split())[:240]
                print(f"{rank}. {h.document}{_page(h.page)}  (score {h.score:.3f})\n   {snippet}",
                      file=out)
        return 0

    if args.command == "ask":
        from engine import Turn

        turns: list[Turn] = []  # the conversation so far, with --conversation
        for question in _inputs(args.question, args.questions, "question"):
            searched = service.answers.standalone_question(question, turns)
            stream = service.answers.ask(question, args.collection, search_for=searched)
            if args.conversation:
                turns.append(Turn(question, searched if searched != question else ""))
            if args.json:
                print(json.dumps(stream.collect().to_json(), ensure_ascii=False), file=out,
                      flush=True)
                continue
            if args.questions:
                print(f"# {question}", file=out)
            if searched != question:
                print(f"(searched for: {searched})", file=out)
            for piece in stream:
                print(piece, end="", file=out, flush=True)
            print(file=out)
            answer = stream.answer
            if answer.fallback_model:
                print(f"(Written by the local model {answer.fallback_model}: "
                      f"{answer.fallback})", file=out)
            elif answer.fallback and answer.kind == "quote":
                print(f"(Quoted from the documents: {answer.fallback})", file=out)
            elif answer.fallback:
                print(f"(Cut short: {answer.fallback})", file=out)
            elif answer.kind == "quote":
                print("(Quoted from the documents: the model's own answer could not be checked"
                      " against them.)", file=out)
            shown = answer.cited_sources if answer.kind != "refusal" else answer.sources
            if answer.kind == "refusal" and shown:
                print("Closest passages:", file=out)
            for source in shown:
                print(f"  [{source.n}] {source.hit.document}{_page(source.hit.page)}", file=out)
        return 0

    if args.command == "docs":
        if args.action == "list":
            documents = service.library.documents(args.collection)
            if args.json:
                for d in documents:
                    print(json.dumps(d.__dict__, ensure_ascii=False), file=out)
            elif not documents:
                print("No documents.", file=out)
            for d in [] if args.json else documents:
                pages = f"{d.pages} pages, " if d.pages else ""
                print(f"{d.id:>5}  {d.collection:<12} {d.name}  ({pages}{d.chunks} chunks)", file=out)
        elif args.action == "delete":
            for ref in args.refs:
                for d in service.library.delete_documents(ref, args.collection):
                    print(f"Deleted {d.name} (id {d.id}) from '{d.collection}'.", file=out)
        elif args.action == "failed":
            failures = service.library.failures()
            if not failures:
                print("No failed files.", file=out)
            for f in failures:
                print(f"{f.path} ({f.collection}): {f.reason}", file=out)
        elif args.action == "retry":
            service.library.retry_failed(start=False)
            report = service.library.run_queue()
            _print_report(report, out)
        elif args.action == "queue":
            queued = service.library.queued()
            if not queued:
                print("No files are waiting to be imported.", file=out)
            for path in queued:
                print(path, file=out)
        elif args.action == "skip":
            for ref in args.refs:
                for path in service.library.skip(ref):
                    print(f"Skipped {path}: it is no longer queued.", file=out)
        return 0

    if args.command == "collections":
        if args.action == "list":
            for c in service.library.collections():
                linked = f"  linked to {c.folder}" if c.folder else ""
                print(f"{c.name}  ({c.documents} documents){linked}", file=out)
        elif args.action == "create":
            service.library.create_collection(args.name)
            print(f"Created collection '{args.name}'.", file=out)
        elif args.action == "delete":
            service.library.delete_collection(args.name)
            print(f"Deleted collection '{args.name}' and its documents.", file=out)
        elif args.action == "link":
            service.library.link_collection(args.name, args.folder)
            print(f"Linked '{args.name}' to {args.folder.resolve()}; run `enclave sync` to "
                  "bring it in line.", file=out)
        return 0

    if args.command == "sync":
        deleted = service.library.sync(args.collection, start=False)
        if not deleted:
            print("No collection is linked to a folder.", file=out)
            return 0
        report = service.library.run_queue()
        report.deleted = [path for paths in deleted.values() for path in paths]
        print(f"{', '.join(deleted)}: ", end="", file=out)
        _print_report(report, out)
        return 0

    if args.command == "status":
        for key, value in service.health.status().items():
            print(f"{key}: {value}", file=out)
        return 0
    if args.command == "vault":
        from app.cli_vault import run_vault_command

        return run_vault_command(args, service, out)
    from app.cli_admin import run_admin_command

    return run_admin_command(args, service, out)


def main(argv: list[str] | None = None) -> int:
    stay_offline()
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from engine import EnclaveService, UserError

    try:
        settings = load_settings()
        if args.data_dir:
            settings = changed_settings(settings, data_dir=args.data_dir)
    except SettingsError as exc:
        print(f"enclave: error: invalid setting: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    service = None
    try:
        if args.command == "restore":
            from app.cli_admin import restore

            return restore(args, settings, _passphrase, sys.stdout)
        action = getattr(args, "action", None)
        service = EnclaveService.open(
            settings.engine_config(), _passphrase,
            prefer_keyring=settings.key_source == "keyring",
            access="read" if (args.command, action) in READING else "write",
            program=" ".join(["enclave", args.command] + ([action] if action else [])))
        args.settings = settings
        return _run(args, service)
    except UserError as exc:
        print(f"enclave: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        left = service.library.pending() if service else 0
        print("\nInterrupted." + (f" {left} file(s) left: run `enclave ingest` to finish them."
                                   if left else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a full disk is the environment's fault, not a bug to trace
        from engine import DISK_FULL, disk_full

        if not disk_full(exc):
            raise
        print(f"enclave: error: {DISK_FULL} ({exc}).", file=sys.stderr)
        return 1
    finally:
        if service is not None:
            service.close()
