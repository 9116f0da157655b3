"""The Cost tab: what answering cost today and over the last 30 days (compute from CPU time
and the power price, storage from the library's size, from the day it was made), per day
and per answer, what the same tokens would have cost at a cloud price, the collections
that cost most, a daily budget, and a CSV export; beside it the rates, in one currency,
with the dated cloud price table, applied like the Settings (Apply, Reset).

The rates are kept in the vault and checked by the engine (a bad one is refused, with why,
and what was typed stays); every figure comes from the engine (`service.health.cost`).
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from engine import CostRates, CostReport, EnclaveService

from .figure import Figure
from .i18n import Retranslating
from .theme import ERROR_STYLE
from .worker import Tasks

CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY", "CHF", "CAD", "AUD", "INR", "HKD", "SGD")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
"""As the engine checks it, asked here first to say so in the window's language."""
RIGHT = Qt.AlignRight | Qt.AlignVCenter


def money(value: float, currency: str = "USD") -> str:
    """An amount in `currency`: two decimals, or two significant digits for the fractions of
    a cent an answer costs (0.00, 0.031, 0.000018, 12.50, 1,234.00)."""
    decimals = 2
    if 0 < abs(value) < 0.01:
        decimals = 1 - math.floor(math.log10(abs(value)))
    number = f"{value:,.{decimals}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def _cell(text: str, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(RIGHT)
    return item


