"""The inference server fields of the settings' Answer model box: the address of the
site's OpenAI-compatible server that answers instead of the local model, its model name,
API key and timeout, whether the local model stands in when it does not answer, and a
check that asks the server (on a worker) and says what is wrong.

The key is kept in the open library's vault (`service.answers.set_inference_server_key`),
never in the settings file; the field shows only whether one is kept.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QWidget)

from engine import EnclaveService, UserError, check_inference_server

from .i18n import Retranslating
from .theme import ERROR_STYLE
from .worker import Tasks


class InferenceServerFields(Retranslating, QWidget):
    errorRaised = Signal(object)
    """A bug met while checking the server (what is wrong with the server is shown here)."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self._key_stored = False
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://gpu-server:8000/v1")
        self.check_button = QPushButton()
        self.check_button.clicked.connect(self.check)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url, 1)
        url_row.addWidget(self.check_button)
        self.model = QLineEdit()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.Password)
        self.timeout = QSpinBox(minimum=1, maximum=600)
        self.fallback = QCheckBox()
        self.note = QLabel()  # what the server is for, or what the check found
        self.note.setWordWrap(True)
        self.labels = [QLabel() for _ in range(4)]
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)  # sized to their content
        self.url.setMinimumWidth(360)
        for field in (self.model, self.key):
            field.setMinimumWidth(260)
        for label, field in zip(self.labels, (url_row, self.model, self.key, self.timeout)):
            form.addRow(label, field)
        form.addRow(self.fallback)
        form.addRow(self.note)
        self.retranslate()

    def retranslate(self) -> None:
        for label, text in zip(self.labels, (
                self.tr("Inference server"), self.tr("Server's model"),
                self.tr("Server's API key"), self.tr("Server timeout (s)"))):
            label.setText(text)
        self.check_button.setText(self.tr("Check"))
        self.model.setPlaceholderText(self.tr("The first model the server lists"))
        self._show_key_placeholder()
        self.fallback.setText(self.tr(
            "When the server does not answer, the local model answers (otherwise answers "
            "quote the documents)"))
        self._show_result(self.tr(
            "An OpenAI-compatible server on your network (vLLM, llama.cpp, Ollama, TGI) "
            "writes the answers instead of the local model: a bigger model, checked against "
            "your documents all the same. Leave the address empty to use the local model."))

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self.key.setEnabled(service is not None)  # the key is kept in the library
        self._key_found(False)
        if service is not None:
            self.tasks.run(lambda _: service.answers.has_inference_server_key,
                           on_result=self._key_found)

    def load(self, settings) -> None:
        """Show the saved settings (dropping a key typed and not applied)."""
        self.url.setText(settings.inference_server_url)
        self.model.setText(settings.inference_server_model)
        self.key.clear()
        self.timeout.setValue(round(settings.inference_server_timeout_s))
        self.fallback.setChecked(settings.inference_server_fallback)

    def values(self) -> dict:
        """The settings as shown (the key is not a setting)."""
        return {"inference_server_url": self.url.text().strip(),
                "inference_server_model": self.model.text().strip(),
                "inference_server_timeout_s": float(self.timeout.value()),
                "inference_server_fallback": self.fallback.isChecked()}

    def store_key(self, on_stored: Callable[[], None],
                  on_error: Callable[[BaseException], None]) -> bool:
        """Keep a key typed in the library, on a worker; False when none was typed."""
        key, service = self.key.text(), self.service
        if not key or service is None:
            return False
        self.key.clear()

        def stored(_) -> None:
            self._key_found(True)
            on_stored()

        self.tasks.run(lambda _: service.answers.set_inference_server_key(key),
                       on_result=stored, on_error=on_error)
        return True

    def check(self) -> None:
        """Ask the server which models it serves, with the key typed or the one kept."""
        url, model = self.url.text().strip(), self.model.text().strip()
        if not url:
            self._show_result(self.tr("Type the server's address first."), error=True)
            return
        key, service, timeout = self.key.text() or None, self.service, float(self.timeout.value())
        self.check_button.setEnabled(False)
        self._show_result(self.tr("Asking the server…"))
        self.tasks.run(
            lambda _: (service.answers.check_inference_server(url, model, key, timeout)
                       if service is not None else
                       check_inference_server(url, model, key or "", timeout)),
            on_result=lambda served: self._show_result(self.tr(
                "The server answers; it serves: {0}.").format(", ".join(served))),
            on_error=self._check_failed, on_finished=lambda: self.check_button.setEnabled(True))

    def _check_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError):
            self._show_result(str(exc), error=True)
        else:
            self._show_result("")
            self.errorRaised.emit(exc)

    def _key_found(self, stored: bool) -> None:
        self._key_stored = stored
        self._show_key_placeholder()

    def _show_key_placeholder(self) -> None:
        self.key.setPlaceholderText(
            self.tr("Kept in the library: type a new one to replace it") if self._key_stored
            else self.tr("None") if self.service is not None
            else self.tr("Open the library to set the key"))

    def _show_result(self, text: str, error: bool = False) -> None:
        self.note.setStyleSheet(ERROR_STYLE if error else "")
        self.note.setText(text)
