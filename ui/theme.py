"""Light and dark palettes on Qt's Fusion style, following the system unless chosen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
ERROR_STYLE = "color: #d93025;"
WARNING_STYLE = "color: #b06000;"


def is_dark(theme: str, app: QApplication) -> bool:
    if theme == "system":
        return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return theme == "dark"


def apply_theme(app: QApplication, theme: str) -> None:
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if is_dark(theme, app) else app.style().standardPalette())


def _dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.Window: "#202124", QPalette.WindowText: "#e8eaed",
        QPalette.Base: "#17181a", QPalette.AlternateBase: "#26282b",
        QPalette.ToolTipBase: "#303134", QPalette.ToolTipText: "#e8eaed",
        QPalette.Text: "#e8eaed", QPalette.Button: "#2d2f31", QPalette.ButtonText: "#e8eaed",
        QPalette.BrightText: "#ff6b6b", QPalette.Link: "#8ab4f8", QPalette.LinkVisited: "#c58af9",
        QPalette.Highlight: "#3b6fd8", QPalette.HighlightedText: "#ffffff",
        QPalette.PlaceholderText: "#9aa0a6", QPalette.Mid: "#3c4043", QPalette.Dark: "#111214",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        palette.setColor(QPalette.Disabled, role, QColor("#6f7377"))
    return palette
