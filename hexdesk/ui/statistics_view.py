"""The Statistics window: what the closed trades of this session say, filtered by symbol, side, margin mode, tag,
setup and dates (docs/statistics.md has every formula).

Thin: ``desk.statistics(TradeFilter)`` computes everything (vectorised, milliseconds even over 100,000 trades);
this window shows the figures, a per-tag and per-setup table with sample sizes, the equity curve with its drawdown
(pyqtgraph), P&L by hour and weekday, an R histogram and a calendar heatmap of daily P&L.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QDate, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.service import sessions_table
from hexdesk.storage.statistics import WEEKDAYS, GroupRow, Statistics, TradeFilter, TradeTable, compute
from hexdesk.ui import theme
from hexdesk.ui.qt_compat import pg

if TYPE_CHECKING:
    from hexdesk.service import TradingDesk

ANY = "Any"
THIS_SESSION = "This session"
ALL_SESSIONS = "All sessions"

# (key, label, tooltip): the figures column, in reading order
FIGURES = (
    ("trade_count", "Trades", "Closed trades selected (open ones are not counted until they close)"),
    ("win_rate", "Win rate", "Winning trades ÷ trades (a trade wins when its net PnL > 0)"),
    ("average_win", "Average win", "Net PnL of the winners ÷ their number"),
    ("average_loss", "Average loss", "Net PnL of the losers ÷ their number"),
    ("expectancy", "Expectancy", "Net PnL ÷ trades: what a trade earned on average"),
    ("expectancy_r", "Expectancy (R)", "Mean R over the trades that had a stop"),
    ("profit_factor", "Profit factor", "Gross profit ÷ gross loss"),
    ("net_pnl", "Net PnL", "Realized PnL − fees + funding"),
    ("max_drawdown", "Max drawdown", "Largest fall of the equity curve below its running peak"),
    ("max_drawdown_pct", "Max drawdown %", "Largest fall below the running peak, in % of that peak"),
    ("longest_losing_streak", "Longest losing streak", "Most losing trades in a row"),
    ("fees", "Fees paid", "USDT fees (a fee in another coin is counted apart)"),
    ("funding", "Funding", "Received (+) or paid (−) while trades were open"),
    ("liquidations", "Liquidations", "Trades ended by the liquidation engine"),
    ("liquidation_cost", "Lost to liquidations", "What the liquidated trades lost (net)"),
)


def _money(v: float | None, sign: bool = True) -> str:
    if v is None:
        return "--"
    return f"{v:+,.2f} USDT" if sign else f"{v:,.2f} USDT"


def figure_text(s: Statistics, key: str) -> str:
    """How the window writes one figure."""
    v = getattr(s, key)
    if key in ("trade_count", "longest_losing_streak"):
        extra = f"  ({s.wins} W / {s.losses} L / {s.breakeven} BE)" if key == "trade_count" else ""
        return f"{v}{extra}"
    if key == "liquidations":
        return str(v)
    if key == "win_rate":
        return "--" if v is None else f"{v * 100:.1f} %"
    if key == "expectancy_r":
        return "--" if v is None else f"{v:+.2f} R  (n = {s.r_count})"
    if key == "profit_factor":
        return "--" if v is None else f"{v:.2f}"
    if key == "max_drawdown_pct":
        return f"{v:.2f} %"
    if key in ("fees", "liquidation_cost", "max_drawdown"):
        return _money(v, sign=False)
    return _money(v)


def _colour(v: float | None) -> str:
    if v is None or v == 0 or (isinstance(v, float) and math.isnan(v)):
        return theme.TEXT
    return theme.GREEN if v > 0 else theme.RED


class CalendarHeatmap(QWidget):
    """Daily net PnL as a GitHub-style grid: one column a week, Monday on top; green gains, red losses."""

    CELL = 20

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.days: dict[date, float] = {}
        self.setMinimumHeight(7 * (self.CELL + 2) + 22)
        self.setToolTip("Daily net PnL (UTC days)")

    def set_days(self, days: tuple[tuple[date, float], ...]) -> None:
        self.days = dict(days)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        weeks = self._weeks()
        return QSize(40 + weeks * (self.CELL + 2), 7 * (self.CELL + 2) + 22)

    def _weeks(self) -> int:
        if not self.days:
            return 1
        first, last = min(self.days), max(self.days)
        start = first - timedelta(days=first.weekday())
        return (last - start).days // 7 + 1

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(theme.MUTED))
        c = self.CELL
        for i, name in enumerate(WEEKDAYS):
            p.drawText(QRectF(0, 18 + i * (c + 2), 34, c), Qt.AlignmentFlag.AlignVCenter, name)
        if not self.days:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No closed trades")
            return
        first, last = min(self.days), max(self.days)
        start = first - timedelta(days=first.weekday())
        scale = max(abs(v) for v in self.days.values()) or 1.0
        d = start
        label_col = -10
        while d <= last:
            col, row = (d - start).days // 7, d.weekday()
            x, y = 40 + col * (c + 2), 18 + row * (c + 2)
            if (d == start or d.day == 1) and col - label_col >= 3:  # a month over the week it starts in, if room
                label_col = col
                p.setPen(QColor(theme.MUTED))
                p.drawText(QRectF(x, 0, 80, 16), Qt.AlignmentFlag.AlignLeft, max(d, first).strftime("%b %Y"))
            v = self.days.get(d)
            if v is None:
                colour = QColor(theme.PANEL_ALT)
            else:
                colour = QColor(theme.GREEN if v > 0 else theme.RED if v < 0 else theme.MUTED)
                colour.setAlphaF(0.35 + 0.65 * min(1.0, abs(v) / scale))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(x, y, c, c), 3, 3)
            d += timedelta(days=1)


class StatisticsView(QWidget):
    """A window of statistics over the desk's closed trades; ``refresh()`` re-reads the desk."""

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.desk = desk
        self.stats: Statistics | None = None
        self._all: tuple[TradeTable, float] | None = None  # every journal session's trades, while "All sessions"
        self._seen: tuple[Any, ...] | None = None  # this session's trades when the all-sessions table was built
        self.setObjectName("statisticsView")
        self.setWindowTitle("HexDesk — Statistics")
        self.resize(1280, 820)
        theme.apply(self)
        self._build()
        self.refresh()

    # --- layout ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.scope_box = QComboBox(objectName="filterScope")
        self.scope_box.addItems((THIS_SESSION, ALL_SESSIONS))
        self.scope_box.setEnabled(self._journal_sessions() is not None)
        self.scope_box.setToolTip("Statistics of this session, or of every session in the journal")
        self.scope_box.currentIndexChanged.connect(self.refresh)
        self.symbol_box = self._combo("Symbol")
        self.side_box = self._combo("Side", ("Long", "Short"))
        self.mode_box = self._combo("Margin", ("Isolated", "Cross"))
        self.tag_box = self._combo("Tag")
        self.setup_box = self._combo("Setup")
        self.from_check = QCheckBox("From")
        self.to_check = QCheckBox("To")
        self.from_date = QDateEdit(calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.to_date = QDateEdit(calendarPopup=True, displayFormat="yyyy-MM-dd")
        for w in (self.from_check, self.to_check):
            w.toggled.connect(self.apply_filter)
        for w in (self.from_date, self.to_date):
            w.dateChanged.connect(self.apply_filter)
        reset = QPushButton("Clear filters")
        reset.clicked.connect(self.clear_filters)

        bar = QHBoxLayout()
        bar.addWidget(self.scope_box)
        for label, box in (("Symbol", self.symbol_box), ("Side", self.side_box), ("Margin", self.mode_box),
                           ("Tag", self.tag_box), ("Setup", self.setup_box)):
            bar.addWidget(QLabel(label, objectName="muted"))
            bar.addWidget(box)
        bar.addSpacing(8)
        bar.addWidget(self.from_check)
        bar.addWidget(self.from_date)
        bar.addWidget(self.to_check)
        bar.addWidget(self.to_date)
        bar.addStretch(1)
        bar.addWidget(reset)

        grid = QGridLayout()
        grid.setVerticalSpacing(4)
        self.figures: dict[str, QLabel] = {}
        for i, (key, label, tip) in enumerate(FIGURES):
            name = QLabel(label, objectName="muted")
            name.setToolTip(tip)
            value = QLabel("--", objectName=f"figure_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, i, 0)
            grid.addWidget(value, i, 1)
            self.figures[key] = value
        self.foreign_fees = QLabel("", objectName="muted")
        self.foreign_fees.setWordWrap(True)
        grid.addWidget(self.foreign_fees, len(FIGURES), 0, 1, 2)

        self.group_table = QTableWidget(0, 6, objectName="tagTable")
        self.group_table.setHorizontalHeaderLabels(["Tag / setup", "Trades", "Win rate", "Net PnL", "Expectancy",
                                                    "Exp. R (n)"])
        for j, tip in enumerate(("", "Closed trades with this tag or setup: the sample size",
                                 "Winners ÷ trades", "USDT", "Net PnL ÷ trades, USDT",
                                 "Mean R of those with a stop (how many)")):
            self.group_table.horizontalHeaderItem(j).setToolTip(tip)
        self.group_table.verticalHeader().hide()
        self.group_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.group_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.group_table.horizontalHeader().setStretchLastSection(True)

        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.addLayout(grid)
        lcol.addWidget(QLabel("By tag and setup (sample sizes first: a few trades prove little)", objectName="muted"))
        lcol.addWidget(self.group_table, 1)

        pg.setConfigOptions(antialias=True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(theme.PANEL)
        self.equity_plot = self.plots.addPlot(row=0, col=0, colspan=3,
                                              axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.equity_plot.setTitle("Equity (USDT)", color=theme.MUTED)
        self.equity_plot.showGrid(x=True, y=True, alpha=0.15)
        self.equity_curve = self.equity_plot.plot(pen=pg.mkPen(theme.ACCENT, width=2))
        self.drawdown_plot = self.plots.addPlot(row=1, col=0, colspan=3,
                                                axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.drawdown_plot.setTitle("Drawdown (USDT below the peak)", color=theme.MUTED)
        self.drawdown_plot.setXLink(self.equity_plot)
        self.drawdown_plot.showGrid(x=True, y=True, alpha=0.15)
        red = QColor(theme.RED)
        red.setAlpha(90)
        self.drawdown_curve = self.drawdown_plot.plot(pen=pg.mkPen(theme.RED, width=1), fillLevel=0, brush=red)
        self.r_plot = self.plots.addPlot(row=2, col=0)
        self.r_plot.setTitle("R multiples", color=theme.MUTED)
        self.hour_plot = self.plots.addPlot(row=2, col=1)
        self.hour_plot.setTitle("Net PnL by hour (UTC)", color=theme.MUTED)
        self.weekday_plot = self.plots.addPlot(row=2, col=2)
        self.weekday_plot.setTitle("Net PnL by weekday", color=theme.MUTED)
        self.weekday_plot.getAxis("bottom").setTicks([list(enumerate(WEEKDAYS))])
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 1)
        self.plots.ci.layout.setRowStretchFactor(2, 2)
        self._bars: dict[str, Any] = {}

        self.calendar = CalendarHeatmap()
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.plots, 1)
        rcol.addWidget(QLabel("Daily net PnL", objectName="muted"))
        rcol.addWidget(self.calendar)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 860])

        col = QVBoxLayout(self)
        col.addLayout(bar)
        col.addWidget(split, 1)

    def _combo(self, name: str, items: tuple[str, ...] = ()) -> QComboBox:
        box = QComboBox(objectName=f"filter{name}")
        box.addItems((ANY, *items))
        box.currentIndexChanged.connect(self.apply_filter)
        return box

    # --- data ------------------------------------------------------------------------------------------

    def current_filter(self) -> TradeFilter:
        """The filter the controls describe."""
        def chosen(box: QComboBox) -> str | None:
            text = box.currentText()
            return None if text in ("", ANY) else text

        side = {"Long": Side.BUY, "Short": Side.SELL}.get(chosen(self.side_box) or "")
        mode = {"Isolated": MarginMode.ISOLATED, "Cross": MarginMode.CROSS}.get(chosen(self.mode_box) or "")
        symbol, tag, setup = chosen(self.symbol_box), chosen(self.tag_box), chosen(self.setup_box)
        return TradeFilter(
            symbols=frozenset({symbol}) if symbol else frozenset(),
            side=side,
            margin_mode=mode,
            tags=frozenset({tag}) if tag else frozenset(),
            setups=frozenset({setup}) if setup else frozenset(),
            start=self.from_date.date().toPython() if self.from_check.isChecked() else None,  # type: ignore[arg-type]
            end=self.to_date.date().toPython() if self.to_check.isChecked() else None,  # type: ignore[arg-type]
        )

    def clear_filters(self) -> None:
        for box in (self.symbol_box, self.side_box, self.mode_box, self.tag_box, self.setup_box):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        for check in (self.from_check, self.to_check):
            check.blockSignals(True)
            check.setChecked(False)
            check.blockSignals(False)
        self.apply_filter()

    def _journal_sessions(self) -> list[int] | None:
        """The ids of the journal's sessions, oldest first (None without a journal)."""
        journal = self.desk.journal
        if journal is None:
            return None
        return sorted(s.id for s in journal.sessions())

    @property
    def all_sessions(self) -> bool:
        return self.scope_box.currentText() == ALL_SESSIONS

    def _statistics(self, trade_filter: TradeFilter | None) -> Statistics:
        if self.all_sessions and self._all is not None:
            table, balance = self._all
            return compute(table, trade_filter, balance)
        return self.desk.statistics(trade_filter)

    def set_desk(self, desk: TradingDesk) -> None:
        """Show another session (``MainWindow.switch_session``)."""
        self.desk = desk
        self._seen = None
        self.scope_box.setEnabled(self._journal_sessions() is not None)
        self.refresh()

    def desk_changed(self) -> None:
        """The desk published events: refresh, re-reading every journal session only if this one's trades moved."""
        if self.all_sessions and self._all is not None and self._signature() == self._seen:
            return
        self.refresh()

    def _signature(self) -> tuple[Any, ...]:
        return tuple((t.trade_key, t.closed_ms, t.net_pnl) for t in self.desk.trades())

    def refresh(self, *_: object) -> None:
        """Re-read the desk (new trades, new notes) and show the statistics for the current filter."""
        ids = self._journal_sessions() if self.all_sessions else None
        self._all = sessions_table(self.desk.journal, ids) if ids else None
        self._seen = self._signature() if self._all is not None else None
        everything = self._statistics(None)
        if self._all is not None:
            table = self._all[0]
            symbols = sorted(table.symbols)
        else:
            symbols = sorted({t.symbol for t in self.desk.trades()})
        self._set_options(self.symbol_box, symbols)
        self._set_options(self.tag_box, [g.name for g in everything.tags])
        self._set_options(self.setup_box, [g.name for g in everything.setups])
        if everything.daily_pnl:
            first, last = everything.daily_pnl[0][0], everything.daily_pnl[-1][0]
            for edit, d in ((self.from_date, first), (self.to_date, last)):
                if not (self.from_check.isChecked() or self.to_check.isChecked()):
                    edit.blockSignals(True)
                    edit.setDate(QDate(d.year, d.month, d.day))
                    edit.blockSignals(False)
        self.apply_filter()

    def _set_options(self, box: QComboBox, names: list[str]) -> None:
        current = box.currentText()
        wanted = [ANY, *names]
        if [box.itemText(i) for i in range(box.count())] == wanted:
            return
        box.blockSignals(True)
        box.clear()
        box.addItems(wanted)
        box.setCurrentIndex(max(0, box.findText(current)))
        box.blockSignals(False)

    def apply_filter(self, *_: object) -> None:
        self.stats = s = self._statistics(self.current_filter())
        for key, label in self.figures.items():
            label.setText(figure_text(s, key))
            value = getattr(s, key)
            if key in ("average_win", "average_loss", "expectancy", "expectancy_r", "net_pnl", "funding"):
                label.setStyleSheet(f"color: {_colour(value)};")
            elif key in ("max_drawdown", "max_drawdown_pct", "liquidation_cost", "liquidations") and value:
                label.setStyleSheet(f"color: {theme.RED if key != 'liquidations' else theme.ORANGE};")
            else:
                label.setStyleSheet("")
        self.foreign_fees.setText(
            f"{s.foreign_fee_trades} trade(s) paid a fee in another coin (BNB): not in the USDT fees"
            if s.foreign_fee_trades else ""
        )
        self._fill_groups(s)
        self._draw(s)
        self.calendar.set_days(s.daily_pnl)

    def _fill_groups(self, s: Statistics) -> None:
        rows: list[tuple[str, GroupRow]] = [("#", g) for g in s.tags] + [("setup: ", g) for g in s.setups]
        t = self.group_table
        t.setRowCount(len(rows))
        for i, (prefix, g) in enumerate(rows):
            cells = (
                f"{prefix}{g.name}",
                str(g.count),
                "--" if g.win_rate is None else f"{g.win_rate * 100:.0f} %",
                f"{g.net_pnl:+,.2f}",
                "--" if g.expectancy is None else f"{g.expectancy:+,.2f}",
                "--" if g.expectancy_r is None else f"{g.expectancy_r:+.2f} ({g.r_count})",
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j in (3, 4):
                    item.setForeground(QColor(_colour(g.net_pnl if j == 3 else g.expectancy)))
                t.setItem(i, j, item)

    def _draw(self, s: Statistics) -> None:
        x = s.equity_ms / 1000.0
        self.equity_curve.setData(x, s.equity)
        self.drawdown_curve.setData(x, -s.drawdown)
        edges = s.r_edges
        self._bar("r", self.r_plot, (edges[:-1] + edges[1:]) / 2 if edges.size else np.zeros(0),
                  s.r_counts.astype(float), width=0.45,
                  colours=[theme.GREEN if lo >= 0 else theme.RED for lo in edges[:-1]])
        hours = np.asarray(s.pnl_by_hour)
        self._bar("hour", self.hour_plot, np.arange(24), hours, width=0.8,
                  colours=[theme.GREEN if v >= 0 else theme.RED for v in hours])
        days = np.asarray(s.pnl_by_weekday)
        self._bar("weekday", self.weekday_plot, np.arange(7), days, width=0.7,
                  colours=[theme.GREEN if v >= 0 else theme.RED for v in days])

    def _bar(self, name: str, plot: Any, x: np.ndarray, heights: np.ndarray, *, width: float,
             colours: list[str]) -> None:
        old = self._bars.pop(name, None)
        if old is not None:
            plot.removeItem(old)
        if not x.size:
            return
        item = pg.BarGraphItem(x=x, height=heights, width=width, brushes=[QColor(c) for c in colours],
                               pen=pg.mkPen(None))
        plot.addItem(item)
        self._bars[name] = item