class CostPanel(Retranslating, QWidget):
    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.data: CostReport | None = None
        self._saved: CostRates | None = None
        self.figures = {name: Figure() for name in ("today", "month", "per_answer", "cloud")}
        self.budget_warning = QLabel()
        self.budget_warning.setStyleSheet(ERROR_STYLE)
        self.budget_warning.hide()

        self.rates_box = QGroupBox()
        self.currency = QComboBox(editable=True)
        self.currency.addItems(CURRENCIES)
        self.currency.setMinimumContentsLength(4)
        self.watts = QDoubleSpinBox(minimum=1, maximum=5000, decimals=0, suffix=" W")
        self.kwh = QDoubleSpinBox(minimum=0, maximum=10, decimals=3, singleStep=0.01)
        self.storage = QDoubleSpinBox(minimum=0, maximum=100, decimals=3, singleStep=0.01)
        self.budget = QDoubleSpinBox(minimum=0, maximum=1e6, decimals=2, singleStep=0.5)
        self.cloud_model = QComboBox()
        self.cloud_model.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.prices = QTableWidget(0, 3)
        self.prices.verticalHeader().hide()
        self.prices.setWordWrap(False)
        self.prices.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.prices.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.prices.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.prices_note = QLabel()
        self.prices_note.setWordWrap(True)
        self.add_price = QPushButton()
        self.add_price.clicked.connect(self._add_price_row)
        self.remove_price = QPushButton()
        self.remove_price.clicked.connect(self._remove_price_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Apply | QDialogButtonBox.Reset)
        self.buttons.button(QDialogButtonBox.Apply).clicked.connect(self.save_rates)
        self.buttons.button(QDialogButtonBox.Reset).clicked.connect(self._reset_rates)
        self.rates_message = QLabel()
        self.rates_message.setWordWrap(True)
        self.rate_labels = [QLabel() for _ in range(5)]
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        for label, field in zip(self.rate_labels, (self.currency, self.watts, self.kwh,
                                                   self.storage, self.budget)):
            form.addRow(label, field)
        self.compare_label = QLabel()
        form.addRow(self.compare_label, self.cloud_model)
        price_buttons = QHBoxLayout()
        price_buttons.addWidget(self.add_price)
        price_buttons.addWidget(self.remove_price)
        price_buttons.addStretch(1)
        rates_layout = QVBoxLayout(self.rates_box)
        rates_layout.addLayout(form)
        rates_layout.addWidget(self.prices, 1)
        rates_layout.addLayout(price_buttons)
        rates_layout.addWidget(self.prices_note)
        rates_layout.addWidget(self.rates_message)
        rates_layout.addWidget(self.buttons)
        for field in (self.watts, self.kwh, self.storage, self.budget):
            field.valueChanged.connect(self._update_buttons)
        self.currency.currentTextChanged.connect(self._currency_changed)
        self.cloud_model.currentTextChanged.connect(self._update_buttons)
        self.prices.itemChanged.connect(lambda _: self._update_buttons())

        self.days = QTableWidget(0, 8)
        self.days.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.days.verticalHeader().hide()
        self.days.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.days.horizontalHeader().setStretchLastSection(True)
        self.collections = QTableWidget(0, 3)
        self.collections.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.collections.verticalHeader().hide()
        self.collections.setMaximumHeight(130)
        self.collections.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self.export)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.days_label, self.collections_label = QLabel(), QLabel()
        top = QHBoxLayout()
        for figure in self.figures.values():
            top.addWidget(figure)
        top.addStretch(1)
        actions = QVBoxLayout()
        actions.addWidget(self.refresh_button)
        actions.addWidget(self.export_button)
        top.addLayout(actions)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.budget_warning)
        left.addWidget(self.days_label)
        left.addWidget(self.days, 1)
        left.addWidget(self.collections_label)
        left.addWidget(self.collections)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(self.rates_box, 2)
        self.retranslate()
        self._update_buttons()

    def retranslate(self) -> None:
        self.rates_box.setTitle(self.tr("Rates"))
        self.compare_label.setText(self.tr("Compare with"))
        self.add_price.setText(self.tr("Add model"))
        self.remove_price.setText(self.tr("Remove model"))
        self.buttons.button(QDialogButtonBox.Apply).setText(self.tr("Apply"))
        self.buttons.button(QDialogButtonBox.Reset).setText(self.tr("Reset"))
        self.days_label.setText(self.tr("By day, since the library was made (30 days at most)"))
        self.collections_label.setText(self.tr("Collections by cost (30 days)"))
        self.export_button.setText(self.tr("Export CSV…"))
        self.refresh_button.setText(self.tr("Refresh"))
        self._label_rates()
        if self.data:
            self._show_figures(self.data)

    def _label_rates(self) -> None:
        """Labels that name the currency chosen on screen."""
        code = self.currency.currentText().strip() or "USD"
        for label, text in zip(self.rate_labels, (
                self.tr("Currency"), self.tr("Power draw at full load"),
                self.tr("Electricity ({0} per kWh)").format(code),
                self.tr("Storage ({0} per GB-month)").format(code),
                self.tr("Daily budget ({0})").format(code))):
            label.setText(text)
        self.prices.setHorizontalHeaderLabels([
            self.tr("Cloud model"), self.tr("Input, {0}").format(code),
            self.tr("Output, {0}").format(code)])
        updated = self._saved.prices_updated if self._saved else "—"
        self.prices_note.setText(self.tr(
            "Per million tokens: public list prices, last updated {0}. Check them against the "
            "providers' price pages; editing them dates them today.").format(updated))

    def _currency_changed(self, _text: str) -> None:
        self._label_rates()
        self._update_buttons()

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self._saved = None
        self.refresh()

    def refresh(self) -> None:
        service = self.service
        if service is not None:
            self.tasks.run(lambda _: service.health.cost(), on_result=self._show,
                           latest="cost")

    # --- the figures ------------------------------------------------------------------

    def _show(self, data: CostReport) -> None:
        self.data = data
        if self._saved is None or not self.pending():  # edits not applied stay on screen
            self._show_rates(data.rates)
        self._saved = data.rates
        self._label_rates()
        self._update_buttons()
        self._show_figures(data)

    def _show_figures(self, data: CostReport) -> None:
        rates, days = data.rates, data.days
        cur = rates.currency

        def cash(value: float) -> str:
            return money(value, cur)

        self.days.setRowCount(len(days))
        for r, d in enumerate(days):
            for c, value in enumerate((d.day, str(d.queries), f"{d.cpu_s:.1f}", cash(d.compute),
                                       cash(d.storage), cash(d.total),
                                       cash(d.per_query) if d.queries else "—",
                                       cash(d.cloud_equivalent))):
                self.days.setItem(r, c, _cell(value, right=c > 0))
        self.days.setHorizontalHeaderLabels([
            self.tr("Day"), self.tr("Answers"), self.tr("CPU s"), self.tr("Compute"),
            self.tr("Storage"), self.tr("Total"), self.tr("Per answer"),
            self.tr("At {0}").format(rates.cloud_model)])
        self.collections.setHorizontalHeaderLabels([self.tr("Collection"), self.tr("Answers"),
                                                    self.tr("Compute")])
        self.collections.setRowCount(len(data.collections))
        for r, (name, n, compute) in enumerate(data.collections):
            for c, value in enumerate((name or self.tr("All documents"), str(n), cash(compute))):
                self.collections.setItem(r, c, _cell(value, right=c > 0))
        answers = sum(d.queries for d in days)
        total = sum(d.total for d in days)
        today = days[0]
        for name, value, caption in (
                ("today", cash(today.total), self.tr("today, %n answer(s)", "", today.queries)),
                ("month", cash(total), self.tr("total of %n day(s)", "", len(days))),
                ("per_answer", cash(total / answers) if answers else "—",
                 self.tr("per answer")),
                ("cloud", cash(sum(d.cloud_equivalent for d in days)),
                 self.tr("the same tokens at {0}").format(rates.cloud_model))):
            self.figures[name].show_figure(value, caption)
        over = rates.daily_budget and today.total > rates.daily_budget
        self.budget_warning.setVisible(bool(over))
        self.budget_warning.setText(self.tr("Today's cost {0} is over the daily budget of {1}.")
                                    .format(cash(today.total), cash(rates.daily_budget))
                                    if over else "")

    # --- the rates ----------------------------------------------------------------------

    def _show_rates(self, rates: CostRates) -> None:
        for field, value in ((self.watts, rates.watts), (self.kwh, rates.price_per_kwh),
                             (self.storage, rates.storage_per_gb_month),
                             (self.budget, rates.daily_budget)):
            field.blockSignals(True)
            field.setValue(value)
            field.blockSignals(False)
        self.currency.setCurrentText(rates.currency)
        self.prices.blockSignals(True)
        self.prices.setRowCount(len(rates.cloud_prices))
        for r, (name, (price_in, price_out)) in enumerate(sorted(rates.cloud_prices.items())):
            for c, value in enumerate((name, f"{price_in:g}", f"{price_out:g}")):
                self.prices.setItem(r, c, _cell(value, right=c > 0))
        self.prices.blockSignals(False)
        self._fill_cloud_models(rates.cloud_model)

    def _fill_cloud_models(self, current: str) -> None:
        self.cloud_model.blockSignals(True)
        self.cloud_model.clear()
        self.cloud_model.addItems(sorted(self._table_prices(lenient=True)))
        self.cloud_model.setCurrentText(current)
        self.cloud_model.blockSignals(False)

    def _table_prices(self, lenient: bool = False) -> dict[str, tuple[float, float]]:
        """The price table as typed (ValueError on a price that is not a number, unless
        `lenient`)."""
        prices = {}
        for r in range(self.prices.rowCount()):
            items = [self.prices.item(r, c) for c in range(3)]
            name = items[0].text().strip() if items[0] else ""
            if not name:
                continue
            try:
                prices[name] = tuple(float(items[c].text().replace(",", ".")) if items[c]
                                     else math.nan for c in (1, 2))
            except ValueError:
                if not lenient:
                    raise
                prices[name] = (math.nan, math.nan)
        if not lenient and any(math.isnan(p) for pair in prices.values() for p in pair):
            raise ValueError("a price is missing")
        return prices

    def rates(self) -> CostRates:
        """The rates as on screen (ValueError: a price is not a number)."""
        prices = self._table_prices()
        saved = self._saved or CostRates()
        updated = (saved.prices_updated if prices == saved.cloud_prices
                   else time.strftime("%Y-%m-%d"))
        return CostRates(self.watts.value(), self.kwh.value(), self.storage.value(),
                         self.cloud_model.currentText(), prices, self.budget.value(),
                         self.currency.currentText().strip(), updated)

    def pending(self) -> bool:
        """Whether the rates on screen differ from those saved."""
        if self._saved is None:
            return False
        try:
            on_screen = self.rates()
        except ValueError:
            return True
        return on_screen != self._saved

    def _update_buttons(self) -> None:
        pending = self.pending()
        names = set(self._table_prices(lenient=True))
        if names != {self.cloud_model.itemText(i) for i in range(self.cloud_model.count())}:
            self._fill_cloud_models(self.cloud_model.currentText())
        for role in (QDialogButtonBox.Apply, QDialogButtonBox.Reset):
            self.buttons.button(role).setEnabled(pending)

    def _add_price_row(self) -> None:
        row = self.prices.rowCount()
        self.prices.insertRow(row)
        self.prices.setCurrentCell(row, 0)
        self.prices.editItem(self.prices.item(row, 0) or self._new_item(row, 0))

    def _new_item(self, row: int, column: int) -> QTableWidgetItem:
        item = _cell("", right=column > 0)
        self.prices.setItem(row, column, item)
        return item

    def _remove_price_row(self) -> None:
        row = self.prices.currentRow()
        if row >= 0:
            self.prices.removeRow(row)
            self._update_buttons()

    def _reset_rates(self) -> None:
        if self._saved is not None:
            self._show_rates(self._saved)
            self.rates_message.clear()
            self._update_buttons()

    def save_rates(self) -> None:
        service = self.service
        if service is None:
            return
        try:
            rates = self.rates()
        except ValueError:
            self._say(self.tr("Every price must be a number (per million tokens)."), error=True)
            return
        if not CURRENCY_CODE.fullmatch(rates.currency):
            self._say(self.tr("\"{0}\" is not a currency code: use three capital letters, "
                              "such as USD, EUR or CNY.").format(rates.currency), error=True)
            return
        self.tasks.run(lambda _: service.health.save_rates(rates), on_result=self._saved_rates,
                       on_error=lambda exc: self._say(str(exc), error=True))

    def _saved_rates(self, rates: CostRates) -> None:
        self._saved = rates
        self._say(self.tr("Saved."))
        self._update_buttons()
        self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        self.rates_message.setStyleSheet(ERROR_STYLE if error else "")
        self.rates_message.setText(text)

    def export(self) -> None:
        if not self.data or self.service is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export costs"), "enclave-costs.csv",
                                              "CSV (*.csv)")
        if path:
            days, export = self.data.days, self.service.health.export_cost

            def write(_):
                with Path(path).open("w", newline="", encoding="utf-8") as f:
                    export(days, f)
            self.tasks.run(write)
