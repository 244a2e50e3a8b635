"""An in-memory stand-in for ``hexdesk.service.TradingDesk``, for widget tests only.

It has the desk's exact method names and return shapes, and reuses the real pieces that need no exchange
(instruments, bundled candles, replay ticks, the risk module's preview and sizing, the margin formulas), so the
widgets see realistic numbers; trading itself is simple arithmetic (market orders fill at the last price, other
orders rest). Tests steer it with ``reject_next`` and ``push_tick`` and read what the widgets asked for from
``submitted`` / ``closed`` / ``canceled``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from hexdesk.engine.enums import LiquidityRole, MarginMode, OrderStatus, OrderType, Side
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.events import (
    Event,
    LeverageChanged,
    MarginModeChanged,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    PositionChanged,
)
from hexdesk.engine.fills import Fill
from hexdesk.engine.instruments import Instrument, default_instruments
from hexdesk.engine.margin import initial_margin, liquidation_price, maintenance_margin, margin_ratio
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.positions import AccountSnapshot, Position
from hexdesk.engine.risk import OrderPreview, PositionSizing, PreviewContext, preview_order, size_position
from hexdesk.market.candles import Candle, CandleSeries, load_bundled
from hexdesk.market.replay import PriceTick, candle_ticks
from hexdesk.storage.views import ScreenshotRow, TradeNote

try:  # the real change type when the service imports (it needs the engine's Exchange)
    from hexdesk.service import DeskChange
except ImportError:  # pragma: no cover - until hexdesk.engine.Exchange lands

    @dataclass(frozen=True, slots=True)
    class DeskChange:  # type: ignore[no-redef]
        ticks: tuple[PriceTick, ...] = ()
        events: tuple[Event, ...] = ()


ZERO = Decimal(0)
DATASETS = {"BTCUSDT": "BTCUSDT-2025-03", "ETHUSDT": "ETHUSDT-2025-03"}


@dataclass(frozen=True, slots=True)
class FakeResult:
    """Same shape as the engine's ``Result``."""

    ok: bool
    order: Order | None = None
    rejection: Rejection | None = None
    events: tuple[Event, ...] = ()


@dataclass
class _Holding:
    quantity: Decimal = ZERO
    entry: Decimal = ZERO


