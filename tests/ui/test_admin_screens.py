"""The administrator's screens tell the truth at a glance: Health's figures equal the
library's, its percentages sit on fixed 0-100 axes and CPU and memory on axes of their
own; the import bar moves while the first file embeds; Settings has pages and one way to
apply; bad rates are refused without losing what was typed; and no table of the Chinese
UI shows an English value."""

from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtWidgets import QAbstractItemView, QAbstractSpinBox, QDialogButtonBox

from tests.conftest import R_INTRO
from tests.ui.conftest import ingest, set_up_library

pytestmark = pytest.mark.gui


def refreshed_health(qtbot, window) -> dict:
    health = window.health
    health.data = None
    health.refresh()
    qtbot.waitUntil(lambda: health.data is not None, timeout=15_000)
    return health.data


def test_health_figures_equal_the_library_on_fixed_and_separate_axes(qtbot, open_window,
                                                                       corpus, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.health)
    health = window.health
    refreshed_health(qtbot, window)
    assert health.figures["documents"].value.text() == "0"
    assert health.figures["documents"].caption.text() == "documents"
    assert health.empty_notes["latency"].isVisible()  # nothing answered: said so
    assert health.empty_notes["latency"].toPlainText() == "No data yet"

    (tmp_path / "one.txt").write_text("The boiler room is checked every Monday.\n")
    ingest(qtbot, window, [tmp_path / "one.txt"])
    refreshed_health(qtbot, window)
    assert health.figures["documents"].caption.text() == "document"  # one: singular

    ingest(qtbot, window, [corpus])
    data = refreshed_health(qtbot, window)
    status = window.service.health.status()
    assert health.figures["documents"].value.text() == str(status["documents"]) != "1"
    assert health.figures["chunks"].value.text() == str(status["chunks"])
    assert health.figures["documents"].caption.text() == "documents"
    assert data["totals"]["index_bytes"] > 0

    for chart in ("quality", "cpu"):  # percentages: 0 to 100 whatever the figures
        low, high = health.plots[chart].getViewBox().viewRange()[1]
        assert -4 < low < 0 and 100 < high < 104  # (with room for the labels 0 and 100)
    assert health.curves["cpu"].getViewBox() is not health.curves["memory"].getViewBox()
    legend = [label.text for _, label in health.plots["traffic"].getPlotItem().legend.items]
    assert legend == ["answers (desktop and API)", "API requests", "answers waiting"]
    assert not health.alerts.isVisible() and health.no_alert.isVisible()


def test_the_overall_import_bar_moves_while_the_first_file_embeds(qtbot, open_window,
                                                                   tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.documents)
    folder = tmp_path / "manuals"
    folder.mkdir()
    shutil.copy(R_INTRO, folder / "R-intro.pdf")
    for n in range(3):
        (folder / f"note-{n}.txt").write_text(f"Note {n}: the pumps are serviced in May.\n")
    imports = window.documents.imports
    splitter = window.documents.splitter
    window.documents.add_paths([folder])
    qtbot.waitUntil(lambda: imports.row_state("R-intro.pdf") == "embedding"
                    and imports.overall.value() > 0, timeout=60_000)
    assert imports.overall_label.text().startswith("0 of ")  # no file done, yet it moves
    qtbot.waitUntil(lambda: "left" in imports.overall_label.text(), timeout=30_000)
    assert imports.row_state("R-intro.pdf") == "embedding"  # the time left, from the start
    assert splitter.sizes()[0] >= splitter.sizes()[1]  # the list has the room
    imports.cancel_import()
    qtbot.waitUntil(lambda: not imports.running, timeout=60_000)


def test_settings_has_pages_and_one_way_to_apply(qtbot, open_window, tmp_path):
    from tests.api.test_cli_api import free_port

    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.settings)
    settings = window.settings
    pages = [settings.page_list.item(i).text() for i in range(settings.page_list.count())]
    assert pages == ["General", "Models", "LAN API", "Backups", "Advanced"]
    assert settings.buttons.buttonRole(settings.apply_button) == QDialogButtonBox.ApplyRole
    assert settings.buttons.buttonRole(settings.revert_button) == QDialogButtonBox.ResetRole
    qtbot.waitUntil(settings.backups.isEnabled, timeout=10_000)
    assert not settings.apply_button.isEnabled()  # nothing to apply
    sized = 0
    for page in range(settings.pages.count()):  # number fields sized to what they hold
        settings.page_list.setCurrentRow(page)
        qtbot.wait(50)
        for box in settings.pages.widget(page).findChildren(QAbstractSpinBox):
            if box.isVisible():
                assert box.width() < 250, box
                sized += 1
    assert sized >= 8  # port, temperature, backup time…
    settings.show_page(settings.api)

    api = settings.api
    api.port.setValue(free_port())
    api.enabled.setChecked(True)
    qtbot.wait(300)
    assert api.server is None and not window.backend.settings.api_enabled  # not yet
    assert settings.apply_button.isEnabled() and settings.revert_button.isEnabled()
    settings.revert_button.click()  # Reset drops it
    assert not api.enabled.isChecked() and not settings.apply_button.isEnabled()

    api.enabled.setChecked(True)
    settings.backups.enabled.setChecked(True)  # edits on two pages, one Apply
    settings.backups.destination.setText(str(tmp_path))
    settings.apply_button.click()
    qtbot.waitUntil(lambda: api.server is not None, timeout=15_000)
    qtbot.waitUntil(lambda: window.service.backups.plan().enabled, timeout=10_000)
    assert window.backend.settings.api_enabled
    qtbot.waitUntil(lambda: not settings.apply_button.isEnabled(), timeout=10_000)

    settings.backups.destination.setText(str(tmp_path / "nowhere"))  # a bad value
    settings.apply_button.click()
    qtbot.waitUntil(lambda: "does not exist" in settings.message.text(), timeout=10_000)
    assert window.service.backups.plan().destination == str(tmp_path)  # the saved plan stays
    assert settings.backups.destination.text() == str(tmp_path / "nowhere")  # as typed
    assert settings.apply_button.isEnabled()
    api.enabled.setChecked(False)
    settings.revert_button.click()
    assert api.enabled.isChecked()
    api.enabled.setChecked(False)
    settings.backups.destination.setText(str(tmp_path))
    settings.apply_button.click()
    qtbot.waitUntil(lambda: api.server is None, timeout=15_000)


