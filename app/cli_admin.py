"""The `enclave` commands of the LAN API: serve, keys (create, list, revoke) and audit
(verify, export)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import UserError


def add_admin_commands(commands) -> None:
    p = commands.add_parser("serve", help="serve the LAN API (OpenAI-compatible and RAG)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, help="port (default 8765)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate: serve HTTPS")
    p.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    p.add_argument("--self-signed", action="store_true",
                   help="serve HTTPS with a certificate generated now (in the data directory)")

    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("create", help="create a key and print it (shown only once)")
    p.add_argument("name")
    p.add_argument("--scope", choices=["read-only", "read-write"], default="read-only")
    actions.add_parser("list", help="list keys (never the keys themselves)")
    actions.add_parser("revoke", help="revoke a key").add_argument("name")

    audit = commands.add_parser("audit", help="the API's audit log: verify, export")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("verify", help="check that no entry was changed or deleted")
    p = actions.add_parser("export", help="write the log as CSV")
    p.add_argument("file", nargs="?", type=Path, help="CSV file (default: standard output)")


def run_admin_command(args: argparse.Namespace, service, out) -> int:
    if args.command == "keys":
        return _keys(args, service, out)
    if args.command == "audit":
        return _audit(args, service, out)
    if args.command == "serve":
        return _serve(args, service, out)
    raise AssertionError(args.command)


def _keys(args, service, out) -> int:
    if args.action == "create":
        record, key = service.api_keys.create(args.name, args.scope)
        print(key, file=out)
        print(f"Created {record.scope} key '{record.name}'. Copy it now: it is not stored and "
              "cannot be shown again.", file=sys.stderr)
    elif args.action == "list":
        for key in service.api_keys.list():
            state = "active" if key.active else "revoked"
            print(f"{key.name}\t{key.scope}\tenc_{key.prefix}_…\t{state}", file=out)
    else:
        service.api_keys.revoke(args.name)
        print(f"Revoked '{args.name}'.", file=out)
    return 0


def _audit(args, service, out) -> int:
    if args.action == "verify":
        problems = service.audit.verify()
        count = len(service.audit.entries())
        if problems:
            for problem in problems:
                print(f"TAMPERED: {problem}", file=out)
            return 1
        print(f"The audit log is intact: {count} entries.", file=out)
        return 0
    if args.file:
        with args.file.open("w", newline="", encoding="utf-8") as f:
            count = service.audit.export_csv(f)
        print(f"Wrote {count} entries to {args.file}.", file=sys.stderr)
    else:
        service.audit.export_csv(out)
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
    if not service.api_keys.list():
        print("No API key yet: create one with `enclave keys create NAME`.", file=sys.stderr)
    print(f"Enclave API on {server.url} ({'the LAN' if server.on_lan else 'this machine only'})"
          f"; docs at {server.url}/docs. Ctrl-C stops it.", file=out, flush=True)
    import threading

    threading.Thread(target=service.warm_up, name="warm-up", daemon=True).start()
    server.run()
    return 0
