"""The UI's language: English in the source, Simplified Chinese from resources/translations.
English has a translation file too, of its plural forms only ("%n document(s)" reads
"1 document", "2 documents"), as Qt's `lupdate -pluralonly` makes it.

`Language.apply(code)` swaps the installed translators; Qt then sends every widget a
LanguageChange event, on which each widget sets its texts again (`retranslate`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

TRANSLATIONS = Path(__file__).resolve().parent.parent / "resources" / "translations"
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}


def resolve(code: str) -> str:
    """"system" becomes the system locale's language where Enclave has it, else English."""
    if code in LANGUAGES:
        return code
    return "zh_CN" if QLocale.system().name().startswith("zh") else "en"


class Language:
    def __init__(self, app: QApplication):
        self.app = app
        self.current = "en"
        self._translators: list[QTranslator] = []

    def apply(self, code: str) -> str:
        """Switch the whole UI to `code` ("system", "en" or "zh_CN"); returns the one used."""
        code = resolve(code)
        for translator in self._translators:
            self.app.removeTranslator(translator)
        self._translators = []
        files = [(f"enclave_{code}", TRANSLATIONS)]
        if code != "en":
            files.append((f"qtbase_{code}", QLibraryInfo.path(QLibraryInfo.TranslationsPath)))
        for name, folder in files:
            translator = QTranslator(self.app)
            if translator.load(name, str(folder)):
                self.app.installTranslator(translator)
                self._translators.append(translator)
        self.current = code
        return code


class Retranslating:
    """Mixed into a widget (before its Qt class): calls its `retranslate()`, which sets
    every visible text, whenever the UI language changes, and its `apply_colors()` (by
    default nothing) whenever the palette changes (a theme switch)."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.PaletteChange:
            self.apply_colors()
        super().changeEvent(event)

    def apply_colors(self) -> None:
        """Colours taken from the palette: set them again here."""