@dataclass
class FakeDesk:
    """A practice account on two symbols, with ``history_len`` closed candles of each already shown."""

    history_len: int = 600
    balance: Decimal = Decimal("10000")
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    mode_label: str = "Replay · BTCUSDT-2025-03, ETHUSDT-2025-03"
    opening: ClassVar[str | None] = None  # (TradingDesk.opening: a real session's desk takes orders)
    # what the widgets asked for
    submitted: list[OrderRequest] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    canceled: list[tuple[str, int]] = field(default_factory=list)
    sized: list[tuple] = field(default_factory=list)
    sized_order_types: list[OrderType | None] = field(default_factory=list)
    replay_calls: list[str] = field(default_factory=list)
    reject_next: Rejection | None = None
    reject_leverage: Rejection | None = None
    finished: bool = False  # the replay's data has ended (set it to see the window's end-of-data state)
    liquidation_reports: list = field(default_factory=list)  # explain.LiquidationReport values, oldest first

    def __post_init__(self) -> None:
        self._instruments: dict[str, Instrument] = default_instruments()
        self._series: dict[str, CandleSeries] = {s: load_bundled(DATASETS[s]) for s in self.symbols}
        self._ticks = {s: candle_ticks(self._series[s], self.history_len) for s in self.symbols}
        self._last: dict[str, Decimal] = {
            s: self._series[s].candle(self.history_len - 1).close for s in self.symbols
        }
        self._clock = int(self._series[self.symbols[0]].open_time_ms[self.history_len])
        self._leverage = dict.fromkeys(self.symbols, 20)
        self._mode = dict.fromkeys(self.symbols, MarginMode.ISOLATED)
        self._holdings = {s: _Holding() for s in self.symbols}
        self._wallet = self.balance
        self._orders: dict[int, Order] = {}
        self._fills: list[Fill] = []
        self._handlers: list[Callable[[DeskChange], None]] = []
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._paused = True
        self._speed = 60.0

    # --- subscriptions ---------------------------------------------------------------------------------

    def subscribe(self, handler: Callable[[DeskChange], None]) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None

    @property
    def subscriber_count(self) -> int:
        return len(self._handlers)

    def publish(self, change: DeskChange) -> None:
        for handler in list(self._handlers):
            handler(change)

    def next_tick(self, symbol: str = "BTCUSDT") -> PriceTick:
        """The next replayed tick of ``symbol`` (from the bundled candles after the history)."""
        return next(self._ticks[symbol])

    def feed(self, ticks: list[PriceTick]) -> DeskChange:
        """Apply ticks like the desk does (last price, clock) and tell subscribers."""
        for t in ticks:
            self._last[t.symbol] = t.price
            self._clock = max(self._clock, t.ts_ms)
        change = DeskChange(tuple(ticks), ())
        self.publish(change)
        return change

    def push_tick(self, symbol: str = "BTCUSDT", price: Decimal | None = None) -> DeskChange:
        """One tick: the next replayed one, or a forming candle at ``price`` in the current minute."""
        if price is None:
            return self.feed([self.next_tick(symbol)])
        t = self._clock
        open_ms = t - t % 60_000
        candle = Candle(symbol, "1m", open_ms, price, price, price, price, ZERO, False)
        return self.feed([PriceTick(symbol, t, price, candle, 1)])

    # --- market ----------------------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        return self._instruments[symbol]

    def history(self, symbol: str) -> CandleSeries:
        return self._series[symbol].slice(0, self.history_len)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._last.get(symbol)

    # --- trading ---------------------------------------------------------------------------------------

    def _event(self, cls: type, *args: object) -> Event:
        return cls(next(self._seq), self._clock, *args)

    def submit(self, request: OrderRequest) -> FakeResult:
        self.submitted.append(request)
        if self.reject_next is not None:
            rejection, self.reject_next = self.reject_next, None
            return FakeResult(False, None, rejection)
        order = self._new_order(request)
        if request.type is not OrderType.MARKET:
            self._orders[order.order_id] = order
            result = FakeResult(True, order, None, (self._event(OrderAccepted, order),))
        else:
            result = self._fill(order, request)
        self.publish(DeskChange((), result.events))
        return result

    def _new_order(self, request: OrderRequest) -> Order:
        oid = next(self._ids)
        return Order.from_request(request, oid, f"fake-{oid}", self._clock)

    def _fill(self, order: Order, request: OrderRequest) -> FakeResult:
        symbol, price, qty = order.symbol, self._last[order.symbol], order.quantity
        inst = self._instruments[symbol]
        h = self._holdings[symbol]
        signed = order.side.sign * qty
        realized = ZERO
        if h.quantity and (h.quantity > 0) != (signed > 0):  # reduces
            closing = min(qty, abs(h.quantity))
            realized = closing * (price - h.entry) * (1 if h.quantity > 0 else -1)
        new_qty = h.quantity + signed
        if new_qty == 0:
            h.entry = ZERO
        elif h.quantity == 0 or (h.quantity > 0) != (new_qty > 0):
            h.entry = price
        elif abs(new_qty) > abs(h.quantity):
            h.entry = (abs(h.quantity) * h.entry + qty * price) / abs(new_qty)
        h.quantity = new_qty
        fee = inst.taker_fee * qty * price
        self._wallet += realized - fee
        filled = order.evolve(status=OrderStatus.FILLED, executed_qty=qty, avg_price=price)
        fill = Fill(next(self._ids), order.order_id, symbol, order.side, price, qty, fee, "USDT",
                    LiquidityRole.TAKER, realized, self._clock)
        self._fills.append(fill)
        events: list[Event] = [
            self._event(OrderFilled, filled, fill),
            self._event(PositionChanged, self.position(symbol)),
        ]
        exit_side = order.side.opposite
        attached_kinds = (
            (request.stop_loss, OrderType.STOP_MARKET),
            (request.take_profit, OrderType.TAKE_PROFIT_MARKET),
        )
        for trigger, kind in attached_kinds:
            if trigger is not None and new_qty:
                attached = self._new_order(
                    OrderRequest(symbol, exit_side, kind, stop_price=trigger, close_position=True, reduce_only=True)
                ).evolve(parent_order_id=order.order_id)
                self._orders[attached.order_id] = attached
                events.append(self._event(OrderAccepted, attached))
        if new_qty == 0:  # closing a position cancels its attached orders
            for o in [o for o in self._orders.values() if o.symbol == symbol and o.close_position]:
                del self._orders[o.order_id]
        return FakeResult(True, filled, None, tuple(events))

    def preview(self, request: OrderRequest) -> OrderPreview | None:
        last = self._last.get(request.symbol)
        if last is None:
            return None
        pos = self.position(request.symbol)
        account = self.account()
        ctx = PreviewContext(
            instrument=self._instruments[request.symbol],
            last_price=last,
            mark_price=last,
            position_qty=pos.quantity,
            entry_price=pos.entry_price,
            isolated_wallet=pos.isolated_wallet,
            leverage=self._leverage[request.symbol],
            margin_mode=self._mode[request.symbol],
            cross_wallet_balance=self._wallet,
            other_maintenance=ZERO,
            other_upnl=ZERO,
            available_balance=account.available_balance,
            equity=account.margin_balance,
        )
        return preview_order(request, ctx)

    def size_position(
        self,
        symbol: str,
        entry: Decimal,
        stop: Decimal,
        risk_pct: Decimal,
        leverage: int,
        take_profit: Decimal | None = None,
        order_type: OrderType | None = None,
    ) -> PositionSizing:
        self.sized.append((symbol, entry, stop, risk_pct, leverage, take_profit))
        self.sized_order_types.append(order_type)
        account = self.account()
        return size_position(
            self._instruments[symbol],
            account.margin_balance,
            entry,
            stop,
            risk_pct=risk_pct,
            leverage=leverage,
            margin_mode=self._mode[symbol],
            take_profit=take_profit,
            available_balance=account.available_balance,
        )

    def cancel(self, symbol: str, order_id: int) -> FakeResult:
        self.canceled.append((symbol, order_id))
        order = self._orders.pop(order_id, None)
        if order is None:
            return FakeResult(False, None, Rejection.of(ErrorCode.UNKNOWN_ORDER))
        canceled = order.evolve(status=OrderStatus.CANCELED)
        result = FakeResult(True, canceled, None, (self._event(OrderCanceled, canceled),))
        self.publish(DeskChange((), result.events))
        return result

    def close_position(self, symbol: str) -> FakeResult:
        self.closed.append(symbol)
        qty = self._holdings[symbol].quantity
        if qty == 0:
            return FakeResult(False, None, Rejection.of(ErrorCode.REDUCE_ONLY_REJECT))
        side = Side.SELL if qty > 0 else Side.BUY
        request = OrderRequest(symbol, side, OrderType.MARKET, quantity=abs(qty), reduce_only=True)
        result = self._fill(self._new_order(request), request)
        self.publish(DeskChange((), result.events))
        return result

    def set_leverage(self, symbol: str, leverage: int) -> Rejection | None:
        if self.reject_leverage is not None:
            return self.reject_leverage
        if not 1 <= leverage <= self._instruments[symbol].max_leverage:
            return Rejection.of(ErrorCode.INVALID_LEVERAGE, leverage)
        self._leverage[symbol] = leverage
        self.publish(DeskChange((), (self._event(LeverageChanged, symbol, leverage),)))
        return None

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> Rejection | None:
        if self._mode[symbol] is mode:
            return Rejection.of(ErrorCode.NO_NEED_TO_CHANGE_MARGIN_TYPE)
        if self._holdings[symbol].quantity:
            return Rejection.of(ErrorCode.THERE_EXISTS_QUANTITY)
        self._mode[symbol] = mode
        self.publish(DeskChange((), (self._event(MarginModeChanged, symbol, mode),)))
        return None

    def leverage(self, symbol: str) -> int:
        return self._leverage[symbol]

    def margin_mode(self, symbol: str) -> MarginMode:
        return self._mode[symbol]

    # --- queries ---------------------------------------------------------------------------------------

    def position(self, symbol: str) -> Position:
        h, inst = self._holdings[symbol], self._instruments[symbol]
        mark = self._last[symbol]
        lev, mode = self._leverage[symbol], self._mode[symbol]
        notional = h.quantity * mark
        im = initial_margin(h.entry * h.quantity, lev)
        mm = maintenance_margin(inst, notional) if h.quantity else ZERO
        upnl = h.quantity * (mark - h.entry)
        wallet = im if mode is MarginMode.ISOLATED else self._wallet
        liq = liquidation_price(inst, h.quantity, h.entry, wallet)
        return Position(
            symbol=symbol,
            margin_mode=mode,
            leverage=lev,
            quantity=h.quantity,
            entry_price=h.entry,
            mark_price=mark,
            isolated_wallet=im if mode is MarginMode.ISOLATED else ZERO,
            unrealized_pnl=upnl,
            notional=notional,
            initial_margin=initial_margin(notional, lev),
            maintenance_margin=mm,
            margin_ratio=margin_ratio(mm, wallet + upnl) if h.quantity else ZERO,
            liquidation_price=liq,
        )

    def positions(self) -> list[Position]:
        return [self.position(s) for s in self.symbols if self._holdings[s].quantity]

    def open_orders(self) -> list[Order]:
        return list(self._orders.values())

    def fills(self) -> list[Fill]:
        return list(self._fills)

    def account(self) -> AccountSnapshot:
        positions = self.positions()
        upnl = sum((p.unrealized_pnl for p in positions), ZERO)
        margin = sum((p.initial_margin for p in positions), ZERO)
        order_margin = sum(
            (initial_margin(o.price * o.quantity, self._leverage[o.symbol]) for o in self._orders.values()
             if o.type is OrderType.LIMIT),
            ZERO,
        )
        cross_mm = sum((p.maintenance_margin for p in positions if p.margin_mode is MarginMode.CROSS), ZERO)
        equity = self._wallet + upnl
        return AccountSnapshot(
            wallet_balance=self._wallet,
            unrealized_pnl=upnl,
            margin_balance=equity,
            available_balance=max(ZERO, equity - margin - order_margin),
            position_initial_margin=margin,
            open_order_initial_margin=order_margin,
            cross_wallet_balance=self._wallet,
            cross_unrealized_pnl=ZERO,
            cross_maintenance_margin=cross_mm,
            cross_margin_ratio=margin_ratio(cross_mm, equity),
            insurance_fund_cover=ZERO,
        )

    # --- replay control --------------------------------------------------------------------------------

    def play(self) -> None:
        self.replay_calls.append("play")
        self._paused = False

    def pause(self) -> None:
        self.replay_calls.append("pause")
        self._paused = True

    def step(self) -> None:
        self.replay_calls.append("step")
        self.push_tick()

    def jump(self, minutes: int) -> None:
        self.replay_calls.append(f"jump {minutes}")

    def set_speed(self, speed: float) -> None:
        self.replay_calls.append(f"speed {speed:g}")
        self._speed = speed

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def clock_ms(self) -> int | None:
        return self._clock

    # --- trades and statistics (the real desk: hexdesk/service/trades.py) ------------------------------

    notes: dict = field(default_factory=dict)  # trade_key -> a TradeNote-like (setup, tags), as the journal keeps them

    def trades(self) -> list:
        """Round trips of the fake's fills, built by the real (pure) trade builder."""
        from hexdesk.storage.trades import SymbolSetting, build_trades, fill_from_engine

        settings = [SymbolSetting(0, s, self._leverage[s], self._mode[s]) for s in self.symbols]
        return build_trades([fill_from_engine(f, None) for f in self._fills], settings=settings)

    def statistics(self, trade_filter=None):
        from hexdesk.storage.statistics import compute_for

        return compute_for(self.trades(), self.notes, trade_filter, float(self.balance))

    # --- journal (issue 7: trade notes, day notes, screenshots, sessions) -------------------------------
    # Plain dicts standing in for the Journal behind the desk; "saved" means "in these dicts", which is what the
    # real desk's journal commits before it returns.

    session_id: int | None = 1
    journal: None = None  # no Journal behind the fake: the dicts below stand in for it
    journal_available: bool = True  # False: the journal cannot write just now (disk full...); see journal_problem
    journal_problem: str | None = None
    start_balance: Decimal | None = None  # None: the same as ``balance``

    journal_store: dict = field(default_factory=lambda: {"notes": {}, "days": {}, "shots": {}, "png": {}, "saves": []})

    def _journal(self) -> dict:
        return self.journal_store

    def trade_note(self, trade_key: str) -> TradeNote | None:
        return self._journal()["notes"].get(trade_key)

    def trade_notes(self) -> dict[str, TradeNote]:
        return dict(self._journal()["notes"])

    def save_trade_note(self, trade_key: str, **fields: object) -> None:
        """Like ``Journal.save_trade_note``: a field given as None is left unchanged."""
        store = self._journal()
        store["saves"].append((trade_key, dict(fields)))
        old = store["notes"].get(trade_key) or TradeNote(trade_key)
        changes = {k: (tuple(v) if k == "tags" else v) for k, v in fields.items() if v is not None}
        saved_at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=len(store["saves"]))
        store["notes"][trade_key] = replace(old, **changes, updated_at=saved_at)

    @property
    def note_saves(self) -> list[tuple[str, dict]]:
        """Every ``save_trade_note`` call, in order (tests count the debounced saves)."""
        return self._journal()["saves"]

    def day_note(self, day: str) -> str:
        return self._journal()["days"].get(day, "")

    def save_day_note(self, day: str, text: str) -> None:
        self._journal()["days"][day] = text

    def add_screenshot(self, trade_key: str, kind: str, png: bytes) -> str:
        sha = hashlib.sha256(png).hexdigest()
        rows = self._journal()["shots"].setdefault(trade_key, [])
        rows.append(ScreenshotRow(trade_key, kind, sha, self._clock or 0, datetime.now(UTC), None))
        self._journal()["png"][sha] = png
        return sha

    def screenshots(self, trade_key: str) -> list[ScreenshotRow]:
        return list(self._journal()["shots"].get(trade_key, ()))

    def screenshot_png(self, sha256: str) -> bytes:
        try:
            return self._journal()["png"][sha256]
        except KeyError:
            raise FileNotFoundError(sha256) from None

    def sessions(self) -> list:
        """The journal's sessions (the window asks for the starting balance of its own)."""
        from tests.ui.fake_sessions import FakeSummary

        start = self.start_balance if self.start_balance is not None else self.balance
        return [FakeSummary(self.session_id or 0, "Fake session", start, start)]

