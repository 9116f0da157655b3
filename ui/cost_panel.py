"""The Cost tab: what answering cost per day and per answer (compute from CPU time and
the power price, storage from the library's size), what the same tokens would have cost
at a cloud price, the collections that cost most, a daily budget, and a CSV export.

The rates are kept in the vault; every figure comes from the engine (`service.health.cost`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine import CostRates, CostReport, EnclaveService

from .i18n import Retranslating
from .theme import ERROR_STYLE
from .worker import Tasks


def money(value: float) -> str:
    """Dollars, with the digits that matter for the fractions of a cent an answer costs."""
    if value == 0:
        return "$0"
    return f"${value:.2f}" if value >= 1 else f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


class CostPanel(Retranslating, QWidget):
    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.data: CostReport | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.budget_warning = QLabel()
        self.budget_warning.setStyleSheet(ERROR_STYLE)
        self.budget_warning.hide()

        self.rates_box = QGroupBox()
        self.watts = QDoubleSpinBox(minimum=1, maximum=5000, decimals=0)
        self.kwh = QDoubleSpinBox(minimum=0, maximum=10, decimals=3, singleStep=0.01)
        self.storage = QDoubleSpinBox(minimum=0, maximum=100, decimals=3, singleStep=0.01)
        self.budget = QDoubleSpinBox(minimum=0, maximum=1e6, decimals=4)
        self.cloud_model = QComboBox()
        self.prices = QTableWidget(0, 3)
        self.prices.verticalHeader().hide()
        self.prices.setMaximumHeight(140)
        self.prices.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.save_button = QPushButton()
        self.save_button.clicked.connect(self.save_rates)
        self.rates_message = QLabel()
        self.rate_labels = [QLabel() for _ in range(5)]
        form = QFormLayout()
        for label, field in zip(self.rate_labels, (self.watts, self.kwh, self.storage,
                                                   self.budget, self.cloud_model)):
            form.addRow(label, field)
        rates_layout = QVBoxLayout(self.rates_box)
        rates_layout.addLayout(form)
        rates_layout.addWidget(self.prices)
        rates_layout.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.rates_message, 1)
        row.addWidget(self.save_button)
        rates_layout.addLayout(row)

        self.days = QTableWidget(0, 8)
        self.days.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.days.verticalHeader().hide()
        self.days.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.days.horizontalHeader().setStretchLastSection(True)
        self.collections = QTableWidget(0, 3)
        self.collections.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.collections.verticalHeader().hide()
        self.collections.setMaximumHeight(140)
        self.collections.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self.export)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.collections_label = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.export_button)
        left = QVBoxLayout()
        left.addLayout(buttons)
        left.addWidget(self.budget_warning)
        left.addWidget(self.days, 1)
        left.addWidget(self.collections_label)
        left.addWidget(self.collections)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(self.rates_box, 2)
        self.retranslate()

    def retranslate(self) -> None:
        self.rates_box.setTitle(self.tr("Rates"))
        for label, text in zip(self.rate_labels, (
                self.tr("Power draw at full load (W)"), self.tr("Electricity ($ per kWh)"),
                self.tr("Storage ($ per GB-month)"), self.tr("Daily budget ($)"),
                self.tr("Compare with"))):
            label.setText(text)
        self.prices.setHorizontalHeaderLabels([self.tr("Cloud model"), self.tr("$/M input"),
                                               self.tr("$/M output")])
        self.save_button.setText(self.tr("Save rates"))
        self.days.setHorizontalHeaderLabels([
            self.tr("Day"), self.tr("Answers"), self.tr("CPU s"), self.tr("Compute"),
            self.tr("Storage"), self.tr("Total"), self.tr("Per answer"), self.tr("Cloud equivalent")])
        self.collections.setHorizontalHeaderLabels([self.tr("Collection"), self.tr("Answers"),
                                                    self.tr("Compute")])
        self.collections_label.setText(self.tr("Collections by cost (30 days)"))
        self.export_button.setText(self.tr("Export CSV…"))
        self.refresh_button.setText(self.tr("Refresh"))
        if self.data:
            self._show(self.data)

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self.refresh()

    def refresh(self) -> None:
        service = self.service
        if service is not None:
            self.tasks.run(lambda _: service.health.cost(), on_result=self._show,
                           latest="cost")

    def _show(self, data: CostReport) -> None:
        self.data = data
        rates, days = data.rates, data.days
        self.watts.setValue(rates.watts)
        self.kwh.setValue(rates.price_per_kwh)
        self.storage.setValue(rates.storage_per_gb_month)
        self.budget.setValue(rates.daily_budget)
        self.cloud_model.clear()
        self.cloud_model.addItems(sorted(rates.cloud_prices))
        self.cloud_model.setCurrentText(rates.cloud_model)
        self.prices.setRowCount(len(rates.cloud_prices))
        for r, (name, (price_in, price_out)) in enumerate(sorted(rates.cloud_prices.items())):
            for c, value in enumerate((name, f"{price_in:g}", f"{price_out:g}")):
                self.prices.setItem(r, c, QTableWidgetItem(value))
        self.days.setRowCount(len(days))
        for r, d in enumerate(days):
            for c, value in enumerate((d.day, str(d.queries), f"{d.cpu_s:.1f}", money(d.compute),
                                       money(d.storage), money(d.total), money(d.per_query),
                                       money(d.cloud_equivalent))):
                self.days.setItem(r, c, QTableWidgetItem(value))
        self.collections.setRowCount(len(data.collections))
        for r, (name, n, compute) in enumerate(data.collections):
            for c, value in enumerate((name or self.tr("All documents"), str(n), money(compute))):
                self.collections.setItem(r, c, QTableWidgetItem(value))
        month = days[:30]
        answers = sum(d.queries for d in month)
        total = sum(d.total for d in month)
        cloud = sum(d.cloud_equivalent for d in month)
        self.summary.setText(self.tr(
            "Today {0} ({1} answers) · last 30 days {2}, {3} per answer · the same tokens at "
            "{4} would have cost {5}").format(money(days[0].total), days[0].queries, money(total),
                                             money(total / answers if answers else 0),
                                             rates.cloud_model, money(cloud)))
        over = rates.daily_budget and days[0].total > rates.daily_budget
        self.budget_warning.setVisible(bool(over))
        self.budget_warning.setText(self.tr("Today's cost {0} is over the daily budget of {1}.")
                                    .format(money(days[0].total), money(rates.daily_budget))
                                    if over else "")

    def rates(self) -> CostRates:
        prices = {}
        for r in range(self.prices.rowCount()):
            items = [self.prices.item(r, c) for c in range(3)]
            if all(items) and items[0].text().strip():
                prices[items[0].text().strip()] = (float(items[1].text()), float(items[2].text()))
        return CostRates(self.watts.value(), self.kwh.value(), self.storage.value(),
                              self.cloud_model.currentText(), prices, self.budget.value())

    def save_rates(self) -> None:
        service = self.service
        if service is None:
            return
        try:
            rates = self.rates()
        except ValueError:
            self.rates_message.setText(self.tr("Prices must be numbers."))
            return
        self.tasks.run(lambda _: service.health.save_rates(rates),
                       on_result=lambda _: (self.rates_message.setText(self.tr("Saved.")),
                                            self.refresh()),
                       on_error=lambda exc: self.rates_message.setText(str(exc)))

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
