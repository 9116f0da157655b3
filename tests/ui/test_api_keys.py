"""The API panel makes keys for some collections, with personal data masked, and shows both."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import set_up_library

pytestmark = pytest.mark.gui


def test_a_key_for_one_collection_with_personal_data_masked(qtbot, open_window):
    window = open_window()
    set_up_library(qtbot, window)
    service = window.service
    for name in ("maintenance", "hr"):
        service.library.create_collection(name)
    panel = window.settings.api
    window.tabs.setCurrentWidget(window.settings)  # shown: it lists the collections now
    window.settings.show_page(panel)
    qtbot.waitUntil(lambda: {"maintenance", "hr"} <= {
        panel.key_collections.item(i).text() for i in range(panel.key_collections.count())},
        timeout=10_000)
    assert panel.key_all_collections.isChecked() and not panel.key_collections.isEnabled()
    assert panel.key_all_collections.text() == "All collections"
    assert panel.key_mask.text() == "Mask personal data" and not panel.key_mask.isChecked()

    panel.key_all_collections.setChecked(False)  # some collections: none checked yet
    assert panel.key_collections.isEnabled()
    panel.key_name.setText("maintenance-team")
    panel.create_button.click()
    assert "Check the collections" in panel.key_error.text() and service.access.keys() == []

    maintenance = panel.key_collections.findItems("maintenance", Qt.MatchExactly)[0]
    maintenance.setCheckState(Qt.Checked)
    panel.key_mask.setChecked(True)
    panel.create_button.click()
    qtbot.waitUntil(lambda: panel.new_key.isVisibleTo(panel), timeout=10_000)
    key = service.access.check_key(panel.new_key.text())
    assert key.name == "maintenance-team"
    assert key.collections == ("maintenance",) and key.mask_personal_data
    qtbot.waitUntil(lambda: panel.keys.rowCount() == 1 and panel.keys.item(0, 5) is not None,
                    timeout=10_000)
    headers = [panel.keys.horizontalHeaderItem(c).text() for c in range(panel.keys.columnCount())]
    assert headers[4:] == ["Collections", "Personal data"]
    assert panel.keys.item(0, 4).text() == "maintenance"
    assert panel.keys.item(0, 5).text() == "Masked"

    panel.key_all_collections.setChecked(True)  # and one for every collection, unmasked
    panel.key_mask.setChecked(False)
    panel.key_name.setText("reporting")
    panel.create_button.click()
    qtbot.waitUntil(lambda: panel.keys.rowCount() == 2 and panel.keys.item(1, 5) is not None,
                    timeout=10_000)
    assert [panel.keys.item(1, c).text() for c in (0, 4, 5)] == ["reporting", "All", "Shown"]
    assert [k.collections for k in service.access.keys()] == [("maintenance",), None]
