"""The Health tab: the library's figures as they are now (documents, chunks, sizes, answers
today, the model's writing speed), the active alerts with when they began and what to do,
and charts of the engine's per-minute figures over the last 15 minutes, hour, day or week.

Figures are read from the vault on a worker every 15 s (the app's scheduler writes them
every 30 s); charts are drawn with pyqtgraph: percentages on fixed 0-100 axes, every other
figure on an axis of its own from 0, gaps where nothing was measured, and "No data yet"
on a chart that has nothing to show.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGridLayout, QHBoxLayout,
                               QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from engine import EnclaveService

from .figure import Figure
from .i18n import Retranslating
from .theme import ERROR_STYLE
from .worker import Tasks

log = logging.getLogger(__name__)
RANGES = ((15, 1), (60, 1), (1440, 30), (10080, 180))  # (minutes shown, minutes per point)
CHARTS = {  # chart: (its lines, whether it is a percentage)
    "traffic": (("answers", "requests", "queue"), False),
    "latency": (("p50", "p95", "p99", "ttft95", "retrieve95"), False),
    "quality": (("error_rate", "hit_rate"), True),
    "cpu": (("cpu",), True),
    "memory": (("memory",), False),
    "speed": (("tokens_per_second",), False),
}
COLORS = {"requests": "#1a73e8", "answers": "#188038", "queue": "#e37400", "p50": "#188038",
          "p95": "#e37400", "p99": "#d93025", "ttft95": "#9334e6", "retrieve95": "#12b5cb",
          "error_rate": "#d93025", "hit_rate": "#1a73e8", "cpu": "#1a73e8",
          "memory": "#188038", "tokens_per_second": "#9334e6"}


def size_text(n: float) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 / 10 else f"{n / 1024:.0f} KB"


class HealthPanel(Retranslating, QWidget):
    newAlert = Signal(str)
    """An alert that was not active at the previous refresh (its text)."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.data: dict | None = None
        self._active: set[str] = set()
        self._updated = ""
        self.range = QComboBox()
        for _ in RANGES:
            self.range.addItem("")
        self.range.currentIndexChanged.connect(lambda _: self.refresh())
        self.range_label = QLabel()
        self.figures = {name: Figure() for name in ("documents", "chunks", "index", "vault",
                                                    "answers_today", "speed")}
        self.generator = QLabel()  # what writes the answers, and when the figures were read
        self.generator.setWordWrap(True)
        self.alerts_label = QLabel()
        self.no_alert = QLabel()
        self.alerts = QTableWidget(0, 3)
        self.alerts.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.alerts.verticalHeader().hide()
        self.alerts.setWordWrap(True)
        header = self.alerts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        self.alerts.setMaximumHeight(120)
        self.alerts.hide()

        pg.setConfigOptions(antialias=True)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.empty_notes: dict[str, pg.TextItem] = {}
        for chart, (lines, percent) in CHARTS.items():
            widget = self.plots[chart] = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
            widget.setMouseEnabled(x=False, y=False)
            widget.hideButtons()
            widget.setMenuEnabled(False)
            widget.showGrid(x=True, y=True, alpha=0.15)
            widget.addLegend(offset=(8, 4), labelTextSize="9pt")
            for name in lines:
                self.curves[name] = widget.plot(
                    [], [], pen=pg.mkPen(COLORS[name], width=2), symbol="o", symbolSize=5,
                    symbolPen=None, symbolBrush=COLORS[name], connect="finite", name=name)
                scatter = self.curves[name].scatter  # its legend sample, before any data
                scatter.setBrush(COLORS[name])
                scatter.setPen(None)
                scatter.setSize(5)
            if percent:  # a little room, so that 0 and 100 are labelled
                widget.setYRange(0, 100, padding=0.03)
            note = self.empty_notes[chart] = pg.TextItem(anchor=(0.5, 0.5))
            note.setZValue(10)
            widget.addItem(note, ignoreBounds=True)

        figures_row = QHBoxLayout()
        for figure in self.figures.values():
            figures_row.addWidget(figure)
        figures_row.addStretch(1)
        range_row = QVBoxLayout()
        range_row.addWidget(self.range_label)
        range_row.addWidget(self.range)
        range_row.addStretch(1)
        figures_row.addLayout(range_row)
        grid = QGridLayout()
        for i, chart in enumerate(CHARTS):
            grid.addWidget(self.plots[chart], i // 3, i % 3)
        layout = QVBoxLayout(self)
        layout.addLayout(figures_row)
        layout.addWidget(self.generator)
        alerts_row = QHBoxLayout()
        alerts_row.addWidget(self.alerts_label)
        alerts_row.addWidget(self.no_alert, 1)
        layout.addLayout(alerts_row)
        layout.addWidget(self.alerts)
        layout.addLayout(grid, 1)
        self._match_palette()
        self.timer = QTimer(self, interval=15_000)
        self.timer.timeout.connect(lambda: self.isVisible() and self.refresh())  # tab shown
        self.retranslate()

    def _match_palette(self) -> None:
        """Charts in the window's colours (light or dark theme), titles and legends as
        readable as the window's text."""
        palette = self.palette()
        text = palette.text().color()
        for chart, widget in self.plots.items():
            widget.setBackground(palette.base().color())
            for axis in ("left", "bottom"):
                widget.getAxis(axis).setTextPen(text)
                widget.getAxis(axis).setPen(palette.mid().color())
            legend = widget.getPlotItem().legend
            legend.setLabelTextColor(text)
            for _, label in legend.items:
                label.setText(label.text, color=text)
            self.empty_notes[chart].setColor(palette.placeholderText().color())
        self._set_titles()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.PaletteChange:
            self._match_palette()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.range_label.setText(self.tr("Show the last"))
        for i, text in enumerate((self.tr("15 minutes"), self.tr("hour"), self.tr("day"),
                                  self.tr("week"))):
            self.range.setItemText(i, text)
        self.alerts_label.setText("<b>" + self.tr("Alerts") + "</b>")
        self.no_alert.setText(self.tr("None: every figure is within its limits."))
        self.alerts.setHorizontalHeaderLabels([self.tr("Since"), self.tr("Alert"),
                                               self.tr("What to do")])
        names = {"answers": self.tr("answers (desktop and API)"),
                 "requests": self.tr("API requests"), "queue": self.tr("answers waiting"),
                 "p50": self.tr("answer p50"), "p95": self.tr("answer p95"),
                 "p99": self.tr("answer p99"), "ttft95": self.tr("first sentence p95"),
                 "retrieve95": self.tr("search p95"), "error_rate": self.tr("API errors"),
                 "hit_rate": self.tr("answer cache hits"), "cpu": self.tr("CPU"),
                 "memory": self.tr("memory"), "tokens_per_second": self.tr("tokens/s")}
        text = self.palette().text().color()
        for chart, (lines, _) in CHARTS.items():
            legend = self.plots[chart].getPlotItem().legend
            for (_, label), name in zip(legend.items, lines):
                label.setText(names[name], color=text)
            self.empty_notes[chart].setText(self.tr("No data yet"))
        self._set_titles()
        if self.data:
            self._show_alerts(self.data["alerts"])
        self._show_figures()

    def _set_titles(self) -> None:
        titles = {"traffic": self.tr("Answers and API requests per minute"),
                  "latency": self.tr("Time to answer, seconds"),
                  "quality": self.tr("API errors and answer-cache hits, %"),
                  "cpu": self.tr("CPU, % of the whole machine"),
                  "memory": self.tr("Memory, MB"),
                  "speed": self.tr("Model writing speed, tokens/s")}
        color = self.palette().text().color().name()
        for chart, title in titles.items():
            self.plots[chart].setTitle(title, color=color, size="10pt")

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

    # --- what is shown ----------------------------------------------------------------

    def _show(self, data: dict) -> None:
        self.data = data
        self._updated = time.strftime("%H:%M:%S")
        xs = data["x"]
        for chart, (lines, percent) in CHARTS.items():
            widget, highest = self.plots[chart], 0.0
            for name in lines:
                ys = data[name]
                measured = [y for y in ys if not math.isnan(y)]
                self.curves[name].setData(xs if measured else [], ys if measured else [])
                highest = max([highest, *measured])
            widget.setXRange(xs[0], xs[-1], padding=0.02)
            if not percent:  # from 0, a little above the highest figure
                widget.setYRange(0, highest * 1.15 or 1, padding=0.03)
            empty = not any(self.curves[name].getData()[0] is not None
                            and len(self.curves[name].getData()[0]) for name in lines)
            note = self.empty_notes[chart]
            note.setVisible(empty)
            note.setPos((xs[0] + xs[-1]) / 2, 50 if percent else 0.5)
        for alert in data["alerts"]:
            if alert.rule not in self._active:
                log.warning("alert: %s", alert.message)
                self.newAlert.emit(self._alert_text(alert))
        self._active = {alert.rule for alert in data["alerts"]}
        self._show_alerts(data["alerts"])
        self._show_figures()

    def _show_figures(self) -> None:
        totals = self.data["totals"] if self.data else None
        if totals is None:
            for figure in self.figures.values():
                figure.show_figure("—", "")
            self.generator.setText(self.tr("Waiting for the first figures…"))
            return
        documents, chunks, answers = totals["documents"], totals["chunks"], totals["answers_today"]
        speed = totals["tokens_per_second"]
        for name, value, caption in (
                ("documents", str(documents), self.tr("document(s)", "", documents)),
                ("chunks", str(chunks), self.tr("chunk(s)", "", chunks)),
                ("index", size_text(totals["index_bytes"]), self.tr("vector index")),
                ("vault", size_text(totals["vault_bytes"]), self.tr("encrypted library")),
                ("answers_today", str(answers), self.tr("answer(s) today", "", answers)),
                ("speed", f"{speed:.0f}" if speed else "—",
                 self.tr("tokens/s, the model's last answer"))):
            self.figures[name].show_figure(value, caption)
        self.generator.setText(self._generator_text() + " · " +
                               self.tr("updated {0}").format(self._updated))

    def _show_alerts(self, alerts: list) -> None:
        self.alerts.setVisible(bool(alerts))
        self.no_alert.setVisible(not alerts)
        self.alerts.setRowCount(len(alerts))
        for r, alert in enumerate(alerts):
            since = time.strftime("%Y-%m-%d %H:%M", time.localtime(alert.since))
            for c, text in enumerate((since, self._alert_text(alert), self._advice(alert))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c == 1:
                    item.setForeground(Qt.red)
                self.alerts.setItem(r, c, item)
        self.alerts.resizeRowsToContents()
        self.alerts_label.setStyleSheet(ERROR_STYLE if alerts else "")

    def _alert_text(self, alert) -> str:
        value = alert.value or 0
        texts = {
            "errors": self.tr("{0:.0%} of API requests failed in each of the last 2 minutes "
                              "(over 5%)."),
            "slow_answers": self.tr("Answers are slow: p95 {0:.1f} s for 5 minutes (over 2 s)."),
            "cache": self.tr("Answer cache hit rate {0:.0%} for 10 minutes (under 60%)."),
            "backup": self.tr("The last backup failed: {1}"),
            "backup_missed": self.tr("The scheduled backup did not happen."),
            "disk": self.tr("Only {0:.1f} GiB free where the library lives (under 2 GiB)."),
        }
        text = texts.get(alert.rule)
        return text.format(value, alert.detail) if text else alert.message

    def _advice(self, alert) -> str:
        return {
            "errors": self.tr("Read enclave.log and the API audit log (Settings → LAN API) "
                              "for the failing requests."),
            "slow_answers": self.tr("Fewer clients at once, or a faster answer model or "
                                    "inference server (Settings → Models)."),
            "cache": self.tr("Normal when questions rarely repeat. Each import empties the "
                             "cache: import in batches, outside busy hours."),
            "backup": self.tr("Check that the backup folder is reachable, then Back up now "
                              "(Settings → Backups)."),
            "backup_missed": self.tr("Back up now (Settings → Backups), and leave Enclave "
                                     "running at the backup time."),
            "disk": self.tr("Free space on that disk, or move the data directory (Settings → "
                            "Advanced) and restore a backup there."),
        }.get(alert.rule, "")

    def _generator_text(self) -> str:
        """What writes the answers: the local model, or the inference server (and what
        stands in for it)."""
        if self.service is None:
            return ""
        generator = self.service.health.generator()
        if generator["generator"] == "local":
            return self.tr("Answers by {0}, on this computer").format(
                Path(generator["generation_model"]).name)
        model = generator["generation_model"] or self.tr("its first model")
        if generator["fallback_model"]:
            return self.tr("Answers by {0} on {1} (the local {2} when it does not answer)"
                           ).format(model, generator["inference_server"],
                                    Path(generator["fallback_model"]).name)
        return self.tr("Answers by {0} on {1} (quotations when it does not answer)").format(
            model, generator["inference_server"])
