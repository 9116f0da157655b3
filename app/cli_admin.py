"""The `enclave` commands for the administrator: the LAN API (serve, keys, audit) and
backups (backup, backups list/verify, restore)."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from app.settings import settings_file
from engine import UserError


def add_admin_commands(commands) -> None:
    p = commands.add_parser("serve", help="serve the LAN API (OpenAI-compatible and RAG)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, help="port (default 8765)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate: serve HTTPS")
    p.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    p.add_argument("--self-signed", action="store_true",
                   help="serve HTTPS with a certificate generated now (in the data directory)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run searches in N processes of their own, to use more cores; each "
                        "holds a copy of the index and the embedding model (default 1: "
                        "searches run in the server's process)")

    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("create", help="create a key and print it (shown only once)")
    p.add_argument("name")
    p.add_argument("--scope", choices=["read-only", "read-write"], default="read-only")
    p.add_argument("--collection", action="append", dest="collections", metavar="NAME",
                   help="the key reads and changes only this collection (repeat for more; "
                        "default: all collections)")
    p.add_argument("--mask-personal-data", action="store_true",
                   help="mask e-mail addresses, phone, card and ID numbers in what the key "
                        "gets (search hits, answers, sources, chats, conversations)")
    actions.add_parser("list", help="list keys (never the keys themselves)")
    actions.add_parser("revoke", help="revoke a key").add_argument("name")

    audit = commands.add_parser("audit", help="the API's audit log: verify, export")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("verify", help="check that no entry was changed or deleted")
    p = actions.add_parser("export", help="write the log as CSV")
    p.add_argument("file", nargs="?", type=Path, help="CSV file (default: standard output)")


def add_backup_commands(commands) -> None:
    p = commands.add_parser("backup", help="write a verified backup, then prune old ones")
    p.add_argument("--to", type=Path, help="folder for backups (default: the backup_dir setting)")
    backups = commands.add_parser("backups", help="list or verify backups")
    actions = backups.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("list", help="backups in a folder, newest first")
    p.add_argument("--in", dest="folder", type=Path, help="default: the backup_dir setting")
    p = actions.add_parser("verify", help="check a backup (default: the newest); one made "
                           "before the key was changed needs the passphrase of that time "
                           "(ENCLAVE_BACKUP_PASSPHRASE, or asked) or --recovery-key")
    p.add_argument("path", nargs="?", type=Path)
    p.add_argument("--recovery-key", help="the recovery key of the time the backup was made")
    p = commands.add_parser("restore", help="restore a backup into --data-dir (may be new)")
    p.add_argument("path", type=Path)
    p.add_argument("--recovery-key", help="for a library whose key was in a keyring "
                   "(else ENCLAVE_PASSPHRASE or a prompt gives the passphrase)")


def _backup_dir(given: Path | None, settings, service) -> Path:
    """--to/--in, else ENCLAVE_BACKUP_DIR (the backup_dir setting), else the plan's folder."""
    plan_folder = service.backups.plan().destination
    folder = given or settings.backup_dir or (Path(plan_folder) if plan_folder else None)
    if folder is None:
        raise UserError("Choose where backups go: --to/--in DIR, ENCLAVE_BACKUP_DIR, or the "
                        "folder of the backup plan (Settings → Backups).")
    return folder.expanduser()


def run_admin_command(args: argparse.Namespace, service, out) -> int:
    if args.command in ("backup", "backups"):
        return _backups(args, service, out)
    if args.command == "keys":
        return _keys(args, service, out)
    if args.command == "audit":
        return _audit(args, service, out)
    if args.command == "serve":
        return _serve(args, service, out)
    raise AssertionError(args.command)


def _backups(args, service, out) -> int:
    from app import __version__

    settings = args.settings
    if args.command == "backup":
        # a folder given is made if need be; the plan's (often a drive) must be there
        made = service.backups.backup(args.to or settings.backup_dir, __version__,
                                      {"settings.json": settings_file()})
        counts = made.manifest.counts
        print(f"Backed up and verified: {made.folder} ({counts['documents']} documents, "
              f"{counts['chunks']} chunks); {len(made.pruned)} old backup(s) pruned.", file=out)
        return 0
    if args.action == "list":
        for path, manifest in service.backups.list(_backup_dir(args.folder, settings, service)):
            if manifest is None:
                print(f"{path.name}\tDAMAGED (unreadable manifest)", file=out)
            else:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(manifest.created_at))
                print(f"{path.name}\t{when}\t{manifest.counts.get('documents', 0)} documents\t"
                      f"key: {manifest.key_method}", file=out)
        return 0
    path = args.path
    if path is None:
        found = service.backups.list(_backup_dir(None, settings, service))
        if not found:
            raise UserError("There is no backup to verify.")
        path = found[0][0]
    manifest = _verify(service, path, args.recovery_key)
    print(f"{path.name} is intact: {manifest.counts['documents']} documents, "
          f"{manifest.counts['chunks']} chunks, integrity check ok.", file=out)
    return 0


