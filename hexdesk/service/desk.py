"""TradingDesk: one practice session, the object every screen talks to (freqtrade's RPC, Anki's collection ops).

It joins a market source (replay now, live later) to the engine and the journal: each batch of price ticks
goes through the engine, every resulting event is written to SQLite before anyone is told, and subscribers
receive one ``DeskChange`` saying what changed. No Qt here: the UI subscribes, the tests drive it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hexdesk.engine import Exchange, Result
from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import Event, OrderFilled, PositionLiquidated
from hexdesk.engine.explain import LiquidationReport, explain_liquidation, group_liquidations
from hexdesk.engine.fills import Fill
from hexdesk.engine.funding import NEVER_MS
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.positions import AccountSnapshot, Position
from hexdesk.engine.risk import OrderPreview, PositionSizing
from hexdesk.market.candles import CandleSeries
from hexdesk.market.replay import PriceTick, Replay
from hexdesk.service.funding import FundingFeed
from hexdesk.service.trades import TradeBook
from hexdesk.storage.statistics import Statistics, TradeFilter
from hexdesk.storage.trades import Trade

if TYPE_CHECKING:
    from hexdesk.market.library import DatasetInfo
    from hexdesk.storage.journal import Journal  # imported by whoever opens one: SQLAlchemy costs 0.5 s at start


JOURNAL_NOT_OPEN = "Opening the journal…"
"""Why an order is refused (and the ticket disabled) in the moment between the first paint and the open journal."""


@dataclass(frozen=True, slots=True)
class DeskChange:
    """What one step of the desk changed: the ticks it applied and the engine events they caused."""

    ticks: tuple[PriceTick, ...] = ()
    events: tuple[Event, ...] = ()


@dataclass(slots=True)
class _History:
    """The closed candles of one symbol so far: a prefix of the replayed series, never a future bar."""

    series: CandleSeries
    closed: int = 0


@dataclass
class TradingDesk:
    """A practice session: one engine account, its market feed and its journal."""

    exchange: Exchange
    journal: Journal | None
    session_id: int | None
    replay: Replay | None
    series: Sequence[CandleSeries] = ()
    mode_label: str = "Replay"
    rejected_ticks: int = 0  # market-data ticks the engine refused and the feed skipped (shown by the UI)
    _handlers: list[Callable[[DeskChange], None]] = field(default_factory=list)
    _history: dict[str, _History] = field(default_factory=dict)
    _fills: list[Fill] = field(default_factory=list)
    _recorded_seq: int = 0
    liquidation_reports: list[LiquidationReport] = field(default_factory=list)
    """Every liquidation of this session explained in numbers, oldest first (``explain.LiquidationReport``)."""
    funding: FundingFeed | None = None
    """Real funding rates for a replay whose data has them (service/funding.py); None: the rate set stays."""
    _funding_due: int = NEVER_MS
    _trade_book: TradeBook = field(default_factory=TradeBook)
    journal_session: dict[str, Any] | None = None
    """The journal session still to start (``open_journal``): while it is pending no order is accepted."""

    def __post_init__(self) -> None:
        if self.funding is not None:
            self._funding_due = self.funding.start(self.exchange)
        for s in self.series:
            start = self.replay.position_ms if self.replay is not None else None
            closed = s.index_at(start) if start is not None else len(s)
            self._history[s.symbol] = _History(s, closed)
        self._record(tuple(self.exchange.events))

    # --- the journal, opened after the first paint (cold start, issue 10.3) ----------------------------

    @property
    def journal_open(self) -> bool:
        """False while the journal this desk waits for is still being opened: orders are refused until then."""
        return self.journal_session is None

    def open_journal(self, journal: Journal) -> None:
        """Start the pending session in ``journal`` and write every event so far to it (the account opening,
        leverage changes: whatever happened while the window was painting); from now on orders are accepted."""
        if self.journal_session is None:
            raise RuntimeError("this desk is not waiting for a journal")
        self.session_id = journal.start_session(**self.journal_session)
        self.journal = journal
        self.journal_session = None
        done = tuple(e for e in self.exchange.events if e.seq <= self._recorded_seq)
        if done:
            journal.record(self.session_id, done)
        self._publish(DeskChange())

    def _journal_not_open(self) -> Result | None:
        if self.journal_session is None:
            return None
        return Result(False, rejection=Rejection(ErrorCode.NEW_ORDER_REJECTED, JOURNAL_NOT_OPEN))

    # --- subscriptions ---------------------------------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._history) or tuple(self.exchange.instruments)

    def subscribe(self, handler: Callable[[DeskChange], None]) -> Callable[[], None]:
        """Call ``handler`` with every DeskChange; returns the function that unsubscribes it."""
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None

    def _publish(self, change: DeskChange) -> None:
        for handler in list(self._handlers):
            handler(change)

    def _record(self, events: tuple[Event, ...]) -> None:
        """Write events to the journal before anyone hears of them: what the UI shows is already durable."""
        fresh = tuple(e for e in events if e.seq > self._recorded_seq)
        if not fresh:
            return
        if self.journal is not None and self.session_id is not None:
            self.journal.record(self.session_id, fresh)
        self._recorded_seq = fresh[-1].seq
        self._fills.extend(e.fill for e in fresh if isinstance(e, OrderFilled))
        groups = group_liquidations(fresh)
        if groups:  # explained now, while the account is as the liquidation left it (feed stops at its tick)
            wallet = self.exchange.account().wallet_balance
            instruments = self.exchange.instruments
            self.liquidation_reports.extend(explain_liquidation(g, instruments, wallet) for g in groups)

    def _after(self, result: Result) -> Result:
        self._record(result.events)
        self._publish(DeskChange(events=result.events))
        return result

    # --- market ----------------------------------------------------------------------------------------

    def feed(self, ticks: Sequence[PriceTick]) -> DeskChange:
        """Apply a batch of price ticks to the engine, journal what happened, tell the subscribers.

        A tick the engine refuses (a price or volume it cannot trade on: NaN, infinite, <= 0, beyond the symbol's
        range) is skipped, counted in ``rejected_ticks`` and left out of the change; the rest of the batch goes on.
        """
        events: list[Event] = []
        applied: list[PriceTick] = []
        on_tick = self.exchange.on_tick
        for i, tick in enumerate(ticks):
            if tick.ts_ms >= self._funding_due and self.funding is not None:  # a real rate for the instant reached
                self._funding_due = self.funding.cross(self.exchange, tick.ts_ms)
            # The liquidity estimate from closed candles, never the forming candle's volume (a value from the future
            # in replay): docs/fill-model.md.
            try:
                tick_events = on_tick(tick.symbol, tick.ts_ms, tick.price, mark=tick.mark, bar_volume=tick.liquidity)
            except BinanceError:
                self.rejected_ticks += 1
                continue
            events.extend(tick_events)
            applied.append(tick)
            if tick.candle.closed:
                h = self._history.get(tick.symbol)
                if h is not None:
                    h.closed = h.series.index_at(tick.candle.open_time_ms) + 1
            if tick_events and self._stop_at_liquidation(tick_events, ticks, i):
                break
        change = DeskChange(tuple(applied), tuple(events))
        self._record(change.events)
        self._publish(change)
        return change

    def _stop_at_liquidation(self, tick_events: Sequence[Event], ticks: Sequence[PriceTick], i: int) -> bool:
        """A liquidation pauses the replay at its tick, so the account is explained as the liquidation left it;
        the rest of the batch goes back to the replay (it is emitted again when the trader goes on)."""
        if self.replay is None or not any(isinstance(e, PositionLiquidated) for e in tick_events):
            return False  # live ticks cannot be given back: a live feed goes on
        self.replay.put_back(ticks[i + 1 :], ticks[i])
        return True

    async def run(self) -> None:
        """Drive the replay until it ends (or the task is cancelled)."""
        if self.replay is not None:
            await self.replay.run(self.feed)

    def history(self, symbol: str) -> CandleSeries:
        """Closed 1-minute candles of ``symbol`` up to the replay clock."""
        h = self._history[symbol]
        return h.series.slice(0, h.closed)

    # --- replay control --------------------------------------------------------------------------------

    def play(self) -> None:
        """Play on (nothing to do once the data has ended)."""
        if self.replay is not None and not self.replay.finished:
            self.replay.resume()

    def pause(self) -> None:
        if self.replay is not None:
            self.replay.pause()

    def step(self) -> None:
        """One price step (nothing to do once the data has ended)."""
        if self.replay is not None and not self.replay.finished:
            self.replay.step()

    def jump(self, minutes: int) -> None:
        """Jump the replay forward: every price on the way still reaches the engine (stops fill, liquidations
        happen), only faster than any speed setting. Replaying backwards is a new session."""
        if self.replay is None or self.replay.finished:
            return
        self.replay.seek(min(self.replay.position_ms + minutes * 60_000, self.replay.end_ms))

    def set_speed(self, speed: float) -> None:
        if self.replay is not None:
            self.replay.speed = speed

    @property
    def paused(self) -> bool:
        """Paused by the trader or a liquidation, or stopped at the end of the data."""
        return self.replay.paused or self.replay.finished if self.replay is not None else False

    @property
    def finished(self) -> bool:
        """The replay has played its last candle: the clock stays at its close."""
        return self.replay.finished if self.replay is not None else False

    @property
    def end_ms(self) -> int | None:
        """Close time of the replay's last candle (None live)."""
        return self.replay.end_ms if self.replay is not None else None

    @property
    def speed(self) -> float:
        return self.replay.speed if self.replay is not None else 1.0

    @property
    def clock_ms(self) -> int | None:
        return self.replay.position_ms if self.replay is not None else None

    # --- trading ---------------------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        return self.exchange.instruments[symbol]

    def submit(self, request: OrderRequest) -> Result:
        refused = self._journal_not_open()  # an order nobody could find in the journal is never accepted
        if refused is not None:
            return refused
        return self._after(self.exchange.submit(request))

    def preview(self, request: OrderRequest) -> OrderPreview | None:
        """What the order would cost and risk, before it is sent (None until the symbol has a price)."""
        if self.exchange.last_price(request.symbol) is None:
            return None
        return self.exchange.preview(request)

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
        """The order quantity whose stop-out loses at most ``risk_pct`` % of equity, slippage and both fees
        included, rounded down to the step; with a position open, the combined position's loss (engine
        ``Exchange.size_order``). Its ``preview`` is exactly what :meth:`preview` shows for that order.

        ``order_type`` is the ticket's: MARKET (entry = the last price), LIMIT (a resting limit at ``entry``) or
        STOP_MARKET (a stop entry at ``entry``). Without it, an entry at the last price is a market order, one
        that would take at once a stop-market entry (the costlier assumption), any other a resting limit.
        """
        last = self.exchange.last_price(symbol)
        if last is None:
            raise ValueError(f"no market price for {symbol} yet")
        if stop == entry:
            raise ValueError("the stop must differ from the entry: with the stop at the entry there is no risk to size")
        side = Side.BUY if stop < entry else Side.SELL
        if order_type is None:
            takes = entry >= last if side is Side.BUY else entry <= last
            order_type = OrderType.MARKET if entry == last else OrderType.STOP_MARKET if takes else OrderType.LIMIT
        if order_type is OrderType.MARKET:
            request = OrderRequest(symbol, side, OrderType.MARKET)
        elif order_type is OrderType.LIMIT:
            request = OrderRequest(symbol, side, OrderType.LIMIT, price=entry, time_in_force=TimeInForce.GTC)
        elif order_type is OrderType.STOP_MARKET:
            request = OrderRequest(symbol, side, OrderType.STOP_MARKET, stop_price=entry)
        else:
            raise ValueError(f"sizing by risk supports MARKET, LIMIT and STOP_MARKET entries, not {order_type}")
        request = replace(request, stop_loss=stop, take_profit=take_profit)
        return self.exchange.size_order(request, risk_pct, leverage)

    def cancel(self, symbol: str, order_id: int) -> Result:
        return self._after(self.exchange.cancel(symbol, order_id))

    def close_position(self, symbol: str) -> Result:
        """Close the whole position at market (reduce-only, so it can never open the other way)."""
        qty = self.exchange.position(symbol).quantity
        side = Side.SELL if qty > 0 else Side.BUY
        request = OrderRequest(symbol, side, OrderType.MARKET, quantity=abs(qty), reduce_only=True)
        return self.submit(request)

    def set_leverage(self, symbol: str, leverage: int) -> Rejection | None:
        return self._account_op(lambda: self.exchange.set_leverage(symbol, leverage))

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> Rejection | None:
        return self._account_op(lambda: self.exchange.set_margin_mode(symbol, mode))

    def _account_op(self, op: Callable[[], object]) -> Rejection | None:
        before = len(self.exchange.events)
        try:
            op()
        except BinanceError as exc:
            return exc.rejection
        events = tuple(self.exchange.events[before:])
        self._record(events)
        self._publish(DeskChange(events=events))
        return None

    # --- queries ---------------------------------------------------------------------------------------

    def leverage(self, symbol: str) -> int:
        return self.exchange.leverage(symbol)

    def margin_mode(self, symbol: str) -> MarginMode:
        return self.exchange.margin_mode(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        return self.exchange.last_price(symbol)

    def position(self, symbol: str) -> Position:
        return self.exchange.position(symbol)

    def positions(self) -> list[Position]:
        return list(self.exchange.positions())

    def open_orders(self) -> list[Order]:
        return list(self.exchange.open_orders())

    def fills(self) -> list[Fill]:
        return list(self._fills)

    def account(self) -> AccountSnapshot:
        return self.exchange.account()

    # --- trades and statistics (issue 7.3, 7.5: hexdesk/service/trades.py) ---------------------------------

    def trades(self) -> list[Trade]:
        """This session's round trips, oldest first (cached; recomputed when fills or funding arrive)."""
        return self._trade_book.trades(self)

    def statistics(self, trade_filter: TradeFilter | None = None) -> Statistics:
        """This session's statistics over the closed trades ``trade_filter`` selects (all without one)."""
        return self._trade_book.statistics(self, trade_filter)

    def close(self) -> None:
        """End the session in the journal (the data is already durable; this only stamps the end)."""
        if self.journal is not None and self.session_id is not None:
            self.journal.end_session(self.session_id)


DEFAULT_DATASETS = ("BTCUSDT-2025-03", "ETHUSDT-2025-03")
DEFAULT_BALANCE = Decimal("10000")
DEFAULT_SPEED = 60.0  # replay seconds per wall second: one 1-minute candle a second
DEFAULT_FUNDING_RATE = Decimal("0.0001")  # 0.01% per 8 h: the interest-rate baseline a calm market settles at (§2)
HISTORY_MS = 24 * 60 * 60 * 1000  # the first day of a dataset is shown as history, the replay starts after it


def open_replay_session(
    journal: Journal | None,
    datasets: Sequence[str] = DEFAULT_DATASETS,
    *,
    balance: Decimal = DEFAULT_BALANCE,
    speed: float = DEFAULT_SPEED,
    funding_rate: Decimal = DEFAULT_FUNDING_RATE,
    start_ms: int | None = None,
    paused: bool = False,
    name: str | None = None,
    data_dir: str | Path | None = None,
    defer_journal: bool = False,
) -> TradingDesk:
    """A practice session replaying Binance candles, bundled or from the data library (hexdesk.market.library).

    Funding settles at 00:00/08:00/16:00 UTC at the real rate of each instant where HexDesk has the symbol's funding
    history (bundled months, library downloads), else at ``funding_rate``. A dataset with mark-price klines gives the
    engine its mark (liquidation on the mark); without, the mark is the last price.

    ``defer_journal``: the journal is opened later (``TradingDesk.open_journal``, once the window has painted:
    importing SQLAlchemy and opening the file would double the cold start); ``journal`` must then be None, and the
    desk refuses orders until the journal is open.
    """
    if defer_journal and journal is not None:
        raise ValueError("defer_journal: the journal comes later, through TradingDesk.open_journal")
    from hexdesk.market.library import funding_history, load_dataset

    loaded = [load_dataset(name, data_dir) for name in datasets]
    series = [d.series for d in loaded]
    marks = {d.series.symbol: d.mark for d in loaded if d.mark is not None}
    first = min(s.first_open_ms for s in series)
    start = start_ms if start_ms is not None else first + HISTORY_MS
    replay = Replay(series, start_ms=start, marks=marks)
    replay.speed = speed
    if paused:
        replay.pause()
    exchange = Exchange(wallet_balance=balance, start_ms=start)
    unknown = [s.symbol for s in series if s.symbol not in exchange.instruments]
    if unknown:
        raise ValueError(
            f"no instrument rules for {', '.join(unknown)}: the engine trades {', '.join(exchange.instruments)}"
        )
    histories = {}
    for s in series:
        exchange.set_funding_rate(s.symbol, funding_rate)
        history = funding_history(s.symbol, data_dir)
        if len(history):
            histories[s.symbol] = history
    funding = FundingFeed(histories, funding_rate) if histories else None
    label = _mode_label([d.info for d in loaded], bool(histories))
    session: dict[str, Any] = {
        "name": name or label,
        "mode": "replay",
        "dataset": ",".join(datasets),
        "start_balance": balance,
        "settings": {
            "start_ms": start,
            "speed": speed,
            "funding_rate": str(funding_rate),
            "funding_history": sorted(histories),  # symbols settled at their real rates where known
            "mark_klines": sorted(marks),
        },
    }
    session_id = journal.start_session(**session) if journal is not None else None
    return TradingDesk(
        exchange, journal, session_id, replay, series, mode_label=label, funding=funding,
        journal_session=session if defer_journal else None,
    )


def _mode_label(infos: Sequence[DatasetInfo], real_funding: bool) -> str:
    """The mode label (replay bar, window title): the datasets and, honestly, what their candles are: the bundled
    months are Binance spot candles, not futures; "mark klines" when the engine's mark is the real mark price."""
    kinds = []
    for info in infos:
        kind = "spot" if info.market == "spot" else "futures" + (" + mark klines" if info.mark_path else "")
        kinds.append(kind)
    names = ", ".join(i.name for i in infos)
    what = kinds[0] if len(set(kinds)) == 1 else ", ".join(f"{i.name}: {k}" for i, k in zip(infos, kinds, strict=True))
    funding = "real funding" if real_funding else "flat funding rate"
    return f"Replay · {names} ({what}) · {funding}"
