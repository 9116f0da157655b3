"""`enclave vault rekey`: change the library's key (a new passphrase, or a new random key
in the keyring). The vault and its index are re-encrypted, backups from then on use the
new key, and the new recovery key is printed; older backups keep the key they were made
with."""

from __future__ import annotations

import getpass
import os
import sys
import time

from engine import MIN_PASSPHRASE_LENGTH, UserError


def add_vault_commands(commands) -> None:
    vault = commands.add_parser("vault", help="the vault's key: change it")
    actions = vault.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "rekey", help="re-encrypt the library under a new key (a new passphrase, asked twice "
        "or ENCLAVE_NEW_PASSPHRASE; or a new keyring key); older backups keep their key")


def new_passphrase() -> str:
    """ENCLAVE_NEW_PASSPHRASE, else asked twice on a terminal."""
    phrase = os.environ.get("ENCLAVE_NEW_PASSPHRASE")
    if phrase:
        return phrase
    if not sys.stdin.isatty():
        raise UserError("Give the new passphrase: set ENCLAVE_NEW_PASSPHRASE, or run this on "
                        "a terminal to type it.")
    first = getpass.getpass(f"New passphrase (at least {MIN_PASSPHRASE_LENGTH} characters): ")
    if len(first) < MIN_PASSPHRASE_LENGTH:
        raise UserError(f"The passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters.")
    if getpass.getpass("Repeat it: ") != first:
        raise UserError("The two passphrases differ: nothing was changed.")
    return first


def run_vault_command(args, service, out) -> int:
    method = service.vault_key.method
    changed = service.vault_key.change(new_passphrase() if method == "passphrase" else None)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(changed.changed_at))
    what = ("the new passphrase" if changed.method == "passphrase"
            else "a new key, kept in this machine's keyring")
    print(f"The library's key was changed on {when} to {what}: the vault and its index are "
          "re-encrypted, and backups from now on use the new key.", file=out)
    print("New recovery key (write it down: it opens the backups made from now on):", file=out)
    print(f"  {changed.recovery_key}", file=out)
    print("Backups made before now still need the old passphrase or the old recovery key: "
          "keep those with them.", file=out)
    if changed.index_problem:
        print(f"The index could not be rewritten now ({changed.index_problem}): it is "
              "rebuilt from the vault when the library next opens.", file=out)
    return 0
