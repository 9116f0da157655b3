"""The Health tab: live charts of the engine's per-minute figures, over the last 15
minutes, hour, day or week, and the alerts the guide's rules raise.

Figures are read from the vault on a worker every 15 s (the app's scheduler writes them
every 30 s); charts are drawn with pyqtgraph.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QListWidget,
                               QVBoxLayout, QWidget)

from engine import EnclaveService

from .i18n import Retranslating
from .theme import ERROR_STYLE
from .worker import Tasks

log = logging.getLogger(__name__)
RANGES = ((15, 1), (60, 1), (1440, 30), (10080, 180))  # (minutes shown, minutes per point)


class HealthPanel(Retranslating, QWidget):
    newAlert = Signal(str)
    """An alert that was not active at the previous refresh."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.data: dict | None = None
        self._active: set[str] = set()
        self.range = QComboBox()
        for _ in RANGES:
            self.range.addItem("")
        self.range.currentIndexChanged.connect(lambda _: self.refresh())
        self.range_label = QLabel()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.alerts_label = QLabel()
        self.alerts = QListWidget()
        self.alerts.setMaximumHeight(80)
        pg.setConfigOptions(antialias=True)
        self.plots = {name: pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
                      for name in ("traffic", "latency", "quality", "process")}
        self.curves: dict[str, pg.PlotDataItem] = {}
        colors = {"requests": "#1a73e8", "answers": "#188038", "p50": "#188038",
                  "p95": "#f29900", "p99": "#d93025", "ttft95": "#9334e6",
                  "retrieve95": "#12b5cb", "queue": "#f29900",
                  "error_rate": "#d93025", "hit_rate": "#1a73e8", "cpu": "#1a73e8",
                  "memory": "#188038"}
        for plot, names in (("traffic", ("requests", "answers", "queue")),
                            ("latency", ("p50", "p95", "p99", "ttft95", "retrieve95")),
                            ("quality", ("error_rate", "hit_rate")),
                            ("process", ("cpu", "memory"))):
            widget = self.plots[plot]
            widget.addLegend(offset=(5, 5))
            widget.showGrid(x=True, y=True, alpha=0.2)
            for name in names:
                self.curves[name] = widget.plot([], [], pen=pg.mkPen(colors[name], width=2),
                                                symbol="o", symbolSize=4, connect="finite",
                                                symbolBrush=colors[name], name=name)
        top = QHBoxLayout()
        top.addWidget(self.range_label)
        top.addWidget(self.range)
        top.addWidget(self.summary, 1)
        grid = QGridLayout()
        for i, plot in enumerate(("traffic", "latency", "quality", "process")):
            grid.addWidget(self.plots[plot], i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.alerts_label)
        layout.addWidget(self.alerts)
        layout.addLayout(grid, 1)
        self._match_palette()
        self.timer = QTimer(self, interval=15_000)
        self.timer.timeout.connect(lambda: self.isVisible() and self.refresh())  # tab shown
        self.retranslate()

    def _match_palette(self) -> None:
        """Charts in the window's colours (light or dark theme)."""
        palette = self.palette()
        for widget in self.plots.values():
            widget.setBackground(palette.base().color())
            for axis in ("left", "bottom"):
                widget.getAxis(axis).setTextPen(palette.text().color())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.PaletteChange:
            self._match_palette()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.range_label.setText(self.tr("Show the last"))
        for i, text in enumerate((self.tr("15 minutes"), self.tr("hour"), self.tr("day"),
                                  self.tr("week"))):
            self.range.setItemText(i, text)
        self.alerts_label.setText(self.tr("Alerts"))
        for plot, title in (("traffic", self.tr("Requests and answers per minute; generation queue")),
                            ("latency", self.tr("Seconds: answer p50/p95/p99, first token p95, retrieval p95")),
                            ("quality", self.tr("Error rate and cache hit rate, %")),
                            ("process", self.tr("CPU % and memory, MB"))):
            self.plots[plot].setTitle(title)
        self._show_summary()

    def showEvent(self, event) -> None:
        self.refresh()
        super().showEvent(event)

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        if service is not None:
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()

    def refresh(self) -> None:
        service = self.service
        if service is None:
            return
        minutes, step = RANGES[self.range.currentIndex()]
        self.tasks.run(lambda _: service.health.chart(minutes, step), on_result=self._show,
                       latest="health")

    def _show(self, data: dict) -> None:
        self.data = data
        for name, curve in self.curves.items():
            if all(math.isnan(y) for y in data[name]):
                curve.setData([], [])  # nothing measured in this range
            else:
                curve.setData(data["x"], data[name])
        self.alerts.clear()
        self.alerts.setStyleSheet(ERROR_STYLE if data["alerts"] else "")
        for alert in data["alerts"]:
            self.alerts.addItem(alert.message)
            if alert.rule not in self._active:
                log.warning("alert: %s", alert.message)
                self.newAlert.emit(alert.message)
        self._active = {alert.rule for alert in data["alerts"]}
        if not data["alerts"]:
            self.alerts.addItem(self.tr("No alert."))
        self._show_summary()

    def _show_summary(self) -> None:
        if not self.data:
            self.summary.setText(self.tr("Waiting for the first figures…"))
            return
        latest = self.data["latest"]

        def size(value):
            return f"{(value or 0) / 2**20:.1f} MB"

        self.summary.setText(self.tr(
            "Library: {0} documents, {1} chunks · vault {2}, index {3} · generation {4} "
            "tokens/s · updated {5}").format(
            int(latest["documents"] or 0), int(latest["chunks"] or 0), size(latest["vault_bytes"]),
            size(latest["index_bytes"]),
            f"{latest['tokens_per_second']:.0f}" if latest["tokens_per_second"] else "—",
            time.strftime("%H:%M:%S")) + " · " + self._generator_text())

    def _generator_text(self) -> str:
        """What writes the answers: the local model, or the inference server (and what
        stands in for it)."""
        if self.service is None:
            return ""
        generator = self.service.health.generator()
        if generator["generator"] == "local":
            return self.tr("answers by {0}, on this computer").format(
                Path(generator["generation_model"]).name)
        model = generator["generation_model"] or self.tr("its first model")
        if generator["fallback_model"]:
            return self.tr("answers by {0} on {1} (the local {2} when it does not answer)"
                           ).format(model, generator["inference_server"],
                                    Path(generator["fallback_model"]).name)
        return self.tr("answers by {0} on {1} (quotations when it does not answer)").format(
            model, generator["inference_server"])
