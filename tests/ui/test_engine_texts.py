"""The engine's messages reach the window in its language: each code of engine/texts.py
has the same English here (ui/engine_texts.py) and a Chinese translation, and a real error
from the engine shows in Chinese in the Chinese window."""

from __future__ import annotations

import string

import pytest

from engine import NotFoundError, UserError
from tests.ui.conftest import set_up_library

pytestmark = pytest.mark.gui


def example(code: str) -> UserError:
    from engine.texts import TEXTS

    names = {field for _, field, _, _ in string.Formatter().parse(TEXTS[code]) if field}
    return UserError.said(code, **{name: f"<{name}>" for name in names})


def test_every_engine_text_is_shown_in_the_windows_language(qapp):
    from engine.texts import TEXTS
    from ui import engine_texts
    from ui.i18n import Language

    language = Language(qapp)
    try:
        assert language.apply("en") == "en"
        for code in TEXTS:  # the same English words on both sides
            assert engine_texts.shown(example(code)) == str(example(code)), code
        assert language.apply("zh_CN") == "zh_CN"
        for code in TEXTS:
            shown = engine_texts.shown(example(code))
            assert shown != str(example(code)), code  # translated
            assert all(f"<{name}>" in shown for name in example(code).values), code
        assert engine_texts.shown(UserError("Words of its own.")) == "Words of its own."
    finally:
        language.apply("en")


def test_an_engine_error_shows_in_chinese_in_the_chinese_window(qtbot, open_window):
    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    settings.language.setCurrentIndex(settings.language.findData("zh_CN"))
    settings.apply()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "聊天")
    try:
        window.service.conversations.get(999)
    except NotFoundError as error:
        window.show_error(error)
    assert window.banner.label.text() == "该对话已不存在。"
    try:
        window.service.library.create_collection("x" * 101)
    except UserError as error:
        window.show_error(error)
    assert window.banner.label.text() == "集合名称须为 1 到 100 个字符。"


def test_why_files_were_not_imported_shows_in_chinese(qtbot, open_window, tmp_path):
    """Files dropped into the Chinese window fail for their reasons: the Import panel says
    why in Chinese, and so does the Documents tab, from the failures kept in the vault,
    also after the language changes back and forth."""
    from tests.engine.test_texts import make_locked_pdf

    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    settings.language.setCurrentIndex(settings.language.findData("zh_CN"))
    settings.apply()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "聊天")
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    make_locked_pdf(folder / "locked.pdf")
    stray = tmp_path / "notes.xyz"
    stray.write_text("not a type Enclave reads")
    window.documents.add_paths([folder, stray])
    documents = window.documents
    qtbot.waitUntil(lambda: documents.failed.rowCount() == 2, timeout=60_000)
    failed = {documents.failed.item(row, 0).text(): documents.failed.item(row, 1).text()
              for row in range(documents.failed.rowCount())}
    assert failed == {"empty.txt": "空文件", "locked.pdf": "该 PDF 受密码保护"}
    states = {documents.imports.jobs.item(row, 0).text():
              documents.imports.jobs.item(row, 1).text()
              for row in range(documents.imports.jobs.rowCount())}
    assert states["notes.xyz"].endswith("不支持的文件类型“.xyz”")
    assert states["empty.txt"].endswith("空文件")
    assert states["locked.pdf"].endswith("该 PDF 受密码保护")

    settings.language.setCurrentIndex(settings.language.findData("en"))
    settings.apply()
    qtbot.waitUntil(lambda: documents.failed.item(0, 1).text() in (
        "empty file", "the PDF is password-protected"))
    assert {documents.failed.item(row, 1).text() for row in range(2)} == {
        "empty file", "the PDF is password-protected"}
    assert documents.imports.row_state("notes.xyz") == "failed"


def test_a_failed_backup_says_why_in_chinese(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    settings.language.setCurrentIndex(settings.language.findData("zh_CN"))
    settings.apply()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "聊天")
    window.tabs.setCurrentWidget(settings)
    panel = settings.backups
    qtbot.waitUntil(lambda: panel.isEnabled() and panel._result is None, timeout=10_000)
    usb = tmp_path / "usb"
    usb.mkdir()
    panel.enabled.setChecked(True)
    panel.destination.setText(str(usb))
    settings.apply()
    qtbot.waitUntil(lambda: window.backend.next_backup() is not None, timeout=10_000)
    usb.rename(tmp_path / "unplugged")
    panel.back_up_now()
    qtbot.waitUntil(lambda: panel._result is not None, timeout=60_000)
    assert panel.last.text().endswith(f"备份文件夹 {usb} 不存在（驱动器是否已连接？）。")
    panel.destination.setText(str(tmp_path / "nowhere"))
    settings.apply()
    qtbot.waitUntil(lambda: settings.message.text() == (
        f"备份文件夹 {tmp_path / 'nowhere'} 不存在（驱动器是否已连接？）。"), timeout=10_000)
