"""TradingDesk: one practice session, the object every screen talks to (freqtrade's RPC, Anki's collection ops).

It joins a market source (replay now, live later) to the engine and the journal: each batch of price ticks
goes through the engine, every resulting event is written to SQLite before anyone is told, and subscribers
receive one ``DeskChange`` saying what changed. No Qt here: the UI subscribes, the tests drive it directly.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

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
from hexdesk.engine.restore import capture_account, capture_market
from hexdesk.engine.risk import OrderPreview, PositionSizing
from hexdesk.market.candles import CandleSeries
from hexdesk.service.defaults import (
    DEFAULT_BALANCE,
    DEFAULT_DATASETS,
    DEFAULT_FUNDING_RATE,
    DEFAULT_SPEED,
    HISTORY_MS,
)
from hexdesk.service.funding import FundingFeed
from hexdesk.service.trades import TradeBook
from hexdesk.storage.errors import JournalWriteError

if TYPE_CHECKING:  # the journal (sqlmodel / SQLAlchemy) and the replay (asyncio) load after the first paint (10.3)
    from hexdesk.market.library import DatasetInfo
    from hexdesk.market.replay import PriceTick, Replay
    from hexdesk.storage.journal import Journal
    from hexdesk.storage.statistics import Statistics, TradeFilter
    from hexdesk.storage.trades import Trade
    from hexdesk.storage.views import ScreenshotRow, SessionSummary, TradeNote


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
    #: Why no order can be sent yet (the start-up shell's desk, ui/shell.py, says "Opening the journal…"); None: open.
    opening: ClassVar[str | None] = None
    _handlers: list[Callable[[DeskChange], None]] = field(default_factory=list)
    _history: dict[str, _History] = field(default_factory=dict)
    _fills: list[Fill] = field(default_factory=list)
    _recorded_seq: int = 0
    _unwritten: list[Event] = field(default_factory=list)  # events the journal could not write yet, in seq order
    _journal_failure: JournalWriteError | None = None
    _last_tick: PriceTick | None = None  # the last tick applied: where a resumed replay goes on from
    liquidation_reports: list[LiquidationReport] = field(default_factory=list)
    """Every liquidation of this session explained in numbers, oldest first (``explain.LiquidationReport``)."""
    funding: FundingFeed | None = None
    """Real funding rates for a replay whose data has them (service/funding.py); None: the rate set stays."""
    _funding_due: int = NEVER_MS
    _trade_book: TradeBook = field(default_factory=TradeBook)

    def __post_init__(self) -> None:
        if self.funding is not None:
            self._funding_due = self.funding.start(self.exchange)
        for s in self.series:
            start = self.replay.position_ms if self.replay is not None else None
            closed = s.index_at(start) if start is not None else len(s)
            self._history[s.symbol] = _History(s, closed)
        # (seq n is events[n - 1]: slicing after what a resumed desk already holds never reads the stored events)
        self._record(tuple(self.exchange.events[self._recorded_seq :]), position=self._recorded_seq == 0)

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

    def _record(self, events: tuple[Event, ...], *, position: bool = False) -> None:
        """Write events to the journal before anyone hears of them: what the UI shows is already durable.

        With the events goes the replay position (``position``: also when there is no event, e.g. a candle
        closed), in the same transaction. If the journal cannot write, the events wait in memory, in order
        (``_write_journal``), and go to the file with the next write that succeeds.
        """
        fresh = tuple(e for e in events if e.seq > self._recorded_seq)
        if fresh:
            self._recorded_seq = fresh[-1].seq
            self._unwritten.extend(fresh)
            self._fills.extend(e.fill for e in fresh if isinstance(e, OrderFilled))
            groups = group_liquidations(fresh)
            if groups:  # explained now, while the account is as the liquidation left it (feed stops at its tick)
                wallet = self.exchange.account().wallet_balance
                instruments = self.exchange.instruments
                self.liquidation_reports.extend(explain_liquidation(g, instruments, wallet) for g in groups)
        if self._unwritten or position:
            self._write_journal()

    def _write_journal(self) -> bool:
        """Write the waiting events with the current replay position; on failure pause the replay and keep them.
        Returns True when the journal holds everything."""
        if self.journal is None or self.session_id is None:
            self._unwritten.clear()
            return True
        try:
            self.journal.record(self.session_id, self._unwritten, **self._position())
        except JournalWriteError as exc:
            self._journal_failed(exc)
            return False
        self._unwritten.clear()
        if self._journal_failure is not None:
            self._journal_failure = None
            self._publish(DeskChange())
        return True

    def _journal_failed(self, exc: JournalWriteError) -> None:
        """A write failed: remember why, pause the replay, and tell the subscribers the first time (the window's
        red line and blocked ticket)."""
        first = self._journal_failure is None
        self._journal_failure = exc
        if self.replay is not None:
            self.replay.pause()
        if first:
            self._publish(DeskChange())

    def _position(self) -> dict[str, object]:
        """Where the session stands, for the journal: replay clock and speed, the engine's market view and the
        replay cursor (the last tick applied), from which a restart goes on exactly (hexdesk.service.sessions)."""
        if self.replay is None:
            return {}
        cursor = None if self._last_tick is None else [self._last_tick.ts_ms, self._last_tick.symbol]
        resume = {
            "market": capture_market(self.exchange).to_json(),
            "account": capture_account(self.exchange),
            "cursor": cursor,
        }
        return {"replay_ms": self.replay.position_ms, "speed": self.replay.speed, "resume": resume}

    @property
    def journal_available(self) -> bool:
        """False while the journal cannot write: the replay is paused and the ticket is blocked."""
        return self._journal_failure is None

    @property
    def journal_problem(self) -> str | None:
        """Why the journal cannot write, for the trader (None: it can)."""
        exc = self._journal_failure
        if exc is None:
            return None
        n = len(self._unwritten)
        kept = f" {n} event{'s' if n != 1 else ''} wait in memory and" if n else " Nothing is lost; events"
        return (
            f"The journal cannot be written: {exc.reason}. The replay is paused and trading is blocked."
            f"{kept} will be written as soon as the journal can write again (free some space or fix the file, "
            "then press Play or Retry)."
        )

    def retry_journal(self) -> bool:
        """Try to write what waits (the UI's Retry; also tried by every feed and request). True when it worked."""
        if self._journal_failure is None and not self._unwritten:
            return True
        return self._write_journal()

    def _journal_blocked(self) -> Rejection | None:
        """A request while the journal cannot write is refused (after one more try): a trade nobody can record
        would be lost on the next crash."""
        if self._journal_failure is None or self.retry_journal():
            return None
        return Rejection(ErrorCode.NEW_ORDER_REJECTED, self.journal_problem or "The journal cannot be written.")

    def _after(self, result: Result) -> Result:
        self._record(result.events, position=bool(result.events))
        self._publish(DeskChange(events=result.events))
        return result

    # --- market ----------------------------------------------------------------------------------------

    def feed(self, ticks: Sequence[PriceTick]) -> DeskChange:
        """Apply a batch of price ticks to the engine, journal what happened, tell the subscribers.

        A tick the engine refuses (a price or volume it cannot trade on: NaN, infinite, <= 0, beyond the symbol's
        range) is skipped, counted in ``rejected_ticks`` and left out of the change; the rest of the batch goes on.
        """
        if self._journal_failure is not None:
            self.retry_journal()
        events: list[Event] = []
        applied: list[PriceTick] = []
        closed_candle = False
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
                closed_candle = True
                h = self._history.get(tick.symbol)
                if h is not None:
                    h.closed = h.series.index_at(tick.candle.open_time_ms) + 1
            if tick_events and self._stop_at_liquidation(tick_events, ticks, i):
                break
        if applied:
            self._last_tick = applied[-1]
        change = DeskChange(tuple(applied), tuple(events))
        self._record(change.events, position=closed_candle or bool(events))
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
        """Play on (nothing to do once the data has ended, nor while the journal cannot write)."""
        if not self.retry_journal():
            return
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
        blocked = self._journal_blocked()
        if blocked is not None:
            return Result(False, None, blocked)
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
        blocked = self._journal_blocked()
        if blocked is not None:
            return Result(False, None, blocked)
        return self._after(self.exchange.cancel(symbol, order_id))

    def close_position(self, symbol: str) -> Result:
        """Close the whole position at market (reduce-only, so it can never open the other way)."""
        qty = self.exchange.position(symbol).quantity
        side = Side.SELL if qty > 0 else Side.BUY
        request = OrderRequest(symbol, side, OrderType.MARKET, quantity=abs(qty), reduce_only=True)
        return self.submit(request)

    def amend(self, symbol: str, order_id: int, price: Decimal) -> Result:
        """Move an open order to ``price`` (issue 10.6: dragging its chart line). A LIMIT order is Binance's modify
        (``Exchange.amend``: same id); a conditional order (stop, take-profit, stop-loss) has no modify on Binance,
        so it is replaced as its trading screen does: the new order is placed first, the old one cancelled only once
        the new one is accepted, so a refused price leaves the old order working."""
        order = next((o for o in self.exchange.open_orders() if o.symbol == symbol and o.order_id == order_id), None)
        if order is None or not order.type.is_conditional:
            return self._after(self.exchange.amend(symbol, order_id, price=price))
        request = OrderRequest(
            symbol, order.side, order.type,
            quantity=None if order.close_position else order.remaining_qty,
            price=order.price or None, stop_price=price,
            time_in_force=order.time_in_force if order.price else None,
            reduce_only=order.reduce_only and not order.close_position, close_position=order.close_position,
            working_type=order.working_type, price_protect=order.price_protect,
        )
        placed = self.submit(request)
        if placed.ok:
            self.cancel(symbol, order_id)
        return placed

    def transfer_margin(self, symbol: str, amount: Decimal) -> Rejection | None:
        """Add (> 0) or remove (< 0) a position's isolated margin (Binance's positionMargin); the refusal, as
        set_leverage answers one: -2019 more than is available, -4051 more than may leave."""
        return self._account_op(lambda: self.exchange.transfer_margin(symbol, amount))

    def set_leverage(self, symbol: str, leverage: int) -> Rejection | None:
        return self._account_op(lambda: self.exchange.set_leverage(symbol, leverage))

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> Rejection | None:
        return self._account_op(lambda: self.exchange.set_margin_mode(symbol, mode))

    def _account_op(self, op: Callable[[], object]) -> Rejection | None:
        blocked = self._journal_blocked()
        if blocked is not None:
            return blocked
        before = len(self.exchange.events)
        try:
            op()
        except BinanceError as exc:
            return exc.rejection
        events = tuple(self.exchange.events[before:])
        self._record(events, position=bool(events))
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

    # --- the trader's journal (notes, tags, day notes, screenshots): stored in the journal, never events ----

    def sessions(self) -> list[SessionSummary]:
        """Every session of this desk's journal, newest first (empty without a journal)."""
        return self.journal.sessions() if self.journal is not None else []

    def trade_note(self, trade_key: str) -> TradeNote | None:
        if self.journal is None or self.session_id is None:
            return None
        return self.journal.trade_note(self.session_id, trade_key)

    def trade_notes(self) -> dict[str, TradeNote]:
        """Every trade note of this session, by trade_key (empty without a journal)."""
        if self.journal is None or self.session_id is None:
            return {}
        return self.journal.trade_notes(self.session_id)

    def save_trade_note(self, trade_key: str, **fields: Any) -> bool:
        """Save the given note fields (notes, setup, mistakes, emotion, rating, tags) of a round trip. False (and
        ``journal_problem`` says why) when the journal cannot write: the editor keeps the text and tries again."""
        return self._journal_call(lambda j, sid: j.save_trade_note(sid, trade_key, **fields))

    def day_note(self, day: str) -> str:
        if self.journal is None or self.session_id is None:
            return ""
        return self.journal.day_note(self.session_id, day)

    def save_day_note(self, day: str, text: str) -> bool:
        return self._journal_call(lambda j, sid: j.save_day_note(sid, day, text))

    def add_screenshot(self, trade_key: str, kind: str, png: bytes) -> str | None:
        """Keep a chart screenshot of a round trip at the replay clock; its sha256, or None if it could not be
        written."""
        out: list[str] = []
        ts = self.clock_ms if self.clock_ms is not None else self.exchange.now_ms
        ok = self._journal_call(lambda j, sid: out.append(j.add_screenshot(sid, trade_key, kind, png, ts)))
        return out[0] if ok and out else None

    def screenshots(self, trade_key: str) -> list[ScreenshotRow]:
        """A round trip's chart screenshots, oldest first (empty without a journal)."""
        if self.journal is None or self.session_id is None:
            return []
        return self.journal.screenshots(self.session_id, trade_key)

    def screenshot_png(self, sha256: str) -> bytes:
        """A stored screenshot's PNG bytes (FileNotFoundError if its file is gone, or without a journal)."""
        if self.journal is None:
            raise FileNotFoundError(sha256)
        return self.journal.screenshot_png(sha256)

    def _journal_call(self, call: Callable[[Journal, int], object]) -> bool:
        if self.journal is None or self.session_id is None:
            return False
        try:
            call(self.journal, self.session_id)
        except JournalWriteError as exc:
            self._journal_failed(exc)
            return False
        return True

    def close(self) -> None:
        """Leave the session where it stands (the app resumes it next time): write what waits and the replay
        position, stamp the last use. The data is already durable; a journal that cannot write is left alone."""
        if self.journal is None or self.session_id is None:
            return
        self._record((), position=True)
        if self._journal_failure is None:
            with contextlib.suppress(JournalWriteError):
                self.journal.touch_session(self.session_id)

    def end(self) -> None:
        """End the session for good: it is no longer the one the app resumes."""
        self.close()
        if self.journal is not None and self.session_id is not None and self._journal_failure is None:
            self.journal.end_session(self.session_id)

    def _load_history(self, fills: Sequence[Fill], liquidations: Sequence[Event], last_seq: int) -> None:
        """A resumed desk: the fills and liquidation reports of what the journal already holds (explained with the
        wallet as it is now: the wallet right after an old liquidation is not kept)."""
        self._fills = list(fills)
        wallet = self.exchange.account().wallet_balance
        instruments = self.exchange.instruments
        self.liquidation_reports = [
            explain_liquidation(g, instruments, wallet) for g in group_liquidations(liquidations)
        ]
        self._recorded_seq = last_seq


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
    blind: bool = False,
    blind_seed: int | None = None,
) -> TradingDesk:
    """A practice session replaying Binance candles, bundled or from the data library (hexdesk.market.library).

    Funding settles at 00:00/08:00/16:00 UTC at the real rate of each instant where HexDesk has the symbol's funding
    history (bundled months, library downloads), else at ``funding_rate``. A dataset with mark-price klines gives the
    engine its mark (liquidation on the mark); without, the mark is the last price.
    """
    if blind and blind_seed is None:
        blind_seed = random.SystemRandom().randrange(1 << 31)
    data = load_replay_data(datasets, funding_rate, data_dir, blind_seed if blind else None)
    series, marks, histories, label = data.series, data.marks, data.histories, data.label
    first = min(s.first_open_ms for s in series)
    start = start_ms if start_ms is not None else first + HISTORY_MS
    from hexdesk.market.replay import Replay

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
    for s in series:
        exchange.set_funding_rate(s.symbol, funding_rate)
    funding = data.funding_feed()
    session_id = None
    if journal is not None:
        session_id = journal.start_session(
            name=name or label,
            mode="replay",
            dataset=",".join(datasets),
            start_balance=balance,
            settings={
                "start_ms": start,
                "speed": speed,
                "funding_rate": str(funding_rate),
                "funding_history": sorted(histories),  # symbols settled at their real rates where known
                "mark_klines": sorted(marks),
                **({"blind_seed": blind_seed} if blind else {}),  # a resumed blind session disguises alike
            },
            blind=blind,
            speed=speed,
        )
    return TradingDesk(exchange, journal, session_id, replay, series, mode_label=label, funding=funding)