def _verify(service, path: Path, recovery_key: str | None):
    """Verify a backup; one made before the key was changed with the passphrase of that time
    (ENCLAVE_BACKUP_PASSPHRASE, or asked on a terminal) or the recovery key given."""
    import getpass
    import os

    from engine import OlderKeyError, is_recovery_key

    passphrase = os.environ.get("ENCLAVE_BACKUP_PASSPHRASE") or None
    try:
        return service.backups.verify(path, passphrase, recovery_key)
    except OlderKeyError as exc:
        if passphrase or recovery_key or not sys.stdin.isatty():
            raise UserError(f"{exc} (ENCLAVE_BACKUP_PASSPHRASE or --recovery-key)") from exc
        print(exc, file=sys.stderr)
        asked = getpass.getpass("Passphrase of that time (or its recovery key): ").strip()
        if not asked:
            raise UserError(str(exc)) from exc
        if is_recovery_key(asked):
            return service.backups.verify(path, recovery_key=asked)
        return service.backups.verify(path, asked)


def restore(args, settings, passphrase, out) -> int:
    """Restore without opening the library first (the data directory may be empty)."""
    from engine import restore_library

    config = settings.engine_config()
    restored = restore_library(args.path, config.data_dir, passphrase, args.recovery_key,
                               config.kdf_log2_n)
    if (args.path / "settings.json").exists() and not settings_file().exists():
        settings_file().parent.mkdir(parents=True, exist_ok=True)  # a new machine: take them
        shutil.copy2(args.path / "settings.json", settings_file())
    aside = restored.aside
    print(f"Restored {args.path.name} into {config.data_dir} "
          f"({restored.manifest.counts['documents']} documents; unlocked with the "
          f"{restored.unlocked_with})." + (f" The previous data is kept in {aside}." if aside
                                           else ""), file=out)
    if restored.key_changed_since:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(restored.key_changed_since))
        print(f"The backup was made before the key was changed on {when}: the library opens "
              "with the passphrase (or recovery key) of that time again; change it with "
              "`enclave vault rekey`.", file=out)
    return 0


def _keys(args, service, out) -> int:
    if args.action == "create":
        record, key = service.access.create_key(args.name, args.scope, args.collections,
                                                args.mask_personal_data)
        print(key, file=out)
        print(f"Created {record.scope} key '{record.name}' for {_reach(record)}"
              f"{', personal data masked' if record.mask_personal_data else ''}. Copy it now: "
              "it is not stored and cannot be shown again.", file=sys.stderr)
    elif args.action == "list":
        for key in service.access.keys():
            state = "active" if key.active else "revoked"
            masking = "personal data masked" if key.mask_personal_data else "unmasked"
            print(f"{key.name}\t{key.scope}\tenc_{key.prefix}_…\t{state}\t{_reach(key)}\t"
                  f"{masking}", file=out)
    else:
        service.access.revoke_key(args.name)
        print(f"Revoked '{args.name}'.", file=out)
    return 0


def _reach(key) -> str:
    """The collections a key may use, in words."""
    if key.collections is None:
        return "all collections"
    return ("collection " if len(key.collections) == 1 else "collections ") + ", ".join(
        key.collections)


def _audit(args, service, out) -> int:
    if args.action == "verify":
        problems = service.access.verify_audit()
        count = len(service.access.audit_entries())
        if problems:
            for problem in problems:
                print(f"TAMPERED: {problem}", file=out)
            return 1
        print(f"The audit log is intact: {count} entries.", file=out)
        return 0
    if args.file:
        with args.file.open("w", newline="", encoding="utf-8") as f:
            count = service.access.export_audit(f)
        print(f"Wrote {count} entries to {args.file}.", file=sys.stderr)
    else:
        service.access.export_audit(out)
    return 0


def _serve(args, service, out) -> int:
    from app.server import ApiServer, self_signed_certificate

    settings = args.settings
    host = args.host or settings.api_host
    tls = None
    if args.self_signed:
        if args.tls_cert or args.tls_key:
            raise UserError("Give either --self-signed or --tls-cert/--tls-key.")
        tls = self_signed_certificate(service.config.data_dir / "tls", host)
    elif args.tls_cert or args.tls_key:
        tls = (args.tls_cert, args.tls_key)
    server = ApiServer(service, settings, host, args.port, tls)
    server.bind()
    if args.workers != 1:  # they start while the server does: searches run here meanwhile
        service.search_in_workers(args.workers)
    if not service.access.keys():
        print("No API key yet: create one with `enclave keys create NAME`.", file=sys.stderr)
    print(f"Enclave API on {server.url} ({'the LAN' if server.on_lan else 'this machine only'})"
          f"; docs at {server.url}/docs. Ctrl-C stops it.", file=out, flush=True)
    import threading

    threading.Thread(target=service.warm_up, name="warm-up", daemon=True).start()
    from app import __version__
    from app.scheduler import BackgroundJobs

    scheduler = BackgroundJobs(service, __version__, settings_path=settings_file())
    scheduler.start()
    try:
        server.run()
    finally:
        scheduler.shutdown()
    return 0
