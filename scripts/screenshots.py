"""Walks the desktop app through what a new user does and saves a PNG at each step: the
empty library's screens in English and Chinese, then an import, answers, the source
viewer, Health, Cost and every Settings page in English, and the same screens in Chinese
(names ending in -zh; the empty library's start with empty-).

Run by scripts/screenshots.sh on Xvfb. Every step waits for the real thing (models,
ingest, answer) and fails loudly if it does not happen within its time.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialogButtonBox, QToolTip

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.desktop import DesktopBackend  # noqa: E402
from tests.conftest import write_sample_corpus  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

PASSPHRASE = "correct horse battery"
R_INTRO = Path("/usr/share/R/doc/manual/R-intro.pdf")
R_DATA = Path("/usr/share/R/doc/manual/R-data.pdf")  # imported while the UI is in Chinese


def samples(folder: Path) -> Path:
    write_sample_corpus(folder)
    if R_INTRO.exists():
        shutil.copy(R_INTRO, folder / R_INTRO.name)
    return folder


class Tour:
    def __init__(self, app: QApplication, out: Path, sample_dir: Path):
        self.app, self.out, self.sample_dir = app, out, sample_dir
        self.window = MainWindow(DesktopBackend(), app)
        self.window.move(0, 0)

    def wait(self, condition, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshots: timed out waiting for {what}")
            self.app.processEvents()
            time.sleep(0.02)
        self.settle()

    def settle(self, seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.02)

    def ask(self, question: str) -> None:
        chat = self.window.chat
        chat.question.setPlainText(question)
        chat.send()
        self.wait(lambda: not chat.generating, 120, "an answer")
        print(f"{question!r}: {chat.message_views[-1].kind}")

    def shot(self, name: str, widget=None) -> None:
        self.settle()
        target = widget or self.window
        pixmap = self.app.primaryScreen().grabWindow(
            0, target.x(), target.y(), target.frameGeometry().width(),
            target.frameGeometry().height())
        path = self.out / f"{name}.png"
        pixmap.save(str(path))
        print("saved", path)

    def language(self, code: str) -> None:
        settings = self.window.settings
        settings.language.setCurrentIndex(settings.language.findData(code))
        settings.apply()
        chat = "聊天" if code == "zh_CN" else "Chat"
        self.wait(lambda: self.window.tabs.tabText(0) == chat, 10, f"the UI in {code}")

    def figures(self, suffix: str = "", prefix: str = "") -> None:
        """Health and Cost, read afresh."""
        w = self.window
        w.service.health.sample()  # the scheduler's 30 s sample, now
        for panel, name in ((w.health, "10-health"), (w.cost, "11-cost")):
            w.tabs.setCurrentWidget(panel)
            panel.data = None
            panel.refresh()
            self.wait(lambda: panel.data is not None, 30, f"the {name} figures")
            self.shot(f"{prefix}{name.split('-', 1)[1] if prefix else name}{suffix}")

    def settings_pages(self, suffix: str = "", prefix: str = "") -> None:
        w = self.window
        s = w.settings
        w.tabs.setCurrentWidget(s)
        pages = ((s.appearance, "06-settings"), (s.generation, "06-settings-models"),
                 (s.api, "06-settings-api"), (s.backups, "06-settings-backups"),
                 (s.storage, "06-settings-advanced"))
        for box, name in pages[:1] if prefix else pages:
            s.show_page(box)
            self.shot(f"{prefix}{name.split('-', 1)[1] if prefix else name}{suffix}")
        s.show_page(s.appearance)

    def empty_library(self, suffix: str) -> None:
        w = self.window
        w.tabs.setCurrentWidget(w.chat)
        self.wait(lambda: w.chat.library_empty.isVisible(), 30, "the empty library's offer")
        self.shot("12-empty-library" if not suffix else f"empty-library{suffix}")
        w.tabs.setCurrentWidget(w.documents)
        self.shot(f"empty-documents{suffix}")
        self.figures(suffix, prefix="empty-")
        self.settings_pages(suffix, prefix="empty-")

    def run(self) -> None:
        w = self.window
        w.show()
        w.start()
        dialog = w.setup_dialog
        self.wait(lambda: dialog.models.text().count("✔") == 2, 60, "the model check")
        dialog.use_passphrase.setChecked(True)
        dialog.passphrase.setText(PASSPHRASE)
        dialog.confirm.setText(PASSPHRASE)
        dialog.move(w.geometry().center() - dialog.rect().center())
        self.shot("01-first-run", dialog)
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        self.wait(lambda: w.state == "ready", 120, "the library and models")
        self.empty_library("")
        self.language("zh_CN")
        self.empty_library("-zh")
        self.language("en")

        w.tabs.setCurrentWidget(w.documents)
        w.documents.add_paths([self.sample_dir])
        self.wait(lambda: w.documents.row_state("R-intro.pdf") == "embedding", 120, "the import")
        self.settle(3)
        self.shot("02-import")
        self.wait(lambda: not w.documents.running, 900, "the import to finish")
        self.shot("03-documents")

        w.tabs.setCurrentWidget(w.chat)
        # one answer, one quote (the model's words could not be supported) and, in a chat
        # of its own, one refusal with the closest passages; the kinds are printed, since
        # they are the engine's verdicts and not the script's
        for question in ("At what pressure does the relief valve open?",
                         "How do I attach a data frame?"):
            self.ask(question)
        self.shot("04-chat")
        answer = next(v for v in w.chat.message_views if v.role == "assistant")
        chip = answer.source_chips.shown()[0]
        QToolTip.showText(chip.mapToGlobal(chip.rect().bottomLeft()), chip.toolTip(), chip)
        self.shot("04-chat-preview")
        QToolTip.hideText()

        view = next(v for v in w.chat.message_views if v.role == "assistant" and v.sources)
        view.sourceClicked.emit(view.sources[0])
        viewer = w.viewer
        self.wait(lambda: getattr(viewer, "rendered", None) is not None, 30, "the source page")
        viewer.resize(820, 840)
        viewer.move(w.x() + 440, w.y())
        self.shot("05-source", viewer)
        viewer.hide()

        w.chat.new_chat()
        self.ask("How do I train a neural network in TensorFlow?")
        self.shot("13-chat-refusal")

        for question in ("At what pressure does the relief valve open?",  # a cache hit
                         "How do I read data from a file into R?"):
            self.ask(question)

        s = w.settings
        api, backups = s.api, s.backups
        w.tabs.setCurrentWidget(s)
        self.wait(backups.isEnabled, 30, "the backup plan")
        api.enabled.setChecked(True)  # both applied with the one Apply
        backups.enabled.setChecked(True)
        backups.destination.setText(str(self.sample_dir.parent))
        s.apply()
        self.wait(lambda: api.server is not None, 30, "the LAN API")
        self.wait(lambda: backups.message.text() == "Backup plan saved.", 30, "the saved plan")
        api.key_name.setText("reporting-server")
        api.create_button.click()
        self.wait(lambda: api.keys.rowCount() == 1, 10, "the new key")
        backups.back_up_now()
        self.wait(lambda: "verified" in backups.last.text(), 120, "a backup")
        self.figures()
        self.settings_pages()
        w.show_about()
        self.shot("14-about", w.about)
        w.about.close()

        self.language("zh_CN")
        self.shot("07-settings-zh")
        for box, name in ((s.generation, "settings-models-zh"), (s.api, "settings-api-zh"),
                          (s.backups, "settings-backups-zh")):
            s.show_page(box)
            self.shot(name)
        self.figures("-zh")
        w.tabs.setCurrentWidget(w.chat)
        w.chat.new_chat()
        w.chat.question.setPlainText("冷却塔的风机多久更换一次润滑油？")
        w.chat.send()
        self.wait(lambda: not w.chat.generating, 120, "a Chinese answer")
        self.shot("08-chat-zh")
        w.tabs.setCurrentWidget(w.documents)
        if R_DATA.exists():
            w.documents.add_paths([R_DATA])
            self.wait(lambda: w.documents.row_state(R_DATA.name) == "embedding", 120,
                      "the Chinese import")
            self.settle(3)
            self.shot("import-zh")
            self.wait(lambda: not w.documents.running, 900, "the Chinese import to finish")
        self.shot("09-documents-zh")
        w.close()


def main() -> int:
    out, sample_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Enclave")
    Tour(app, out, samples(sample_dir)).run()  # it turns the event loop itself
    return 0


if __name__ == "__main__":
    sys.exit(main())
