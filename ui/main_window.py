"""The main window: Chat, Documents, Health, Cost and Settings tabs, a banner for errors, and the
status bar with the engine's state and the import in progress.

Start-up never waits: the window shows at once, then the vault is opened on a worker
(after the first-run setup or the passphrase prompt when needed) and the models are
loaded in the background while the status bar says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from engine import (EnclaveService, LibraryInUseError, OlderKeyError, UserError, WrongKeyError,
                    is_recovery_key)

from . import engine_texts
from .about import AboutDialog
from .chat import ChatPanel
from .cost_panel import CostPanel
from .documents import DocumentsPanel
from .health_panel import HealthPanel
from .i18n import Language, Retranslating
from .settings_panel import SettingsPanel
from .source_viewer import SourceViewer
from .theme import apply_theme
from .unlock import OlderKeyDialog, PassphraseDialog, SetupDialog
from .worker import Tasks

log = logging.getLogger(__name__)

ENGINE_SETTINGS = {"generation_model", "context_tokens", "temperature", "max_answer_tokens",
                   "threads", "embedding_model", "mask_personal_data_at_ingest", "ocr",
                   "inference_server_url", "inference_server_model", "inference_server_key",
                   "inference_server_timeout_s", "inference_server_fallback"}
"""Settings the running engine is reconfigured for when they change (the inference
server's key is kept in the library, not in the settings file)."""


class Banner(QWidget):
    """A message across the top of the window, closed by the person."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.setStyleSheet("background: #fce8e6; color: #a50e0e;")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.close_button = QPushButton("✕")
        self.close_button.setFlat(True)
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.hide()

    def say(self, text: str) -> None:
        self.label.setText(text)
        self.show()


class MainWindow(Retranslating, QMainWindow):
    stateChanged = Signal(str)
    """"opening", "locked", "loading", "ready" or "failed"."""

    def __init__(self, backend, app, tasks: Tasks | None = None):
        super().__init__()
        self.backend, self.app = backend, app
        self.language = Language(app)
        self.tasks = tasks or Tasks(self)
        self.service: EnclaveService | None = None
        self.state = "opening"
        self.setup_dialog: SetupDialog | None = None
        self._new_keyring_library = False
        self.passphrase_dialog: PassphraseDialog | None = None
        self.older_key_dialog: OlderKeyDialog | None = None
        self.in_use_dialog: QMessageBox | None = None
        self.resize(1200, 800)
        self.setAcceptDrops(True)

        self.banner = Banner()
        self.tabs = QTabWidget()
        self.chat = ChatPanel(self.tasks)
        self.documents = DocumentsPanel(self.tasks)
        self.settings = SettingsPanel(backend, self.tasks)
        self.viewer = SourceViewer(self.tasks, self)
        self.tabs.addTab(self.chat, "")
        self.tabs.addTab(self.documents, "")
        self.health = HealthPanel(self.tasks)
        self.cost = CostPanel(self.tasks)
        self.tabs.addTab(self.health, "")
        self.tabs.addTab(self.cost, "")
        self.tabs.addTab(self.settings, "")
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(6, 6, 6, 0)
        column.addWidget(self.banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.state_label = QLabel()
        self.import_label = QLabel()
        self.import_bar = QProgressBar()
        self.import_bar.setMaximumWidth(200)
        self.import_bar.hide()
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.import_label)
        self.statusBar().addPermanentWidget(self.import_bar)
        self.about_button = QPushButton()
        self.about_button.setFlat(True)
        self.about_button.clicked.connect(self.show_about)
        self.statusBar().addPermanentWidget(self.about_button)

        for panel in (self.chat, self.documents, self.settings):
            panel.errorRaised.connect(self.show_error)
        self.chat.sourceRequested.connect(self.open_source)
        self.documents.libraryChanged.connect(self.chat.library_changed)
        self.documents.importProgress.connect(self._import_progress)
        self.documents.importProgress.connect(self.chat.import_progress)
        # the empty library's offer in the chat imports as the Documents tab does
        self.chat.addDocumentsRequested.connect(self.documents.choose_files)
        self.chat.pathsDropped.connect(self.documents.add_paths)
        self.settings.settingsChanged.connect(self._settings_changed)
        self.settings.backups.alert.connect(self.banner.say)
        self.health.newAlert.connect(self.banner.say)
        self.settings.backups.restoreRequested.connect(self.restore)

        QShortcut(QKeySequence.New, self, activated=self.new_chat)
        QShortcut(QKeySequence.Open, self, activated=self.documents.choose_files)
        QShortcut(QKeySequence(Qt.Key_Escape), self, activated=self.chat.stop)
        self.language.apply(backend.settings.language)
        apply_theme(app, backend.settings.theme)
        app.styleHints().colorSchemeChanged.connect(
            lambda _: apply_theme(app, self.backend.settings.theme))
        self.retranslate()

    # --- texts -------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Enclave — private document assistant"))
        self.about_button.setText(self.tr("About Enclave"))
        self.tabs.setTabText(0, self.tr("Chat"))
        self.tabs.setTabText(1, self.tr("Documents"))
        self.tabs.setTabText(2, self.tr("Health"))
        self.tabs.setTabText(3, self.tr("Cost"))
        self.tabs.setTabText(4, self.tr("Settings"))
        self._show_state()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._show_state()
        self.stateChanged.emit(state)

    def _show_state(self) -> None:
        texts = {
            "opening": self.tr("Opening the library…"),
            "locked": self.tr("The library is locked."),
            "loading": self.tr("Library open · loading the models in the background…"),
            "ready": self.tr("Ready · everything stays on this computer"),
            "failed": self.tr("The library is not open."),
        }
        self.state_label.setText(texts.get(self.state, ""))

    # --- start-up ----------------------------------------------------------------------

    def start(self) -> None:
        """Set up, unlock and open the library (call once the window is shown)."""
        if self.backend.problem:
            self.banner.say(self.tr("The settings file could not be read, defaults are used: {0}")
                            .format(self.backend.problem))
        if self.backend.first_run and not self.backend.vault_exists():
            self._set_state("locked")
            dialog = self.setup_dialog = SetupDialog(
                self.backend.data_dir, self.backend.keyring_available(),
                self.backend.settings.key_source == "passphrase", self)
            dialog.chosen.connect(self._setup_chosen)
            dialog.rejected.connect(self.close)
            backend = self.backend
            self.tasks.run(lambda _: backend.check_models(), on_result=dialog.show_models,
                           on_error=self.show_error)
            dialog.open()
        else:
            self._unlock()

    def _setup_chosen(self, data_dir: Path, key_source: str, passphrase: str | None) -> None:
        try:
            self.backend.save(data_dir=data_dir, key_source=key_source)
        except UserError as exc:
            self.show_error(exc)
            return
        self.settings.load()
        self._new_keyring_library = key_source == "keyring" and self.backend.keyring_available()
        self._open(passphrase)

    def _unlock(self) -> None:
        if self.backend.needs_passphrase():
            self._set_state("locked")
            dialog = self.passphrase_dialog = PassphraseDialog(self.backend.data_dir, self)
            dialog.submitted.connect(self._open)
            dialog.rejected.connect(self.close)
            dialog.open()
        else:
            self._open(None)

    def _open(self, passphrase: str | None) -> None:
        self._set_state("opening")
        backend = self.backend
        self.tasks.run(lambda _: backend.open_service(passphrase), on_result=self._opened,
                       on_error=lambda exc: self._open_failed(exc, passphrase))

    def _open_failed(self, exc: BaseException, passphrase: str | None = None) -> None:
        if isinstance(exc, WrongKeyError) and self.passphrase_dialog is not None:
            self._set_state("locked")
            self.passphrase_dialog.failed(self.tr("Wrong passphrase: the library could not be "
                                                  "unlocked. Try again."))
            if not self.passphrase_dialog.isVisible():  # asked again after "Try again"
                self.passphrase_dialog.open()
            return
        if self.passphrase_dialog is not None:
            self.passphrase_dialog.hide()
        self._set_state("failed")
        if isinstance(exc, LibraryInUseError):
            self._library_in_use(exc, passphrase)
            return
        self.show_error(exc)

    def _library_in_use(self, exc: LibraryInUseError, passphrase: str | None) -> None:
        """Another program writes the library: say which and what to do, and offer to try
        again (once it has finished, or was closed)."""
        self.banner.say(str(exc))
        box = self.in_use_dialog = QMessageBox(
            QMessageBox.Warning, self.tr("The library is in use"),
            self.tr("Another program is changing this library, and only one program at a "
                    "time may: Enclave cannot open it now."),
            QMessageBox.Retry | QMessageBox.Close, self)
        box.setInformativeText(str(exc))
        box.button(QMessageBox.Retry).setText(self.tr("Try again"))
        box.button(QMessageBox.Close).setText(self.tr("Close"))

        def answered() -> None:
            self.in_use_dialog = None
            if box.clickedButton() is box.button(QMessageBox.Retry):
                self.banner.hide()
                self._open(passphrase)

        box.finished.connect(answered)
        box.open()

    def _opened(self, service: EnclaveService) -> None:
        if self.passphrase_dialog is not None:
            self.passphrase_dialog.accept()
            self.passphrase_dialog = None
        self._use(service)
        if self._new_keyring_library:  # its key lives in the keyring: write the key down
            self._new_keyring_library = False
            self.settings.backups.show_recovery_key(service)

    def _use(self, service: EnclaveService) -> None:
        self.service = service
        for panel in (self.chat, self.documents, self.health, self.cost, self.settings):
            panel.set_service(service)
        self._set_state("loading")
        self.tasks.run(lambda _: service.warm_up(),
                       on_result=lambda problem: self._warmed(service, problem),
                       on_error=self.show_error)

    def _warmed(self, service: EnclaveService, model_problem: str) -> None:
        if service is not self.service:
            return
        self._set_state("ready")
        if model_problem and service.config.inference_server_url:  # the reason says what
            self.banner.say(self.tr(  # answers meanwhile: the local model, or quotations
                "The inference server did not answer. ({0})").format(model_problem))
        elif model_problem:  # searchable all the same: answers quote the passages meanwhile
            self.banner.say(self.tr(
                "The language model could not be loaded, so answers are the passages of your "
                "documents that best answer each question. Check the model in Settings. ({0})"
            ).format(model_problem))

    # --- actions -----------------------------------------------------------------------

    def new_chat(self) -> None:
        self.tabs.setCurrentWidget(self.chat)
        self.chat.new_chat()

    def show_about(self) -> None:
        self.about = AboutDialog(self.backend.version, str(self.backend.data_dir), self)
        self.about.open()

    def open_source(self, source: dict) -> None:
        if self.service is not None:
            self.viewer.show_source(self.service, source)

    def show_error(self, exc: BaseException) -> None:
        """A readable message in the window; a bug also goes to the log with its trace."""
        if isinstance(exc, UserError):
            self.banner.say(engine_texts.shown(exc))
        else:
            log.error("unexpected error", exc_info=exc)
            self.banner.say(self.tr("Something went wrong ({0}: {1}). The details are in the log "
                                    "file.").format(type(exc).__name__, exc))

    def _import_progress(self, done: int, total: int, running: bool) -> None:
        self.import_bar.setVisible(running)
        if running:  # as far as the import list's overall bar (chunks, not only files)
            self.import_bar.setRange(0, 1000)
            self.import_bar.setValue(self.documents.imports.overall.value())
            self.import_label.setText(self.tr("Importing {0}/{1}").format(done, total) if total
                                      else self.tr("Importing…"))
        else:
            self.import_label.clear()

    def _settings_changed(self, names: set) -> None:
        settings = self.backend.settings
        if "language" in names:
            self.language.apply(settings.language)
        if "theme" in names:
            apply_theme(self.app, settings.theme)
        if names & ENGINE_SETTINGS and self.service is not None:
            old, config = self.service, self.backend.engine_config()
            self._set_state("loading")
            self.tasks.run(lambda _: old.reconfigured(config), on_result=self._use,
                           on_error=self.show_error)

    def restore(self, folder: Path, older_key: str | None = None) -> None:
        """Replace the open library with one of its backups: verify it (the library stays
        open if that fails), close the library, swap the data directory (the old one is
        kept aside; a failed swap puts it back), and open the restored one. A backup made
        before the key was changed is verified and restored with the passphrase or
        recovery key of that time (`older_key`), which is asked for when needed."""
        service = self.service
        if service is None:
            return
        recovery_key = older_key if older_key and is_recovery_key(older_key) else None
        passphrase = None if recovery_key else older_key
        self.tasks.run(lambda _: service.backups.verify(folder, passphrase, recovery_key),
                       on_result=lambda _: self._swap_in(service, folder, passphrase,
                                                         recovery_key),
                       on_error=lambda exc: self._not_verified(exc, folder))

    def _not_verified(self, exc: BaseException, folder: Path) -> None:
        """Ask for the key of a backup made before the key was changed (again, while what
        was typed does not open it); anything else is shown. The library stays open."""
        dialog = self.older_key_dialog
        if dialog is None and isinstance(exc, OlderKeyError):
            dialog = self.older_key_dialog = OlderKeyDialog(engine_texts.shown(exc), self)
            dialog.submitted.connect(lambda older_key: self.restore(folder, older_key))
            dialog.finished.connect(self._older_key_dialog_closed)
            dialog.open()
        elif dialog is not None and isinstance(exc, UserError):
            dialog.failed(engine_texts.shown(exc))
        else:
            if dialog is not None:
                dialog.done(QDialog.Rejected)
            self.show_error(exc)

    def _older_key_dialog_closed(self) -> None:
        self.older_key_dialog = None

    def _swap_in(self, service: EnclaveService, folder: Path, passphrase: str | None = None,
                 recovery_key: str | None = None) -> None:
        if self.older_key_dialog is not None:
            self.older_key_dialog.accept()
        backend = self.backend
        self.chat.stop()
        self.service = None
        for panel in (self.chat, self.documents, self.health, self.cost, self.settings):
            panel.set_service(None)
        self._set_state("opening")

        def work(_):
            backend.stop_api()
            backend.stop_scheduler()
            # closes the library, then swaps
            return service.backups.restore(folder, passphrase, recovery_key)

        older = bool(passphrase or recovery_key)
        self.tasks.run(work, on_result=lambda aside: self._restored(aside, older),
                       on_error=self._restore_failed)

    def _restored(self, aside, older_key: bool = False) -> None:
        said = [self.tr("The backup was restored.")]
        if aside:
            said.append(self.tr("The previous library is kept in {0}.").format(aside))
        if older_key:
            said.append(self.tr("The library is under the key of that time again (a passphrase "
                                "library opens with the passphrase of that time): change the "
                                "key in Settings → Backups if that one is no longer safe."))
        self.banner.say(" ".join(said))
        self._unlock()

    def _restore_failed(self, exc: BaseException) -> None:
        self.show_error(exc)
        self._unlock()  # the library as it was: restore_backup put it back

    # --- drag and drop -----------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and self.service is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.documents.add_paths(paths)

    # --- closing -----------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        self.chat.stop()
        self.tasks.wait()  # an import going on stops when the service closes; its queue stays
        self.backend.stop_api()
        self.backend.stop_scheduler()
        if self.service is not None:
            self.service.close()
            self.service = None
        super().closeEvent(event)
