"""The desktop launcher: settings, logging and error hooks, then the Qt window.

`DesktopBackend` is what the UI gets from `app/`: the settings (read and saved), and how
to open the engine service with them; the UI never reads settings files or builds
engine parts itself.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from app import __version__, stay_offline
from app.settings import (Settings, SettingsError, changed_settings, config_dir,
                          load_settings, save_settings, settings_file)
from engine import (EnclaveService, check_models, import_gguf, key_method, keyring_usable,
                    library_exists)

log = logging.getLogger(__name__)
PROGRAM = "the Enclave desktop app"
"""How the app names itself in the library's lock file (and so in others' refusals)."""


class DesktopBackend:
    def __init__(self, path: Path | None = None):
        self.version = __version__
        self.path = path or settings_file()
        self.first_run = not self.path.exists()
        self.problem: str | None = None
        try:
            self.settings = load_settings(self.path)
        except SettingsError as exc:  # start with defaults; the file stays as it is
            self.settings, self.problem = Settings(), str(exc)

    def save(self, **changes) -> Settings:
        """Validate and store changed settings; SettingsError if one is invalid."""
        settings = changed_settings(self.settings, **changes)
        save_settings(settings, self.path)
        self.settings, self.first_run = settings, False
        return settings

    # --- the vault -------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.expanduser().resolve()

    def vault_exists(self, data_dir: Path | None = None) -> bool:
        return library_exists(data_dir or self.data_dir)

    def needs_passphrase(self) -> bool:
        """Whether opening the vault will ask for a passphrase (existing or new vault)."""
        method = key_method(self.data_dir)
        if method is not None:
            return method == "passphrase"
        return self.settings.key_source == "passphrase" or not self.keyring_available()

    @staticmethod
    def keyring_available() -> bool:
        return keyring_usable()

    def open_service(self, passphrase: str | None) -> EnclaveService:
        """Open (or create) the vault of the current settings, for writing: while another
        program writes it, LibraryInUseError says which. Call off the GUI thread."""
        return EnclaveService.open(self.settings.engine_config(), lambda new: passphrase,
                                   prefer_keyring=self.settings.key_source == "keyring",
                                   program=PROGRAM)

    def engine_config(self):
        return self.settings.engine_config()

    # --- the LAN API ---------------------------------------------------------------------

    def start_api(self, service: EnclaveService):
        """Serve the LAN API from the app, with the saved host and port; returns the
        running server (`url`, `on_lan`, `stop()`). Call off the GUI thread."""
        from app.server import ApiServer

        self.stop_api()
        server = ApiServer(service, self.settings)
        server.start()
        self.api_server = server
        return server

    def stop_api(self) -> None:
        server, self.api_server = getattr(self, "api_server", None), None
        if server is not None:
            server.stop()

    # --- backups ---------------------------------------------------------------------

    def start_scheduler(self, service: EnclaveService, on_result) -> None:
        """Run the library's backup plan (a missed backup runs now). Off the GUI thread."""
        from app.scheduler import BackgroundJobs

        self.stop_scheduler()
        self.scheduler = BackgroundJobs(service, __version__, on_result, self.path)
        self.scheduler.start()

    def reschedule(self) -> None:
        if getattr(self, "scheduler", None) is not None:
            self.scheduler.apply()

    def next_backup(self):
        scheduler = getattr(self, "scheduler", None)
        return scheduler.next_run() if scheduler is not None else None

    def backup_now(self, service: EnclaveService):
        return service.backups.run_scheduled(__version__, {"settings.json": self.path})

    def stop_scheduler(self) -> None:
        scheduler, self.scheduler = getattr(self, "scheduler", None), None
        if scheduler is not None:
            scheduler.shutdown()

    # --- models ----------------------------------------------------------------------

    def check_models(self) -> list[tuple[str, str | None]]:
        """(model, problem or None) for the configured models. Call off the GUI thread."""
        config = self.settings.engine_config()
        return check_models(config.embedding_model, config.generation_model,
                            config.data_dir / "models")

    def import_model(self, source: Path, progress=None) -> Path:
        """Copy a GGUF file into the data directory's models folder, with its checksum."""
        return import_gguf(source, self.data_dir / "models", progress)


def _install_error_hooks() -> None:
    """Unexpected errors go to the log file, never silently lost."""
    def hook(exc_type, exc, tb):
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)


def main(argv: list[str] | None = None) -> int:
    stay_offline()
    log_file = config_dir() / "enclave.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=[logging.FileHandler(log_file, encoding="utf-8"),
                                  logging.StreamHandler()])
    _install_error_hooks()
    argv = sys.argv if argv is None else argv
    smoke = None
    if "--smoke" in argv:  # the package test's start-up check (ui/smoke.py)
        import psutil

        argv = [a for a in argv if a != "--smoke"]
        smoke = (os.environ.get("ENCLAVE_PASSPHRASE"), psutil.Process().create_time())
    from ui.application import run

    return run(DesktopBackend(), argv, smoke)


if __name__ == "__main__":
    sys.exit(main())
