"""The settings tab, in pages as KDE's and GNOME's settings are: General (language, theme,
privacy), Models (the answer model and its generation settings, or the site's inference
server that answers instead: ui/inference_server.py; the embedding model, whose change
re-embeds the library), LAN API (ui/api_panel.py), Backups (ui/backup_panel.py) and
Advanced (the data directory).

One way to apply, on every page: edits wait until Apply (QDialogButtonBox's ApplyRole),
Reset (ResetRole) drops them, and both are enabled only while something differs from what
is saved. Actions (create or revoke a key, back up now, restore) act at once. Changes are
validated and saved by the app's settings (`backend.save`) and the engine (the backup
plan); a bad value is shown next to the buttons and nothing is saved.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDialogButtonBox,
                               QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QSpinBox, QStackedWidget, QTimeEdit,
                               QVBoxLayout, QWidget)

from engine import (BUNDLED_EMBEDDING_MODELS, BUNDLED_GENERATION_MODELS, Cancelled,
                    CancelToken, EnclaveService, UserError)

from . import engine_texts
from .api_panel import ApiPanel
from .backup_panel import BackupPanel
from .i18n import LANGUAGES, Retranslating
from .inference_server import InferenceServerFields
from .theme import ERROR_STYLE
from .worker import Tasks

MODEL_LABELS = {"smollm2-135m-instruct": "SmolLM2 135M Instruct",
                "gemma3-270m": "Gemma 3 270M", "all-MiniLM-L6-v2-int8": "all-MiniLM-L6-v2, int8",
                "all-MiniLM-L6-v2": "all-MiniLM-L6-v2, fp32"}


class SettingsPanel(Retranslating, QWidget):
    settingsChanged = Signal(set)
    """The names of the settings just saved."""
    errorRaised = Signal(object)

    def __init__(self, backend, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.service: EnclaveService | None = None
        self._cancel: CancelToken | None = None

        self.appearance = QGroupBox()
        self.language = QComboBox()
        self.language.addItem("", "system")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.theme = QComboBox()
        for code in ("system", "light", "dark"):
            self.theme.addItem("", code)
        appearance_form = QFormLayout(self.appearance)
        appearance_form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.language_label, self.theme_label = QLabel(), QLabel()
        appearance_form.addRow(self.language_label, self.language)
        appearance_form.addRow(self.theme_label, self.theme)

        self.generation = QGroupBox()
        self.model = QComboBox()
        self.add_model_button = QPushButton()
        self.add_model_button.clicked.connect(self.choose_gguf)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.add_model_button)
        self.context = QSpinBox(minimum=512, maximum=32768, singleStep=512)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.05, decimals=2)
        self.max_tokens = QSpinBox(minimum=16, maximum=4096, singleStep=64)
        self.threads = QSpinBox(minimum=0, maximum=256)
        self.model_progress = QProgressBar()
        self.model_progress.hide()
        self.model_note = QLabel()  # what the chosen model can and cannot do
        self.model_note.setObjectName("modelNote")
        self.model_note.setWordWrap(True)
        self.model.currentIndexChanged.connect(lambda _: self._show_model_note())
        self.generation_labels = [QLabel() for _ in range(5)]
        generation_form = QFormLayout(self.generation)
        generation_form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.model.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        generation_form.addRow(self.generation_labels[0], model_row)
        generation_form.addRow(self.model_note)
        for label, field in zip(self.generation_labels[1:], (self.context, self.temperature,
                                                             self.max_tokens, self.threads)):
            generation_form.addRow(label, field)
        generation_form.addRow(self.model_progress)
        self.server = InferenceServerFields(tasks)
        self.server.errorRaised.connect(self.errorRaised)
        generation_form.addRow(self.server)

        self.embedding = QGroupBox()
        self.embedding_model = QComboBox()
        self.embedding_folder_button = QPushButton()
        self.embedding_folder_button.clicked.connect(self.choose_embedding_folder)
        self.reembed_progress = QProgressBar()
        self.reembed_progress.hide()
        self.reembed_cancel = QPushButton()
        self.reembed_cancel.clicked.connect(lambda: self._cancel and self._cancel.cancel())
        self.reembed_cancel.hide()
        self.embedding_note = QLabel()
        self.embedding_note.setWordWrap(True)
        embedding_row = QHBoxLayout()
        embedding_row.addWidget(self.embedding_model, 1)
        embedding_row.addWidget(self.embedding_folder_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.reembed_progress, 1)
        progress_row.addWidget(self.reembed_cancel)
        embedding_layout = QVBoxLayout(self.embedding)
        embedding_layout.addLayout(embedding_row)
        embedding_layout.addWidget(self.embedding_note)
        embedding_layout.addLayout(progress_row)

        self.storage = QGroupBox()
        self.data_dir = QLineEdit()
        self.data_dir.setMinimumWidth(420)
        self.data_dir_button = QPushButton()
        self.data_dir_button.clicked.connect(self.choose_data_dir)
        self.data_dir_note = QLabel()
        self.data_dir_note.setWordWrap(True)
        storage_row = QHBoxLayout()
        storage_row.addWidget(self.data_dir, 1)
        storage_row.addWidget(self.data_dir_button)
        storage_layout = QVBoxLayout(self.storage)
        storage_layout.addLayout(storage_row)
        storage_layout.addWidget(self.data_dir_note)

        self.reading = QGroupBox()
        self.ocr = QCheckBox()
        QVBoxLayout(self.reading).addWidget(self.ocr)

        self.privacy = QGroupBox()
        self.mask_at_import = QCheckBox()
        self.mask_note = QLabel()
        self.mask_note.setWordWrap(True)
        privacy_layout = QVBoxLayout(self.privacy)
        privacy_layout.addWidget(self.mask_at_import)
        privacy_layout.addWidget(self.mask_note)

        self.api = ApiPanel(backend, tasks)
        self.api.errorRaised.connect(self.errorRaised)
        self.backups = BackupPanel(backend, tasks)
        self.backups.errorRaised.connect(self.errorRaised)

        self.buttons = QDialogButtonBox(QDialogButtonBox.Apply | QDialogButtonBox.Reset)
        self.apply_button = self.buttons.button(QDialogButtonBox.Apply)
        self.apply_button.clicked.connect(self.apply)
        self.revert_button = self.buttons.button(QDialogButtonBox.Reset)
        self.revert_button.clicked.connect(self.load)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.buttons)

        self.page_list = QListWidget()
        self.pages = QStackedWidget()
        for boxes in ((self.appearance, self.reading, self.privacy),
                      (self.generation, self.embedding), (self.api,), (self.backups,),
                      (self.storage,)):
            self.page_list.addItem("")
            self.pages.addWidget(self._page(boxes))
        self.page_list.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.page_list.setCurrentRow(0)
        self.page_list.setFixedWidth(170)
        self.page_list.setStyleSheet("QListWidget::item { padding: 6px 8px; }")
        body = QHBoxLayout()
        body.addWidget(self.page_list)
        body.addWidget(self.pages, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        self._follow_edits()
        self.retranslate()
        self.load()

    @staticmethod
    def _page(boxes) -> QScrollArea:
        content = QWidget()
        column = QVBoxLayout(content)
        for box in boxes:
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        return scroll

    def show_page(self, box: QWidget) -> None:
        """Turn to the page that holds `box` (e.g. `self.api`)."""
        for i in range(self.pages.count()):
            if self.pages.widget(i).widget().isAncestorOf(box):
                self.page_list.setCurrentRow(i)

    def _follow_edits(self) -> None:
        """Enable Apply and Reset while a field differs from what is saved."""
        actions = {self.api.key_name, self.api.key_scope, self.api.key_all_collections,
                   self.api.key_mask, self.api.new_key}  # a key's fields, not settings
        for box in self.findChildren(QComboBox):
            box.currentIndexChanged.connect(self._update_buttons)
        for field in self.findChildren(QLineEdit):
            if field not in actions and not isinstance(field.parent(), (QAbstractSpinBox,
                                                                         QComboBox)):
                field.textChanged.connect(self._update_buttons)
        for box in self.findChildren(QCheckBox):
            if box not in actions:
                box.toggled.connect(self._update_buttons)
        for box in self.findChildren(QAbstractSpinBox):
            if isinstance(box, QTimeEdit):
                box.timeChanged.connect(self._update_buttons)
            else:
                box.valueChanged.connect(self._update_buttons)
        self.backups.loaded.connect(self._update_buttons)

    def pending(self) -> bool:
        """Whether something on screen is not applied yet."""
        return bool(self.changes() or self.server.key.text()
                    or self.embedding_model.currentData() != self._library_embedding_model()
                    or self.backups.pending_plan() is not None)

    def _update_buttons(self) -> None:
        pending = self.pending()
        self.apply_button.setEnabled(pending)
        self.revert_button.setEnabled(pending)

    # --- texts -------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.appearance.setTitle(self.tr("Appearance"))
        self.language_label.setText(self.tr("Language"))
        self.theme_label.setText(self.tr("Theme"))
        self.language.setItemText(0, self.tr("Same as the system"))
        for i, text in enumerate((self.tr("Same as the system"), self.tr("Light"), self.tr("Dark"))):
            self.theme.setItemText(i, text)
        self.generation.setTitle(self.tr("Answer model"))
        for label, text in zip(self.generation_labels, (
                self.tr("Model"), self.tr("Context size (tokens)"), self.tr("Temperature"),
                self.tr("Longest answer (tokens)"), self.tr("Threads (0 = all cores)"))):
            label.setText(text)
        self.add_model_button.setText(self.tr("Add GGUF file…"))
        self.add_model_button.setToolTip(self.tr(
            "Copy a bigger instruction-tuned model in GGUF format (for example 1B to 8B "
            "parameters, from a USB stick) into the library, for better answers"))
        self._show_model_note()
        self.embedding.setTitle(self.tr("Embedding model"))
        self.embedding_folder_button.setText(self.tr("Choose folder…"))
        self.embedding_note.setText(self.tr(
            "Changing the embedding model embeds the whole library again when you apply; "
            "search keeps using the old model until that is done."))
        self.reembed_cancel.setText(self.tr("Cancel"))
        self.storage.setTitle(self.tr("Data directory"))
        self.data_dir_button.setText(self.tr("Choose…"))
        self.data_dir_note.setText(self.tr(
            "Where the encrypted library lives. A change takes effect when Enclave starts "
            "again; the current library stays where it is."))
        self.reading.setTitle(self.tr("Scanned documents"))
        self.ocr.setText(self.tr("Read scanned pages and images (PNG, JPEG, TIFF) with OCR as "
                                 "they are imported: a few seconds a page"))
        self.privacy.setTitle(self.tr("Privacy"))
        self.mask_at_import.setText(self.tr("Mask personal data in documents as they are imported"))
        self.mask_note.setText(self.tr(
            "E-mail addresses, phone numbers, card numbers and ID numbers are replaced by "
            "[email], [phone], [card number] and [ID number] before they are stored: the "
            "library never holds them, and answers cannot repeat them. Documents already in "
            "the library keep their text until they are re-indexed (Documents tab)."))
        for box in (self.model, self.embedding_model):
            for i in range(box.count()):
                box.setItemText(i, self._model_label(box.itemData(i)))
        self.apply_button.setText(self.tr("Apply"))
        self.revert_button.setText(self.tr("Reset"))
        self.revert_button.setToolTip(self.tr("Drop the changes not applied yet"))
        for i, text in enumerate((self.tr("General"), self.tr("Models"), self.tr("LAN API"),
                                  self.tr("Backups"), self.tr("Advanced"))):
            self.page_list.item(i).setText(text)

    # --- values ------------------------------------------------------------------------

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self.embedding.setEnabled(service is not None)
        self.server.set_service(service)
        self._show_library_embedding_model()
        self.api.set_service(service)
        self.backups.set_service(service)

    def load(self) -> None:
        """Show the saved settings (dropping unapplied edits)."""
        s = self.backend.settings
        self.language.setCurrentIndex(max(0, self.language.findData(s.language)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        self._fill_models(s.generation_model)
        self.context.setValue(s.context_tokens)
        self.temperature.setValue(s.temperature)
        self.max_tokens.setValue(s.max_answer_tokens)
        self.threads.setValue(s.threads or 0)
        self.server.load(s)
        self.embedding_model.clear()
        for name in dict.fromkeys([*BUNDLED_EMBEDDING_MODELS, self._library_embedding_model()]):
            self.embedding_model.addItem(self._model_label(name), name)
        self._show_library_embedding_model()
        self.data_dir.setText(str(s.data_dir))
        self.ocr.setChecked(s.ocr)
        self.mask_at_import.setChecked(s.mask_personal_data_at_ingest)
        self.api.load(s)
        self.backups.reset()
        self.message.clear()
        self._update_buttons()

    def _library_embedding_model(self) -> str:
        """The model the open library is embedded with (a library made in fp32 keeps it
        whatever the setting says), else the setting."""
        if self.service is not None:
            return self.service.config.embedding_model
        return self.backend.settings.embedding_model

    def _show_library_embedding_model(self) -> None:
        self.embedding_model.setCurrentIndex(
            max(0, self.embedding_model.findData(self._library_embedding_model())))

    def _model_label(self, name: str) -> str:
        if name in MODEL_LABELS:
            return self.tr("{0} (bundled)").format(MODEL_LABELS[name])
        return Path(name).name

    def _show_model_note(self) -> None:
        checked = self.tr(
            "Every answer is checked against your documents; one that cannot be supported is "
            "replaced by a quotation of the passages.")
        if self.model.currentData() in BUNDLED_GENERATION_MODELS or self.model.count() == 0:
            self.model_note.setText(self.tr(
                "The bundled models are tiny (135M and 270M parameters). They are good at "
                "pointing to the right passage and at short factual answers; they are weak at "
                "reasoning, long answers and Chinese.") + " " + checked + " " + self.tr(
                "For better answers, add a bigger GGUF model."))
        else:
            self.model_note.setText(checked)

    def _fill_models(self, current: str) -> None:
        self.model.clear()
        models_dir = self.backend.data_dir / "models"
        imported = sorted(str(p) for p in models_dir.glob("*.gguf")) if models_dir.is_dir() else []
        for name in dict.fromkeys([*BUNDLED_GENERATION_MODELS, current, *imported]):
            if name.endswith("gemma-3-270m-it-Q4_K_M.gguf"):
                continue  # the bundled Gemma, assembled into the models folder
            self.model.addItem(self._model_label(name), name)
            self.model.setItemData(self.model.count() - 1, name, 3)  # tooltip: the path
        self.model.setCurrentIndex(max(0, self.model.findData(current)))

    def changes(self) -> dict:
        s = self.backend.settings
        wanted = {
            "language": self.language.currentData(), "theme": self.theme.currentData(),
            "generation_model": self.model.currentData(), "context_tokens": self.context.value(),
            "temperature": round(self.temperature.value(), 2),
            "max_answer_tokens": self.max_tokens.value(), "threads": self.threads.value() or None,
            "data_dir": Path(self.data_dir.text().strip()).expanduser(),
            "ocr": self.ocr.isChecked(),
            "mask_personal_data_at_ingest": self.mask_at_import.isChecked(),
            **self.server.values(), **self.api.values(),
        }
        return {k: v for k, v in wanted.items() if getattr(s, k) != v}

    def apply(self) -> None:
        embedding = self.embedding_model.currentData()
        if embedding and embedding != self._library_embedding_model():
            self._reembed(embedding)
        # a key typed is kept in the library (never in the settings file), and the settings
        # are saved once it is there: the engine they restart then finds it
        if not self.server.store_key(lambda: self._save({"inference_server_key"}),
                                     lambda exc: self._say(str(exc), error=True)):
            self._save(set())

    def _save(self, also_changed: set[str]) -> None:
        """Save the settings changed on screen and the backup plan, and tell who follows
        them what changed (with `also_changed`, kept elsewhere)."""
        changes = self.changes()
        if self.backups.pending_plan() is not None:
            self.backups.save_plan(on_error=lambda exc: self._say(engine_texts.shown(exc),
                                                                  error=True),
                                   on_saved=self._update_buttons)
        if not changes and not also_changed:
            self._update_buttons()
            return
        if "data_dir" in changes and not str(changes["data_dir"]).strip(". "):
            self._say(self.tr("Choose a data directory."), error=True)
            return
        if changes:
            try:
                self.backend.save(**changes)
            except UserError as exc:
                self._say(engine_texts.shown(exc), error=True)
                return
        self.settingsChanged.emit(set(changes) | also_changed)  # first: a new language applies
        if {"api_enabled", "api_host", "api_port"} & set(changes):
            self.api.follow(self.backend.settings)
        self._say(self.tr("Saved.") + (" " + self.tr("The new data directory is used from the "
                                                     "next start.") if "data_dir" in changes else ""))
        self._update_buttons()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    # --- models ------------------------------------------------------------------------

    def choose_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Add a GGUF model"), "",
                                              self.tr("GGUF models") + " (*.gguf)")
        if path:
            self.import_gguf(Path(path))

    def import_gguf(self, path: Path) -> None:
        """Copy a model into the data directory (with its checksum) and select it."""
        self.model_progress.setRange(0, 100)
        self.model_progress.setValue(0)
        self.model_progress.show()
        self.add_model_button.setEnabled(False)
        backend = self.backend
        self.tasks.run(
            lambda report: backend.import_model(path, lambda done, total: report(done * 100 // max(total, 1))),
            on_progress=self.model_progress.setValue, on_result=self._model_imported,
            on_error=lambda exc: self._say(str(exc), error=True),
            on_finished=lambda: (self.model_progress.hide(), self.add_model_button.setEnabled(True)))

    def _model_imported(self, target: Path) -> None:
        self._fill_models(str(target))
        self._say(self.tr("{0} was copied into the library's models folder. Apply to use it.")
                  .format(target.name))

    def choose_embedding_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("A sentence-transformers model folder"))
        if folder:
            self.embedding_model.addItem(Path(folder).name, folder)
            self.embedding_model.setCurrentIndex(self.embedding_model.count() - 1)

    def _reembed(self, model: str) -> None:
        service = self.service
        if service is None:
            return
        answer = QMessageBox.question(self, self.tr("Change the embedding model"), self.tr(
            "Embed the whole library again with {0}? This can take a while; you can keep "
            "working meanwhile.").format(self._model_label(model)))
        if answer != QMessageBox.Yes:
            self._show_library_embedding_model()
            return
        cancel = self._cancel = CancelToken()
        self.reembed_progress.setRange(0, 0)
        self.reembed_progress.show()
        self.reembed_cancel.show()
        self.embedding_model.setEnabled(False)

        def progress(value) -> None:
            done, total = value
            self.reembed_progress.setRange(0, max(total, 1))
            self.reembed_progress.setValue(done)

        self.tasks.run(lambda report: service.library.reembed(model, lambda d, t: report((d, t)), cancel),
                       on_progress=progress, on_result=lambda _: self._reembedded(model),
                       on_error=self._reembed_failed, on_finished=self._reembed_finished)

    def _reembedded(self, model: str) -> None:
        self.backend.save(embedding_model=model)
        self._say(self.tr("The library now uses {0}.").format(self._model_label(model)))
        self.settingsChanged.emit({"embedding_model"})

    def _reembed_failed(self, exc: BaseException) -> None:
        self._show_library_embedding_model()
        if isinstance(exc, Cancelled):
            self._say(self.tr("Cancelled: the library still uses the old model."))
        else:
            self.errorRaised.emit(exc)

    def _reembed_finished(self) -> None:
        self.reembed_progress.hide()
        self.reembed_cancel.hide()
        self.embedding_model.setEnabled(True)

    def choose_data_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Where should the library live?"),
                                                  self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)
