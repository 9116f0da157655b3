"""The desktop app driven as a person would: set up, drop files, ask, open sources."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QMessageBox

from tests.conftest import PASSPHRASE, R_INTRO
from tests.ui.conftest import drop, ingest, set_up_library

pytestmark = pytest.mark.gui


def ask(qtbot, window, question: str):
    window.chat.question.setPlainText(question)
    qtbot.keyClick(window.chat.question, Qt.Key_Return)
    qtbot.waitUntil(lambda: not window.chat.generating, timeout=60_000)
    return window.chat.message_views[-1]


def test_first_run_then_dropped_files_reach_indexed(qtbot, open_window, corpus):
    window = open_window()
    qtbot.waitUntil(lambda: window.setup_dialog.models.text().count("✔") == 2, timeout=20_000)
    set_up_library(qtbot, window)
    drop(window, [corpus])
    qtbot.waitUntil(lambda: window.documents.row_state("pumps.pdf") == "indexed", timeout=60_000)
    qtbot.waitUntil(lambda: not window.documents.running, timeout=60_000)
    assert window.documents.row_state("设备.txt") == "indexed"
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 6)
    names = {window.documents.model.item(r, 0).text() for r in range(6)}
    assert "policy.docx" in names
    # dropping the same folder again: every file is unchanged
    drop(window, [corpus])
    qtbot.waitUntil(lambda: window.documents.row_state("pumps.pdf") == "skipped", timeout=30_000)


def test_setup_refuses_a_short_or_mismatched_passphrase(qtbot, open_window):
    window = open_window()
    dialog = window.setup_dialog
    dialog.passphrase.setText("short")
    dialog.confirm.setText("short")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert "at least 8" in dialog.error.text() and dialog.isVisible()
    dialog.passphrase.setText(PASSPHRASE)
    dialog.confirm.setText(PASSPHRASE + "!")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert "differ" in dialog.error.text() and window.service is None


def test_a_streamed_answer_has_source_chips_that_open_the_page(qtbot, open_window, corpus):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    pieces = []
    window.chat.question.setPlainText("At what pressure does the relief valve open?")
    window.chat.send()
    view = window.chat.message_views[-1]
    original_append = view.append
    view.append = lambda piece: (pieces.append(piece), original_append(piece))
    assert window.chat.stop_button.isVisible() and not window.chat.send_button.isVisible()
    qtbot.waitUntil(lambda: not window.chat.generating, timeout=60_000)
    # streamed sentence by sentence (each checked against the sources before it shows)
    assert view.kind == "answer" and "".join(pieces) == view.text
    assert "12.5" in view.text
    chips = [view.chips.itemAt(i).widget() for i in range(view.chips.count())]
    pump_chip = next(c for c in chips if "pumps.pdf · p. 2" in c.text())
    assert f"[{pump_chip.text()[1]}]" in view.text and pump_chip.font().bold()  # it is cited
    qtbot.mouseClick(pump_chip, Qt.LeftButton)
    viewer = window.viewer
    qtbot.waitUntil(lambda: getattr(viewer, "rendered", None) is not None, timeout=10_000)
    assert viewer.isVisible() and viewer.is_pdf_view
    assert viewer.page_label.text() == "Page 2 of 3"
    assert viewer.rendered.page == 2 and viewer.rendered.highlights > 0
    assert not viewer.image.pixmap().isNull()
    qtbot.mouseClick(viewer.next_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: viewer.rendered.page == 3)
    # a citation link in the text opens the same way
    view.body.linkActivated.emit("cite:1")
    assert viewer.passage is not None


def test_a_text_source_opens_at_the_highlighted_passage(qtbot, open_window, corpus):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    hit = window.service.answers.search("vegetarian lasagne", k=1)[0]
    window.open_source({"n": 1, "document": hit.document, "document_id": hit.document_id,
                        "char_start": hit.char_start, "char_end": hit.char_end, "text": hit.text})
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.passage is not None and not viewer.is_pdf_view)
    selections = viewer.text.extraSelections()
    selection = selections[0].cursor.selectedText()
    assert "vegetarian lasagne" in selection


def test_stop_and_escape_stop_an_answer(qtbot, open_window, corpus):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    window.chat.question.setPlainText("How often is pump P-101 inspected?")
    window.chat.send()
    qtbot.keyClick(window.chat.question, Qt.Key_Escape)
    qtbot.waitUntil(lambda: not window.chat.generating, timeout=60_000)
    view = window.chat.message_views[-1]
    assert view.status.text() == "Stopped."
    assert window.chat.send_button.isVisible() and not window.chat.stop_button.isVisible()
    stored = window.service.conversations.messages(window.chat.chat_id)
    assert [m.role for m in stored] == ["user", "assistant"]


def test_history_is_kept_across_restarts_and_chats_can_be_renamed_and_deleted(
        qtbot, open_window, corpus, monkeypatch, backend_factory):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    ask(qtbot, window, "Which badge do visitors wear?")
    qtbot.waitUntil(lambda: window.chat.chat_list.count() == 1)
    assert window.chat.chat_list.item(0).text() == "Which badge do visitors wear?"
    window.close()

    window = open_window(backend_factory())
    dialog = window.passphrase_dialog
    dialog.passphrase.setText(PASSPHRASE)
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: len(window.chat.message_views) == 2, timeout=30_000)
    assert window.chat.message_views[0].text == "Which badge do visitors wear?"
    assert window.chat.message_views[1].sources
    item = window.chat.chat_list.item(0)
    item.setText("Badges")  # what editing the item in place does
    qtbot.waitUntil(lambda: window.service.conversations.list()[0].title == "Badges")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    window.chat.chat_list.setCurrentRow(0)
    window.chat.delete_current()
    qtbot.waitUntil(lambda: window.chat.chat_list.count() == 0)
    assert window.service.conversations.list() == []


def test_a_wrong_passphrase_is_refused_and_asked_again(qtbot, open_window, backend_factory):
    window = open_window()
    set_up_library(qtbot, window)
    window.close()
    window = open_window(backend_factory())
    dialog = window.passphrase_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.passphrase.setText("not the passphrase")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: "Wrong passphrase" in dialog.error.text(), timeout=30_000)
    assert dialog.isVisible() and window.service is None and window.state == "locked"
    dialog.passphrase.setText(PASSPHRASE)
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: window.state == "ready", timeout=30_000)
    assert not dialog.isVisible()


def test_with_a_system_keyring_later_starts_open_without_a_prompt(
        qtbot, open_window, backend_factory, monkeypatch):
    import keyring

    from tests.engine.test_vault import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    monkeypatch.delenv("ENCLAVE_KEY_SOURCE")
    window = open_window()
    dialog = window.setup_dialog
    assert dialog.use_keyring.isChecked() and not dialog.passphrase.isVisible()
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: window.state == "ready", timeout=30_000)
    box = window.settings.backups.recovery_box  # shown once, to be written down
    assert box.isVisible() and window.service.backups.recovery_key() in box.text()
    box.accept()
    window.close()
    window = open_window(backend_factory())
    assert window.passphrase_dialog is None and window.setup_dialog is None
    qtbot.waitUntil(lambda: window.state == "ready", timeout=30_000)


def test_switching_language_changes_visible_strings(qtbot, open_window):
    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    settings.language.setCurrentIndex(settings.language.findData("zh_CN"))
    settings.apply()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "聊天")  # LanguageChange is posted
    assert window.chat.send_button.text() == "发送"
    assert window.documents.add_files_button.text() == "添加文件…"
    assert settings.apply_button.text() == "应用"
    assert window.backend.settings.language == "zh_CN"
    settings.language.setCurrentIndex(settings.language.findData("en"))
    settings.apply()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "Chat")
    assert window.chat.send_button.text() == "Send"


def test_masking_at_import_is_switched_on_in_settings_and_the_engine_follows(
        qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    assert not settings.mask_at_import.isChecked()
    settings.mask_at_import.setChecked(True)
    settings.apply()
    assert window.backend.settings.mask_personal_data_at_ingest
    qtbot.waitUntil(lambda: window.state == "ready" and
                    window.service.config.mask_personal_data_at_ingest, timeout=30_000)
    (tmp_path / "desk.txt").write_text("Report pump faults to pump.desk@plant.example today.")
    window.service.library.ingest([tmp_path / "desk.txt"])
    hit = window.service.answers.search("Where are pump faults reported?", 1)[0]
    assert "[email]" in hit.text and "pump.desk" not in hit.text


def test_ocr_is_switched_off_in_settings_and_a_scan_is_then_refused(qtbot, open_window,
                                                                   tmp_path):
    import pymupdf

    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    assert settings.ocr.isChecked()
    settings.ocr.setChecked(False)
    settings.apply()
    assert window.backend.settings.ocr is False
    qtbot.waitUntil(lambda: window.state == "ready" and not window.service.config.ocr,
                    timeout=30_000)
    with pymupdf.open() as source, pymupdf.open() as scan:
        page = source.new_page(width=300, height=100)
        page.insert_text((20, 50), "The relief valve opens at 7.5 bar.", fontsize=12)
        scan.new_page(width=300, height=100).insert_image(
            page.rect, stream=page.get_pixmap(dpi=150).tobytes("png"))
        scan.save(tmp_path / "scan.pdf")
    report = window.service.library.ingest([tmp_path / "scan.pdf"])
    assert "needs OCR, which is switched off" in report.failed[0][1]


def test_about_names_the_version_and_the_licences_of_what_is_inside(qtbot, open_window):
    window = open_window()
    window.about_button.click()
    table = window.about.table
    rows = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
            for r in range(table.rowCount())}
    assert rows["SmolLM2-135M-Instruct (answer model)"] == ("0.1.2", "Apache-2.0")
    assert rows["PyMuPDF"][1] == "AGPL-3.0"
    assert all(version != "—" for version, _ in rows.values())  # every one is installed
    assert window.backend.version in window.about.findChild(QLabel, "title").text()
    window.about.close()


def test_cancel_leaves_no_half_document(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.documents)
    big = tmp_path / "big"
    big.mkdir()
    shutil.copy(R_INTRO, big / "R-intro.pdf")
    drop(window, [big])
    qtbot.waitUntil(lambda: window.documents.row_state("R-intro.pdf") == "embedding",
                    timeout=30_000)
    qtbot.mouseClick(window.documents.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.documents.running, timeout=60_000)
    assert window.documents.row_state("R-intro.pdf") == "cancelled"
    assert window.service.library.documents() == []
    assert window.service.health.status()["chunks"] == 0
    assert window.service.library.pending() == 0  # the next start does not resume it


def test_a_linked_folder_is_watched_and_kept_in_sync(qtbot, open_window, tmp_path,
                                                      backend_factory):
    window = open_window()
    set_up_library(qtbot, window)
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "first.txt").write_text("The cafeteria opens at seven.\n")
    window.documents.collection_box.setCurrentText("handbook")
    window.documents.link_folder(folder)
    qtbot.waitUntil(lambda: {d.name for d in window.service.library.documents()} == {"first.txt"},
                    timeout=30_000)
    qtbot.waitUntil(lambda: not window.documents.running)
    (folder / "second.md").write_text("# Parking\n\nVisitors park behind building C.\n")
    (folder / "first.txt").unlink()
    qtbot.waitUntil(lambda: {d.name for d in window.service.library.documents()} == {"second.md"},
                    timeout=30_000)
    assert window.service.library.documents()[0].collection == "handbook"
    qtbot.waitUntil(lambda: not window.documents.running)
    window.close()
    (folder / "third.txt").write_text("Added while Enclave was closed.\n")
    window = open_window(backend_factory())
    window.passphrase_dialog.passphrase.setText(PASSPHRASE)
    window.passphrase_dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: window.service is not None and {
        d.name for d in window.service.library.documents()} == {"second.md", "third.txt"}, timeout=30_000)


def test_failed_files_are_listed_with_their_reason_and_retried(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.documents)
    bad = tmp_path / "report.pdf"
    bad.write_bytes(b"this is not a pdf")
    window.documents.add_paths([bad])
    qtbot.waitUntil(lambda: not window.documents.failed_box.isHidden(), timeout=30_000)
    assert window.documents.failed.item(0, 0).text() == "report.pdf"
    assert window.documents.failed.item(0, 1).text()
    assert window.documents.row_state("report.pdf") == "failed"
    from tests.conftest import make_pdf
    make_pdf(bad, ["Now a real report about the annual budget."])
    window.documents.retry_button.click()
    qtbot.waitUntil(lambda: window.documents.failed_box.isHidden(), timeout=30_000)
    assert window.service.library.failures() == []
    assert window.documents.row_state("report.pdf") == "indexed"
    assert [d.name for d in window.service.library.documents()] == ["report.pdf"]


def test_an_unreadable_settings_file_is_reported_in_the_window(qtbot, open_window, backend_factory,
                                                                tmp_path):
    path = tmp_path / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"context_tokens": 5}')
    window = open_window(backend_factory())
    assert window.banner.isVisible() and "context_tokens" in window.banner.label.text()
    assert path.read_text() == '{"context_tokens": 5}'  # kept for the person to fix


def test_dark_theme_and_back(qtbot, open_window, qapp):
    window = open_window(start=False)
    settings = window.settings
    settings.theme.setCurrentIndex(settings.theme.findData("dark"))
    settings.apply()
    assert qapp.palette().window().color().lightness() < 60
    settings.theme.setCurrentIndex(settings.theme.findData("light"))
    settings.apply()
    assert qapp.palette().window().color().lightness() > 200


def test_the_lan_api_is_served_from_the_app_with_keys_made_there(qtbot, open_window):
    import httpx

    from tests.api.test_cli_api import free_port

    window = open_window()
    set_up_library(qtbot, window)
    panel = window.settings.api
    window.tabs.setCurrentWidget(window.settings)
    assert panel.status.text() == "Stopped." and not panel.warning.isVisible()
    panel.port.setValue(free_port())
    panel.enabled.setChecked(True)
    window.settings.apply()
    qtbot.waitUntil(lambda: panel.server is not None, timeout=15_000)
    url = panel.server.url
    assert f"Running on this computer only at {url}" in panel.status.text()
    assert window.backend.settings.api_enabled
    panel.key_name.setText("reporting")
    panel.key_scope.setCurrentIndex(panel.key_scope.findData("read-write"))
    panel.create_button.click()
    qtbot.waitUntil(lambda: panel.new_key.isVisibleTo(panel), timeout=10_000)
    key = panel.new_key.text()
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{url}/v1/collections", headers=headers).status_code == 200
    qtbot.waitUntil(lambda: panel.keys.rowCount() == 1)
    panel.keys.selectRow(0)
    panel.revoke_button.click()
    qtbot.waitUntil(lambda: panel.keys.item(0, 3) is not None
                    and panel.keys.item(0, 3).text() == "revoked", timeout=10_000)
    assert httpx.get(f"{url}/v1/collections", headers=headers).status_code == 401
    # the server writes an audit entry once the response is sent: the dialog shows the log
    # as it is when opened, so open it once both requests are in
    qtbot.waitUntil(lambda: len(window.service.access.audit_entries(limit=10)) == 2, timeout=15_000)
    panel.show_audit()
    dialog = panel.audit_dialog
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=15_000)
    dialog.verify()
    qtbot.waitUntil(lambda: dialog.result.text().startswith("Intact"), timeout=15_000)
    panel.enabled.setChecked(False)
    window.settings.apply()
    qtbot.waitUntil(lambda: panel.server is None, timeout=15_000)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health")
    panel.scope.setCurrentIndex(1)
    assert panel.warning.isVisibleTo(panel) and "network" in panel.warning.text()


def test_backups_from_the_app_and_a_failure_is_an_alert(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.settings)
    panel = window.settings.backups
    # the panel takes edits once it shows the saved plan (an earlier edit would be lost)
    qtbot.waitUntil(lambda: panel.isEnabled() and panel.last.text() == "No backup yet.",
                    timeout=10_000)
    usb = tmp_path / "usb"
    usb.mkdir()
    panel.enabled.setChecked(True)
    panel.destination.setText(str(usb))
    window.settings.apply()
    qtbot.waitUntil(lambda: panel.message.text() == "Backup plan saved.", timeout=10_000)
    assert window.backend.next_backup() is not None
    panel.back_up_now()
    qtbot.waitUntil(lambda: "verified" in panel.last.text(), timeout=60_000)
    assert len(list(usb.iterdir())) == 1
    usb.rename(tmp_path / "unplugged")
    panel.back_up_now()
    qtbot.waitUntil(lambda: "FAILED" in panel.last.text(), timeout=60_000)
    assert window.banner.isVisible() and "backup failed" in window.banner.label.text()
    panel.destination.setText(str(tmp_path / "nowhere"))
    window.settings.apply()
    qtbot.waitUntil(lambda: "does not exist" in window.settings.message.text(), timeout=10_000)


def test_health_and_cost_panels_show_real_figures(qtbot, open_window, corpus, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    ask(qtbot, window, "At what pressure does the relief valve open?")
    ask(qtbot, window, "At what pressure does the relief valve open?")  # from the cache
    window.tabs.setCurrentWidget(window.health)
    qtbot.wait(200)
    window.health.data = None
    window.health.refresh()
    qtbot.waitUntil(lambda: window.health.data is not None, timeout=15_000)
    data = window.health.data

    def measured(name):
        return [v for v in data[name] if v == v]  # minutes without data are NaN gaps

    assert sum(measured("answers")) == 2 and max(measured("p95")) > 0
    assert sorted(measured("hit_rate")) in ([50.0], [0.0, 100.0])  # 1 hit of 2, 1 or 2 minutes
    xs, ys = window.health.curves["answers"].getData()
    assert len(xs) == 16 and sum(y for y in ys if y == y) == 2  # NaN: the library was closed
    assert window.health.curves["error_rate"].getData()[0] is None or \
        len(window.health.curves["error_rate"].getData()[0]) == 0  # no API request: no line
    assert window.health.figures["documents"].caption.text() == "documents"
    window.tabs.setCurrentWidget(window.cost)
    window.cost.data = None
    window.cost.refresh()
    qtbot.waitUntil(lambda: window.cost.data is not None
                    and window.cost.data.days[0].queries == 1, timeout=15_000)
    assert window.cost.days.item(0, 1).text() == "1"
    assert "gpt-4.1-mini" in window.cost.figures["cloud"].caption.text()
    # absurd figures, so that today is over budget: two answers (about 1 s of CPU each,
    # 0.007 at these rates) and the library's storage
    ask(qtbot, window, "Which badge do visitors wear?")
    window.tabs.setCurrentWidget(window.cost)
    window.cost.watts.setValue(5000)
    window.cost.kwh.setValue(10)
    window.cost.storage.setValue(100)
    window.cost.budget.setValue(0.01)
    window.cost.save_rates()
    qtbot.waitUntil(lambda: not window.cost.budget_warning.isHidden(), timeout=15_000)
    assert "over the daily budget" in window.cost.budget_warning.text()


def test_restore_from_the_app_brings_back_the_backed_up_library(qtbot, open_window, corpus,
                                                                 tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    folder = window.service.backups.backup(tmp_path / "usb", "test").folder
    window.service.library.delete_documents("pumps.pdf")
    assert len(window.service.library.documents()) == 5
    window.restore(folder)
    qtbot.waitUntil(lambda: window.passphrase_dialog is not None
                    and window.passphrase_dialog.isVisible(), timeout=30_000)
    assert "restored" in window.banner.label.text()
    window.passphrase_dialog.passphrase.setText(PASSPHRASE)
    window.passphrase_dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: window.service is not None, timeout=30_000)
    assert len(window.service.library.documents()) == 6
    # a damaged backup is refused before anything is closed: the library stays open
    other = tmp_path / "other"
    folder.rename(other)
    (other / "manifest.json").write_text("{}")
    window.restore(other)
    qtbot.waitUntil(lambda: window.banner.isVisible() and "manifest" in window.banner.label.text(),
                    timeout=30_000)
    assert window.service is not None and len(window.service.library.documents()) == 6


def test_the_import_queue_is_shown_and_a_file_can_be_skipped(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    files = []
    for name in ("stuck.txt", "next.txt"):
        files.append(tmp_path / name)
        files[-1].write_text(f"The file {name} waits in the import queue.")
    window.service.library.enqueue(files, start=False)  # as an interrupted run leaves them
    imports = window.documents.imports
    imports.set_service(window.service)  # as when the library opens: the queue is shown
    assert imports.row_state("stuck.txt") == "queued" and imports.row_state("next.txt") == "queued"
    assert not imports.skip_button.isEnabled()  # nothing selected
    imports.jobs.selectRow(0)
    assert imports.skip_button.isEnabled()
    imports.skip_button.click()
    qtbot.waitUntil(lambda: imports.row_state("stuck.txt") == "cancelled", timeout=10_000)
    assert window.service.library.queued() == [files[1]]
    assert not imports.skip_button.isEnabled()  # a skipped file is no longer waiting