@dataclass(frozen=True)
class ReplayData:
    """What a replay session plays, loaded once: the last-price series, the mark-price series where the dataset has
    them, the real funding histories where HexDesk has them, and the honest label. New and resumed sessions both
    load through :func:`load_replay_data`, so a resumed session replays exactly what it started with."""

    series: list[CandleSeries]
    marks: dict[str, CandleSeries]
    histories: dict[str, Any]
    fallback_rate: Decimal
    label: str

    def funding_feed(self) -> FundingFeed | None:
        return FundingFeed(self.histories, self.fallback_rate) if self.histories else None


def load_replay_data(
    datasets: Sequence[str],
    funding_rate: Decimal,
    data_dir: str | Path | None = None,
    blind_seed: int | None = None,
) -> ReplayData:
    """Load ``datasets`` (bundled or from the data library) with their mark klines and funding history.

    ``blind_seed``: a blind replay (hexdesk.market.blind): dates moved to 2001 and prices rescaled by the seed's
    factor, the real funding history left out (its rates and times would give the period away: the flat
    ``funding_rate`` settles instead), and a label that names no month.
    """
    from hexdesk.market import blind
    from hexdesk.market.library import funding_history, load_dataset

    loaded = [load_dataset(name, data_dir) for name in datasets]
    series = [d.series for d in loaded]
    marks = {d.series.symbol: d.mark for d in loaded if d.mark is not None}
    if blind_seed is not None:
        shift, factor = blind.shift_ms(series), blind.price_factor(blind_seed)
        series = [blind.disguise(s, shift, factor) for s in series]
        marks = {sym: blind.disguise(m, shift, factor) for sym, m in marks.items()}
        label = f"Blind replay · {', '.join(s.symbol for s in series)} · dates and prices disguised"
        return ReplayData(series, marks, {}, funding_rate, label)
    histories = {}
    for s in series:
        history = funding_history(s.symbol, data_dir)
        if len(history):
            histories[s.symbol] = history
    return ReplayData(series, marks, histories, funding_rate, _mode_label([d.info for d in loaded], bool(histories)))


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