def test_bad_rates_are_refused_and_what_was_typed_stays(qtbot, open_window):
    window = open_window()
    set_up_library(qtbot, window)
    window.tabs.setCurrentWidget(window.cost)
    cost = window.cost
    qtbot.waitUntil(lambda: cost.data is not None, timeout=15_000)
    assert len(cost.data.days) == 1  # the library was made today: no days before it
    apply = cost.buttons.button(QDialogButtonBox.Apply)
    assert not apply.isEnabled()
    cost.currency.setCurrentText("dollars")
    assert apply.isEnabled()
    apply.click()
    assert "not a currency code" in cost.rates_message.text()
    qtbot.wait(300)
    assert window.service.health.cost().rates.currency == "USD"
    assert cost.currency.currentText() == "dollars"

    cost.currency.setCurrentText("EUR")
    cost.prices.item(0, 1).setText("cheap")
    apply.click()
    assert "must be a number" in cost.rates_message.text()
    assert window.service.health.cost().rates.currency == "USD"
    cost.prices.item(0, 1).setText("1.5")
    apply.click()
    qtbot.waitUntil(lambda: cost.rates_message.text() == "Saved.", timeout=10_000)
    saved = window.service.health.cost().rates
    assert saved.currency == "EUR" and saved.prices_updated != "2025-10-16"  # dated today
    qtbot.waitUntil(lambda: cost.figures["today"].value.text().startswith("€0.0"),
                    timeout=10_000)
    assert saved.prices_updated in cost.prices_note.text()
    assert cost.rate_labels[2].text() == "Electricity (EUR per kWh)"


ALLOWED = {"default", "reporting", "intake", "MB", "KB"}
"""Latin words a Chinese table may show: names given by people (a key's, the default
collection's, which commands type) and units."""


def english_cells(window) -> list[str]:
    """Every table cell shown in the window whose text holds an English word."""
    found = []
    for view in window.findChildren(QAbstractItemView):
        model = view.model()
        if model is None or not hasattr(view, "horizontalHeader"):
            continue
        for r in range(model.rowCount()):
            for c in range(model.columnCount()):
                text = str(model.index(r, c).data() or "")
                words = [w for w in re.findall(r"\S+", text)
                         if re.search(r"[A-Za-z]{2}", w) and not re.search(r"[\d.]", w)]
                found += [f"{type(view.parent()).__name__}: {w}" for w in words
                          if w.strip("(),:") not in ALLOWED]
    return found


@pytest.fixture
def chinese_window(qtbot, open_window):
    """A window in Chinese, back in English afterwards (the translators are the app's)."""
    window = open_window()
    set_up_library(qtbot, window)
    yield window
    window.language.apply("en")


def test_no_table_of_the_chinese_ui_shows_an_english_value(qtbot, chinese_window, corpus):
    window = chinese_window
    settings = window.settings
    settings.language.setCurrentIndex(settings.language.findData("zh_CN"))
    settings.apply()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "聊天")
    ingest(qtbot, window, [corpus])
    window.service.access.create_key("reporting", "read-only")
    window.service.access.create_key("intake", "read-write", None, True)
    window.service.access.revoke_key("intake")
    for tab in (window.documents, window.health, window.cost, window.settings):
        window.tabs.setCurrentWidget(tab)
    settings.show_page(settings.api)
    settings.api.reload_keys()
    qtbot.waitUntil(lambda: settings.api.keys.rowCount() == 2, timeout=10_000)
    qtbot.waitUntil(lambda: window.cost.data is not None and window.health.data is not None,
                    timeout=15_000)
    keys = settings.api.keys
    assert {keys.item(r, 1).text() for r in range(2)} == {"只读", "读写"}
    assert english_cells(window) == []


def test_an_alert_says_since_when_and_what_to_do(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    settings = window.settings
    qtbot.waitUntil(settings.backups.isEnabled, timeout=10_000)
    usb = tmp_path / "usb"
    usb.mkdir()
    settings.backups.enabled.setChecked(True)
    settings.backups.destination.setText(str(usb))
    settings.apply()
    qtbot.waitUntil(lambda: window.service.backups.plan().enabled, timeout=10_000)
    usb.rename(tmp_path / "unplugged")
    result = window.backend.backup_now(window.service)
    assert not result.ok
    window.tabs.setCurrentWidget(window.health)
    refreshed_health(qtbot, window)
    health = window.health
    assert health.alerts.isVisible() and not health.no_alert.isVisible()
    since, what, advice = (health.alerts.item(0, c).text() for c in range(3))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", since)
    assert what.startswith("The last backup failed: ")
    assert "Back up now" in advice
