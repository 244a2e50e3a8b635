"""The simulated Binance USDⓈ-M exchange: one account, one-way mode, every state change an event.

``Exchange`` is the only stateful object of the engine. It owns the wallet, the positions and the open orders,
takes market input through :meth:`Exchange.on_tick` and requests through :meth:`Exchange.submit` and friends, and
reports everything that changed as frozen events (``hexdesk.engine.events``). See docs/engine.md for the rules it
follows where the reference leaves a choice, and for the performance design of the tick path.

This module is the facade: the constructor, the tick hot path, the settings and the queries. The rest comes from
mixins, each in the module named for what it handles (all share the state declared in ``core.ExchangeCore``):

- ``order_handling.OrderHandling``: ``submit``, ``cancel``, ``cancel_all``, ``amend``, ``preview``; triggering,
  execution, expiry, attached TP/SL;
- ``walk.PathWalk``: the slow path of a tick, acting on what the price segment reaches in path order;
- ``ledger.Ledger``: fills against position and wallets, fees, ``transfer_margin``, funding, available balance;
- ``liquidation.Liquidations``: isolated and cross liquidation;
- ``funding.FundingClock``: funding settled for every symbol when the clock reaches a settlement instant.

Every public method checks its arguments first (``guards``): a value the engine cannot trade on is answered with
a Binance error (BinanceError, or a Rejection in the Result) and changes neither the state nor the event log.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from decimal import Context, Decimal
from types import MappingProxyType

from hexdesk.engine import guards
from hexdesk.engine.account import SymbolState, money
from hexdesk.engine.columns import TickPrices, TickTimes, TickVolumes, valid_volumes
from hexdesk.engine.core import NO_EVENTS, ZERO, EventHandler
from hexdesk.engine.enums import MarginMode
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import AccountOpened, Event, LeverageChanged, MarginModeChanged, PositionChanged
from hexdesk.engine.fill_model import DefaultFillModel, FillModel, segment_volume
from hexdesk.engine.funding import NEVER_MS, FundingClock, clamp_rate, next_funding_ms
from hexdesk.engine.guards import MAX_MAGNITUDE, MIN_VOLUME
from hexdesk.engine.instruments import Instrument, default_instruments
from hexdesk.engine.ledger import Ledger
from hexdesk.engine.liquidation import Liquidations
from hexdesk.engine.order_handling import OrderHandling
from hexdesk.engine.orders import Order
from hexdesk.engine.positions import AccountSnapshot, Position
from hexdesk.engine.rebuild import AccountState, PositionState
from hexdesk.engine.snapshots import account_snapshot
from hexdesk.engine.walk import PathWalk

__all__ = ["EventHandler", "Exchange"]

# The candle volume range the tick fast path accepts (0, or within these; guards.tick says the same).
_MIN_VOLUME = MIN_VOLUME
_MAX_VOLUME = MAX_MAGNITUDE
# on_ticks tries the whole batch at once, halves the run before a gate down to this size (then one tick through
# on_tick), and doubles it after each quiet run.
_MIN_RUN = 8
_INT = {int}
# An integer scaled by 10**-d as an exact Decimal, the one ``Decimal(f"{x}e-{d}")`` makes (same digits, same exponent),
# without the string: scaleb in a context of 200 digits (the door's prices have at most ~40).
_scaled = Context(prec=200).scaleb
_HUGE = 10**40
_DECIMAL = {Decimal}
_NONE = {type(None)}


def _all_of(values: Sequence[object], kind: type) -> bool:
    """Every value of type ``kind`` exactly (not a subclass: a bool is not an int here), in one C-speed pass."""
    return list(map(type, values)).count(kind) == len(values)


class Exchange(OrderHandling, PathWalk, Ledger, Liquidations, FundingClock):
    """A simulated Binance USDⓈ-M account (one-way mode). Deterministic: time is the ``ts_ms`` of the ticks."""

    def __init__(
        self,
        wallet_balance: Decimal = Decimal("10000"),
        instruments: Mapping[str, Instrument] | None = None,
        fill_model: FillModel | None = None,
        default_leverage: int = 20,
        default_margin_mode: MarginMode = MarginMode.ISOLATED,
        start_ms: int = 0,
    ) -> None:
        if type(wallet_balance) is int:
            wallet_balance = Decimal(wallet_balance)
        wallet_balance = guards.number(wallet_balance, "walletBalance")
        if not 0 <= wallet_balance <= guards.MAX_MAGNITUDE:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_PARAMETER, "walletBalance"))
        if type(default_leverage) is not int or default_leverage < 1:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_LEVERAGE, guards.shown(default_leverage)))
        default_margin_mode = guards.margin_mode(default_margin_mode)
        if type(start_ms) is not int or not 0 <= start_ms <= guards.MAX_TS_MS:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_PARAMETER, "startTime"))
        self._instruments = dict(default_instruments() if instruments is None else instruments)
        self._fill_model = fill_model if fill_model is not None else DefaultFillModel()
        self._state = {
            s: SymbolState(inst, min(default_leverage, inst.max_leverage), default_margin_mode)
            for s, inst in self._instruments.items()
        }
        self._now = start_ms
        self._next_funding_ms = NEVER_MS
        self.rejected_ticks = 0
        self._seq = 0
        self._events = []
        self._pending = []
        self._handlers = []
        self._cross_wallet = money(wallet_balance)
        self._insurance_cover = ZERO
        self._cross_upnl = ZERO
        self._cross_mm = ZERO
        self._cross_open = {}
        self._open_positions = {}
        self._next_order_id = 1
        self._next_trade_id = 1
        self._attached = {}
        self._walk = None
        self._emit(AccountOpened, self._cross_wallet, "USDT", default_leverage, default_margin_mode)
        self._flush()

    # ------------------------------------------------------------------------------------ market

    def on_tick(
        self, symbol: str, ts_ms: int, last: Decimal, mark: Decimal | None = None, bar_volume: Decimal | None = None
    ) -> tuple[Event, ...]:
        """A new last (and mark) price. The segment from the previous last price is the price path: resting limits
        it trades through fill, conditionals whose stopPrice lies on it trigger, a position whose liquidation price
        it reaches is liquidated there, in path order. Funding due on the clock settles first, for every symbol.

        ``bar_volume`` is the liquidity estimate, not the forming candle's volume: the base-asset volume expected in
        one minute, from closed candles only (hexdesk.market.liquidity; 0: no sign of liquidity yet; None: no
        volume model, sizes are not priced). It prices market orders until the next tick; the segment ending here
        gives resting limits its share for the segment's duration (fill_model.segment_volume).

        The quiet case (nothing reached) is a handful of comparisons and returns an empty tuple. A tick that cannot
        be traded on (unknown symbol, price not a finite Decimal within the symbol's price range, negative or NaN
        volume, a timestamp that is not whole milliseconds) is refused with BinanceError, counted in
        ``rejected_ticks``, and changes nothing.
        """
        # The fast path. Anything unusual (first tick, a funding instant, a gate reached, a value of another type,
        # NaN: comparisons with it raise or are False, out of range: the gates are clamped to the valid price
        # range) falls through to the slow path, which checks every value before it touches anything.
        try:
            st = self._state[symbol]
            prev = st.last
            if (
                prev is not None
                and type(ts_ms) is int
                and type(last) is Decimal
                and 0 <= ts_ms < self._next_funding_ms  # (never beyond guards.MAX_TS_MS + 1)
                and (
                    bar_volume is None
                    or (
                        type(bar_volume) is Decimal
                        and (_MIN_VOLUME <= bar_volume <= _MAX_VOLUME or bar_volume == ZERO)
                    )
                )
            ):
                if last < prev:
                    lo, hi = last, prev
                else:
                    lo, hi = prev, last
                if st.down_last < lo and hi < st.up_last:
                    if mark is None:
                        if st.down_mark < lo and hi < st.up_mark:
                            quiet = True
                            if st.cross_open:  # the exact cross check of _apply_quiet_tick, inlined (replay path)
                                upnl = st.qty * (last - st.entry)
                                mm = st.maintenance_at(last)
                                cross_upnl = self._cross_upnl + upnl - st.upnl
                                cross_mm = self._cross_mm + mm - st.mm
                                if cross_mm < self._cross_wallet + cross_upnl:
                                    self._cross_upnl, self._cross_mm = cross_upnl, cross_mm
                                    st.upnl, st.mm = upnl, mm
                                else:
                                    quiet = False
                            if quiet:
                                if ts_ms > self._now:
                                    self._now = ts_ms
                                st.bar_volume = bar_volume
                                st.tick_ms = ts_ms
                                st.last = st.mark = last
                                return NO_EVENTS
                    elif type(mark) is Decimal:
                        prev_mark = st.mark
                        if (
                            (st.down_mark < mark and prev_mark < st.up_mark)
                            if mark < prev_mark
                            else (st.down_mark < prev_mark and mark < st.up_mark)
                        ) and self._apply_quiet_tick(st, ts_ms, last, mark, bar_volume):
                            return NO_EVENTS
        except (LookupError, TypeError, ArithmeticError, AttributeError):
            pass  # a value the fast path cannot compare: the slow path refuses it with the right code
        return self._tick_slow(symbol, ts_ms, last, mark, bar_volume)

    def on_ticks(
        self,
        symbol: str,
        ts_ms: Sequence[int],
        prices: Sequence[int],
        price_decimals: int,
        bar_volume: Sequence[Decimal | None] | None = None,
    ) -> tuple[Event, ...]:
        """Many ticks of one symbol at once, without a mark (the last price is the mark): exactly what
        ``on_tick(symbol, ts_ms[i], Decimal(prices[i]) / 10**price_decimals, bar_volume=bar_volume[i])`` in order
        would do, the same state and the same events (returned together), for a fraction of the time.

        Prices are integers scaled by ``10**price_decimals`` (a candle file's own form, ``hexdesk.market.replay.
        ScaledPath``), so a run of ticks that reaches no gate is checked with a few integer comparisons and only
        its last price becomes a Decimal: a quiet run changes nothing but the clock, the last price and the
        liquidity, and a run is quiet when its lowest and highest prices (and the price before it) lie strictly
        inside the gates the per-tick fast path uses. Anything else (a gate reached, a funding instant, a cross
        position, the first tick, a value of another type) goes through ``on_tick`` one tick at a time, with its
        checks: a tick it refuses raises BinanceError (counted in ``rejected_ticks``) and the ticks after it are not
        applied, those before it are, as in the loop.

        The types (and the order of the times, and the volumes' range) are checked once per call over the whole
        batch, unless the columns come as ``hexdesk.engine.columns`` types checked when they were built
        (``TickTimes``, ``TickPrices``, ``TickVolumes``: what ``replay.scaled_path`` makes).
        """
        n = len(ts_ms)
        if len(prices) != n or (bar_volume is not None and len(bar_volume) != n):
            raise BinanceError(Rejection.of(ErrorCode.INVALID_PARAMETER, "ticks"))
        if type(price_decimals) is not int or not 0 <= price_decimals <= 18:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_PARAMETER, "priceDecimals"))
        volumes = bar_volume if bar_volume is not None else [None] * n
        cache: dict[int, Decimal] = {}
        exponent = -price_decimals

        def price(i: int) -> object:
            p = prices[i]
            if type(p) is not int or not -_HUGE < p < _HUGE:
                return p  # on_tick refuses it as a malformed price (a bool, a float, an int no price can be)
            d = cache.get(p)
            if d is None:
                d = cache[p] = _scaled(p, exponent)
            return d

        # Checked once for the whole call, so a run checks only its prices and times: every time and price a
        # Python int, every volume a Decimal in range (or all None). Otherwise each run checks its own values.
        times_checked = type(ts_ms) is TickTimes  # ints in time order, checked when built
        prices_checked = type(prices) is TickPrices  # ints, checked (or read from 64-bit integers) when built
        if prices_checked:
            prices = prices.ints()  # type: ignore[attr-defined]  # (a list of this part: C-speed runs below)
        checked = (times_checked or _all_of(ts_ms, int)) and (prices_checked or _all_of(prices, int))
        if checked and bar_volume is not None and type(bar_volume) is not TickVolumes:  # (those were checked)
            checked = valid_volumes(volumes)  # else (a NaN, a float...) each run checks, the tick is refused
        # Times in order (the usual case; sorting a sorted list is one pass) spare every run two passes over them.
        ordered = checked and (times_checked or ts_ms == sorted(ts_ms))
        last_ts = ts_ms[n - 1] if ordered and n else None
        events: list[Event] = []
        on_tick = self.on_tick
        funding_at = bisect.bisect_left
        i, size = 0, max(_MIN_RUN, n)  # the whole batch first: most are quiet all through
        while i < n:
            # Funding instants end a quiet run (times in order: bisect, or none at all when the batch ends before the
            # next instant; otherwise the run's own check catches it).
            due = self._next_funding_ms
            j = min(n, i + size, n if last_ts is not None and last_ts < due else funding_at(ts_ms, due, i, n))
            if j - i > 1 and self._quiet_run(symbol, ts_ms, prices, price_decimals, volumes, i, j, checked, ordered):
                i = j
                size *= 2
                continue
            if size > _MIN_RUN and j - i > 1:
                size //= 2  # something in the run is not quiet: look closer
                continue
            events.extend(on_tick(symbol, ts_ms[i], price(i), bar_volume=volumes[i]))  # type: ignore[arg-type]
            i += 1
        return tuple(events)

    def _quiet_run(
        self,
        symbol: str,
        ts_ms: Sequence[int],
        prices: Sequence[int],
        price_decimals: int,
        volumes: Sequence[Decimal | None],
        i: int,
        j: int,
        checked: bool,
        ordered: bool = False,
    ) -> bool:
        """Apply ticks ``[i:j]`` if every one of them would take the per-tick fast path without a mark and reach
        nothing (see ``on_ticks``); False, having changed nothing, otherwise. ``checked``: the types of every value
        and the volumes' range are known good; ``ordered``: checked, and every time at or after the one before (so
        a run's first and last times are its earliest and latest)."""
        st = self._state.get(symbol) if type(symbol) is str else None
        if st is None or st.last is None or st.cross_open:
            return False
        run = prices[i:j]
        try:
            if ordered:
                first_ts = ts_ms[i]
                end_ts = last_ts = ts_ms[j - 1]
            else:
                times = ts_ms[i:j]
                if not checked:
                    if set(map(type, times)) != _INT or set(map(type, run)) != _INT:
                        return False  # bools, floats, strings...: the per-tick path refuses them
                    vols = volumes[i:j]
                    kinds = set(map(type, vols))
                    if kinds == _DECIMAL:
                        if not valid_volumes(vols):  # (a NaN: per tick, where it is refused)
                            return False
                    elif kinds != _NONE:
                        return False
                first_ts, last_ts = min(times), max(times)
                end_ts = times[-1]
            if not (first_ts >= 0 and last_ts < self._next_funding_ms):
                return False
            lo = _scaled(min(run), -price_decimals)  # (beyond 200 digits rounded: far outside the gates anyway)
            hi = _scaled(max(run), -price_decimals)
            prev = st.last
            if prev < lo:
                lo = prev
            if prev > hi:
                hi = prev
            if not (st.down_last < lo and hi < st.up_last and st.down_mark < lo and hi < st.up_mark):
                return False
        except (TypeError, ValueError, ArithmeticError):
            return False
        if last_ts > self._now:
            self._now = last_ts
        st.bar_volume = volumes[j - 1]
        st.tick_ms = end_ts
        st.last = st.mark = _scaled(run[-1], -price_decimals)  # (within the gates: a few digits, exact)
        return True

    def _apply_quiet_tick(
        self, st: SymbolState, ts_ms: int, last: Decimal, mark: Decimal, bar_volume: Decimal | None
    ) -> bool:
        """Apply a tick that reached no gate; for a cross position first check the whole cross account at the new
        mark, exactly: the mark path from the previous mark is monotone, so if its end is not at the account's
        liquidation point no point of it is. If it is, nothing is applied (False) and the slow path walks to where
        the mark crosses the cross LP (the LP in the gate may be stale: other symbols' marks move it)."""
        if st.cross_open:
            upnl = st.qty * (mark - st.entry)
            mm = st.maintenance_at(mark)
            cross_upnl = self._cross_upnl + upnl - st.upnl
            cross_mm = self._cross_mm + mm - st.mm
            if cross_mm >= self._cross_wallet + cross_upnl:
                return False
            self._cross_upnl, self._cross_mm = cross_upnl, cross_mm
            st.upnl, st.mm = upnl, mm
        if ts_ms > self._now:
            self._now = ts_ms
        st.bar_volume = bar_volume
        st.tick_ms = ts_ms
        st.last = last
        st.mark = mark
        return True

    def _tick_slow(
        self, symbol: object, ts_ms: object, last: object, mark: object, bar_volume: object
    ) -> tuple[Event, ...]:
        try:
            st = guards.tick(self._state, symbol, ts_ms, last, mark, bar_volume)
        except BinanceError:
            self.rejected_ticks += 1
            raise
        assert isinstance(ts_ms, int) and isinstance(last, Decimal)
        assert (mark is None or isinstance(mark, Decimal)) and (bar_volume is None or isinstance(bar_volume, Decimal))
        if mark is None:
            mark = last
        if ts_ms > self._now:
            self._now = ts_ms
        self._settle_due_funding()
        prev_last, prev_mark = st.last, st.mark
        st.bar_volume = bar_volume
        duration_ms = ts_ms - st.tick_ms
        st.tick_ms = ts_ms
        if prev_last is None or prev_mark is None:
            st.last, st.mark = last, mark
            st.next_funding_ms = next_funding_ms(self._now, st.instrument.funding_interval_hours)
            self._next_funding_ms = self._earliest_funding()
            return self._flush()
        st.last, st.mark = last, mark
        self._walk_segment(st, prev_last, last, prev_mark, mark, segment_volume(bar_volume, duration_ms))
        if st.cross_open:
            self._resync_cross()
        self._check_cross()
        return self._flush()

    def set_funding_rate(self, symbol: str, rate: Decimal) -> None:
        """The rate the next settlements of ``symbol`` use (clamped to the symbol's cap and floor, §2)."""
        st = self._symbol(symbol)
        rate = guards.funding_rate(rate)
        inst = st.instrument
        st.funding_rate = clamp_rate(rate, inst.funding_rate_floor, inst.funding_rate_cap)

    # -------------------------------------------------------------------------- account settings

    def set_leverage(self, symbol: str, leverage: int) -> tuple[Event, ...]:
        """Binance's change-leverage: 1..bracket max (-4028); isolated with a position cannot lower it (-4161);
        the position plus its open orders must fit the new leverage's notional cap (-2027), and a lower leverage
        must leave margin for the position and the resting orders (-2028); see ``Ledger._leverage_rejection``."""
        st = self._symbol(symbol)
        guards.leverage(leverage, st.instrument)  # an int (True is not 1x) in 1..max, else -4028
        self._settle_due_funding()
        inst = st.instrument
        if not isinstance(leverage, int) or not 1 <= leverage <= inst.max_leverage:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_LEVERAGE, leverage))
        if st.qty and st.is_isolated and leverage < st.leverage:
            raise BinanceError(Rejection.of(ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION))
        rejection = self._leverage_rejection(st, leverage)
        if rejection is not None:
            raise BinanceError(rejection)
        if leverage == st.leverage:
            return NO_EVENTS
        st.leverage = leverage
        self._emit(LeverageChanged, symbol, leverage)
        if st.qty:
            self._emit(PositionChanged, self._snapshot(st))
        return self._flush()

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> tuple[Event, ...]:
        """Binance's change-margin-type: -4046 same mode, -4047 open orders, -4048 open position. ``mode`` is a
        MarginMode or Binance's spelling, "ISOLATED" / "CROSSED" (else -1130)."""
        st = self._symbol(symbol)
        mode = guards.margin_mode(mode)
        self._settle_due_funding()
        if mode is st.margin_mode:
            raise BinanceError(Rejection.of(ErrorCode.NO_NEED_TO_CHANGE_MARGIN_TYPE))
        if st.book.orders:
            raise BinanceError(Rejection.of(ErrorCode.THERE_EXISTS_OPEN_ORDERS))
        if st.qty:
            raise BinanceError(Rejection.of(ErrorCode.THERE_EXISTS_QUANTITY))
        st.margin_mode = mode
        self._emit(MarginModeChanged, symbol, mode)
        return self._flush()

    def transfer_margin(self, symbol: str, amount: Decimal) -> tuple[Event, ...]:
        """Add (> 0) or remove (< 0) isolated margin (the rules: ``ledger.Ledger.transfer_margin``), after the door's
        checks: a known symbol, a finite Decimal amount of sane magnitude; funding due on the clock first."""
        self._symbol(symbol)
        guards.amount(amount)
        self._settle_due_funding()
        return super().transfer_margin(symbol, amount)

    # ----------------------------------------------------------------------------------- queries

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return MappingProxyType(self._instruments)

    @property
    def now_ms(self) -> int:
        """The engine's clock: the latest tick time seen (or start_ms)."""
        return self._now

    def leverage(self, symbol: str) -> int:
        return self._symbol(symbol).leverage

    def margin_mode(self, symbol: str) -> MarginMode:
        return self._symbol(symbol).margin_mode

    def last_price(self, symbol: str) -> Decimal | None:
        return self._symbol(symbol).last

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._symbol(symbol).mark

    def funding_rate(self, symbol: str) -> Decimal:
        return self._symbol(symbol).funding_rate

    def position(self, symbol: str) -> Position:
        """The position of ``symbol`` valued at the current mark (quantity 0 when flat)."""
        return self._snapshot(self._symbol(symbol))

    def positions(self) -> tuple[Position, ...]:
        """The open positions, by symbol."""
        return tuple(self._snapshot(self._open_positions[s]) for s in sorted(self._open_positions))

    def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]:
        """Open orders (of one symbol, or all), by order id."""
        if symbol is not None:
            return tuple(self._symbol(symbol).book)
        every = (o for st in self._state.values() for o in st.book.orders.values())
        return tuple(sorted(every, key=lambda o: o.order_id))

    def account(self) -> AccountSnapshot:
        """Balances (USDT) and the cross margin ratio, computed fresh from the positions."""
        return account_snapshot(
            self._cross_wallet,
            sum((s.iso_wallet for s in self._state.values() if s.iso_wallet), ZERO),
            self._open_positions.values(),
            self._cross_open.values(),
            self._available(),
            self._open_order_margin(),
            self._insurance_cover,
        )

    def state(self) -> AccountState:
        """The account as :func:`hexdesk.engine.rebuild.rebuild` reconstructs it from the event log."""
        return AccountState(
            wallet_balance=self._cross_wallet + sum((s.iso_wallet for s in self._state.values()), ZERO),
            insurance_fund_cover=self._insurance_cover,
            positions={
                s.symbol: PositionState(s.symbol, s.qty, s.entry, s.iso_wallet, s.leverage, s.margin_mode)
                for s in self._open_positions.values()
            },
            open_orders={o.order_id: o for o in self.open_orders()},
            leverage={s: st.leverage for s, st in self._state.items()},
            margin_mode={s: st.margin_mode for s, st in self._state.items()},
        )
