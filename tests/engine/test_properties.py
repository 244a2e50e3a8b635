"""Properties of the Exchange over random price paths and random orders (hypothesis).

1. An isolated liquidation never takes more from the wallet than that position's margin plus the fees of the
   trades that built it.
2. No balance (cross wallet, isolated wallets, total wallet) ever goes negative.
3. Money is conserved: final wallet = start + Σ realized PnL − Σ fees + Σ funding + insurance cover.
4. The same trade under cross loses at least as much as under isolated on a crash path.
5. rebuild(events) equals the live state.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hexdesk.engine import (
    BinanceError,
    Exchange,
    FundingSettled,
    InsuranceFundCovered,
    MarginMode,
    OrderFilled,
    OrderRequest,
    OrderType,
    PositionLiquidated,
    Side,
    TimeInForce,
    WorkingType,
    rebuild,
)
from tests.engine._exchange_helpers import BTC, ETH, D, H

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = {BTC: D("60000"), ETH: D("3000")}
BPS = D("0.0001")

sides = st.sampled_from([Side.BUY, Side.SELL])
symbols = st.sampled_from([BTC, ETH])
qty_units = st.integers(1, 40)  # × 0.01 BTC / × 0.1 ETH

ticks = st.tuples(st.just("tick"), symbols, st.integers(-400, 400), st.integers(-30, 30), st.integers(0, 3))
actions = st.one_of(
    ticks,
    ticks,
    ticks,
    st.tuples(st.just("market"), symbols, sides, qty_units, st.booleans()),
    st.tuples(st.just("limit"), symbols, sides, qty_units, st.integers(-300, 300), st.sampled_from(list(TimeInForce))),
    st.tuples(st.just("stop"), symbols, sides, qty_units, st.integers(5, 600), st.booleans(), st.booleans()),
    st.tuples(st.just("bracket"), symbols, sides, qty_units, st.integers(20, 500), st.integers(20, 500)),
    st.tuples(st.just("cancel"), symbols, st.integers(0, 4)),
    st.tuples(st.just("amend"), symbols, st.integers(0, 4), st.integers(-200, 200)),
    st.tuples(st.just("transfer"), symbols, st.integers(-3000, 3000)),
    st.tuples(st.just("funding"), symbols, st.integers(-30, 30)),
    st.tuples(st.just("leverage"), symbols, st.integers(1, 125)),
    st.tuples(st.just("mode"), symbols),
)


def _qty(symbol: str, units: int) -> Decimal:
    return units * (D("0.01") if symbol == BTC else D("0.1"))


def _price(ex: Exchange, symbol: str, bps: int) -> Decimal:
    last = ex.last_price(symbol)
    assert last is not None
    return ex.instruments[symbol].round_price(last * (1 + bps * BPS))


class _Runner:
    def __init__(self, mode: MarginMode, leverage: int, wallet: Decimal) -> None:
        self.ex = Exchange(wallet_balance=wallet, default_leverage=leverage, default_margin_mode=mode)
        self.ts = 0
        for s, p in START.items():
            self.ex.on_tick(s, 0, p)

    def apply(self, action: tuple) -> None:
        kind, symbol, *args = action
        ex = self.ex
        if kind == "tick":
            move, mark_offset, volume = args
            self.ts += 2 * H + 7 * 60_000
            last = _price(ex, symbol, move)
            mark = ex.instruments[symbol].round_price(last * (1 + mark_offset * BPS))
            ex.on_tick(symbol, self.ts, last, mark, D(volume) if volume else None)
        elif kind == "market":
            side, units, reduce_only = args
            ex.submit(OrderRequest.market(symbol, side, _qty(symbol, units), reduce_only=reduce_only))
        elif kind == "limit":
            side, units, bps, tif = args
            ex.submit(OrderRequest.limit(symbol, side, _qty(symbol, units), _price(ex, symbol, bps), tif))
        elif kind == "stop":
            side, units, bps, close, mark_type = args
            away = bps if side is Side.BUY else -bps
            working = WorkingType.MARK_PRICE if mark_type else WorkingType.CONTRACT_PRICE
            qty = None if close else _qty(symbol, units)
            ex.submit(
                OrderRequest(symbol, side, OrderType.STOP_MARKET, quantity=qty, stop_price=_price(ex, symbol, away),
                             close_position=close, working_type=working)
            )
        elif kind == "bracket":
            side, units, tp_bps, sl_bps = args
            tp = _price(ex, symbol, tp_bps * side.sign)
            sl = _price(ex, symbol, -sl_bps * side.sign)
            ex.submit(OrderRequest.market(symbol, side, _qty(symbol, units), take_profit=tp, stop_loss=sl))
        elif kind == "cancel":
            orders = ex.open_orders(symbol)
            if orders:
                ex.cancel(symbol, orders[args[0] % len(orders)].order_id)
        elif kind == "amend":
            index, bps = args
            limits = [o for o in ex.open_orders(symbol) if o.type is OrderType.LIMIT]
            if limits:
                ex.amend(symbol, limits[index % len(limits)].order_id, price=_price(ex, symbol, bps))
        else:
            try:
                if kind == "transfer":
                    ex.transfer_margin(symbol, D(args[0]))
                elif kind == "funding":
                    ex.set_funding_rate(symbol, args[0] * BPS)
                elif kind == "leverage":
                    ex.set_leverage(symbol, args[0])
                else:
                    current = ex.margin_mode(symbol)
                    other = MarginMode.CROSS if current is MarginMode.ISOLATED else MarginMode.ISOLATED
                    ex.set_margin_mode(symbol, other)
            except BinanceError:
                pass

    def check_balances(self) -> None:
        account = self.ex.account()
        assert account.cross_wallet_balance >= 0
        assert account.wallet_balance >= 0
        assert all(p.isolated_wallet >= 0 for p in self.ex.positions())


@SETTINGS
@given(
    mode=st.sampled_from(list(MarginMode)),
    leverage=st.integers(1, 125),
    wallet=st.sampled_from([D("500"), D("3000"), D("20000")]),
    steps=st.lists(actions, min_size=10, max_size=50),
)
def test_random_scenarios_keep_the_books(mode: MarginMode, leverage: int, wallet: Decimal, steps: list) -> None:
    runner = _Runner(mode, leverage, wallet)
    for action in steps:
        runner.apply(action)
        runner.check_balances()  # (2)
    ex = runner.ex
    events = ex.events
    realized = sum((e.fill.realized_pnl for e in events if isinstance(e, OrderFilled)), D(0))
    fees = sum((e.fill.fee for e in events if isinstance(e, OrderFilled)), D(0))
    funding = sum((e.amount for e in events if isinstance(e, FundingSettled)), D(0))
    cover = sum((e.amount for e in events if isinstance(e, InsuranceFundCovered)), D(0))
    account = ex.account()
    assert cover == account.insurance_fund_cover
    assert account.wallet_balance == wallet + realized - fees + funding + cover  # (3)
    assert ex.state() == rebuild(events)  # (5)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for kind in sorted({type(e).__name__ for e in events}):
        event(kind)


def _crash_path(entry: Decimal, side: Side, depth_bps: int, steps: int) -> list[Decimal]:
    """From the entry to ``depth`` against the position in ``steps`` equal moves."""
    end = entry * (1 - side.sign * depth_bps * BPS)
    return [(entry + (end - entry) * i / steps).quantize(D("0.1")) for i in range(1, steps + 1)]


@SETTINGS
@given(
    side=sides,
    leverage=st.integers(2, 125),
    units=st.integers(1, 100),
    depth=st.integers(50, 5000),
    steps=st.integers(1, 12),
    transfer=st.integers(0, 500),
)
def test_isolated_liquidation_takes_at_most_the_margin_plus_fees(
    side: Side, leverage: int, units: int, depth: int, steps: int, transfer: int
) -> None:
    ex = Exchange(wallet_balance=D("100000"), default_leverage=leverage)
    ex.on_tick(BTC, 0, START[BTC])
    qty = units * D("0.01")
    result = ex.submit(OrderRequest.market(BTC, side, qty))
    if not result.ok:
        return
    if transfer:
        ex.transfer_margin(BTC, D(transfer))
    margin = ex.position(BTC).isolated_wallet
    fees = sum((e.fill.fee for e in ex.events if isinstance(e, OrderFilled)), D(0))
    for i, price in enumerate(_crash_path(START[BTC], side, depth, steps)):
        ex.on_tick(BTC, 1_000 * (i + 1), price)
    loss = D("100000") - ex.account().wallet_balance
    assert loss <= margin + fees  # (1)
    liquidated = [e for e in ex.events if isinstance(e, PositionLiquidated)]
    if liquidated:
        assert liquidated[0].margin_lost == margin
        assert loss == margin + fees


@SETTINGS
@given(
    side=sides,
    leverage=st.integers(2, 50),
    units=st.integers(1, 100),
    extra=st.integers(0, 3000),
    steps=st.integers(1, 12),
)
def test_cross_loses_at_least_as_much_as_isolated_on_a_crash(
    side: Side, leverage: int, units: int, extra: int, steps: int
) -> None:
    """A crash deep enough to wipe the isolated margin (beyond 1/leverage against the position)."""
    depth = 10_000 // leverage + 1 + extra
    if side is Side.BUY:
        depth = min(depth, 9_000)
    losses = {}
    for mode in MarginMode:
        ex = Exchange(wallet_balance=D("10000"), default_leverage=leverage, default_margin_mode=mode)
        ex.on_tick(BTC, 0, START[BTC])
        if not ex.submit(OrderRequest.market(BTC, side, units * D("0.01"))).ok:
            return
        for i, price in enumerate(_crash_path(START[BTC], side, depth, steps)):
            ex.on_tick(BTC, 1_000 * (i + 1), price)
        losses[mode] = D("10000") - ex.account().margin_balance
    assert losses[MarginMode.CROSS] >= losses[MarginMode.ISOLATED]  # (4)
