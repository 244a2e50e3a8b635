"""Laws of the money (hypothesis), over random sequences of orders, ticks, funding and transfers.

1. Conservation. At any point, with W the total wallet (cross + every isolated wallet):
       W = W₀ + Σ fills' realized PnL (liquidation fills included) − Σ fills' fees + Σ funding amounts
           + Σ insurance-fund cover
   to the last of the 8 decimals (money moves in 8-dp amounts, docs/engine.md "Rounding"). The fund's cover is
   money entering the account from outside; everything else is a transfer between the trader and the market.
2. An isolated position's wallet never exceeds what was posted for it: the initial margin of each opening fill
   (notional / leverage at the fill price, §1.5), plus margin added, plus funding received, scaled down pro rata
   when the position is reduced (docs/engine.md "Isolated margin").
3. Closing at the entry price costs exactly the fees: open (in one or several fills at one price), let the price
   wander and come back, close in one or several fills at that price: the wallet is W₀ − Σ fees. "At the entry
   price" means the fills' price: with a zero-spread fill model a market order fills at the last price, so the
   law holds as stated; with the default model's 1-tick half-spread (docs/fill-model.md) the market opens one
   tick against the trader and closes one tick against him, so the round trip costs the fees plus 2 ticks × size.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexdesk.engine import (
    BinanceError,
    DefaultFillModel,
    Exchange,
    FundingSettled,
    InsuranceFundCovered,
    MarginMode,
    MarginTransferred,
    OrderFilled,
    OrderRequest,
    Side,
    rebuild,
)
from hexdesk.engine.account import money
from tests.engine._exchange_helpers import BTC, ETH, D, H, exact_exchange

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = {BTC: D("60000"), ETH: D("3000")}
UNIT = {BTC: D("0.01"), ETH: D("0.1")}
EPS = D("1e-8")

sides = st.sampled_from([Side.BUY, Side.SELL])
symbols = st.sampled_from([BTC, ETH])
actions = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), symbols, st.integers(-300, 300), st.integers(0, 2)),
        st.tuples(st.just("tick"), symbols, st.integers(-300, 300), st.integers(0, 2)),
        st.tuples(st.just("market"), symbols, sides, st.integers(1, 40)),
        st.tuples(st.just("limit"), symbols, sides, st.integers(1, 40), st.integers(-200, 200)),
        st.tuples(st.just("transfer"), symbols, st.integers(-2000, 2000)),
        st.tuples(st.just("funding"), symbols, st.integers(-30, 30)),
        st.tuples(st.just("leverage"), symbols, st.integers(1, 150)),
    ),
    min_size=1,
    max_size=40,
)


def _run(ex: Exchange, steps: list[tuple], after: Callable[[], None] = lambda: None) -> None:
    clock = [1]
    for step in steps:
        after()
        kind, sym = step[0], step[1]
        last = ex.last_price(sym) or START[sym]
        try:
            if kind == "tick":
                bps, hours = step[2], step[3]
                clock[0] += 1 + hours * H
                ex.on_tick(sym, clock[0], ex.instruments[sym].round_price(last * (1 + D(bps) / 10000)))
            elif kind == "market":
                ex.submit(OrderRequest.market(sym, step[2], UNIT[sym] * step[3]))
            elif kind == "limit":
                price = ex.instruments[sym].round_price(last * (1 + D(step[4]) / 10000))
                ex.submit(OrderRequest.limit(sym, step[2], UNIT[sym] * step[3], price))
            elif kind == "transfer":
                ex.transfer_margin(sym, D(step[2]))
            elif kind == "funding":
                ex.set_funding_rate(sym, D(step[2]) / 10000)
            elif kind == "leverage":
                ex.set_leverage(sym, step[2])
        except BinanceError:
            pass
    after()


@st.composite
def accounts(draw: st.DrawFn) -> tuple[Exchange, list[tuple]]:
    mode = draw(st.sampled_from([MarginMode.ISOLATED, MarginMode.CROSS]))
    wallet = draw(st.sampled_from(["500", "5000", "100000"]))
    ex = exact_exchange(wallet, mode=mode)
    if draw(st.booleans()):
        other = MarginMode.CROSS if mode is MarginMode.ISOLATED else MarginMode.ISOLATED
        ex.set_margin_mode(ETH, other)  # one symbol in each mode
    for sym, price in START.items():
        ex.on_tick(sym, 1, price)
    return ex, draw(actions)


@SETTINGS
@given(accounts())
def test_money_is_conserved_across_any_sequence(case: tuple[Exchange, list[tuple]]) -> None:
    ex, steps = case
    start = ex.account().wallet_balance
    _run(ex, steps)
    realized = fees = funding = cover = D(0)
    for e in ex.events:
        if isinstance(e, OrderFilled):
            realized += e.fill.realized_pnl
            fees += e.fill.fee
        elif isinstance(e, FundingSettled):
            funding += e.amount
        elif isinstance(e, InsuranceFundCovered):
            cover += e.amount
    account = ex.account()
    assert account.wallet_balance == start + realized - fees + funding + cover
    assert account.insurance_fund_cover == cover
    assert account.cross_wallet_balance >= 0
    assert all(p.isolated_wallet >= 0 for p in ex.positions())
    assert ex.state() == rebuild(ex.events)


@SETTINGS
@given(accounts())
def test_an_isolated_wallet_never_exceeds_what_was_posted_for_it(case: tuple[Exchange, list[tuple]]) -> None:
    ex, steps = case
    bound: dict[str, Decimal] = {BTC: D(0), ETH: D(0)}
    qty: dict[str, Decimal] = {BTC: D(0), ETH: D(0)}

    def on_event(e: object) -> None:
        if isinstance(e, OrderFilled):
            sym, f = e.fill.symbol, e.fill
            signed = f.quantity if f.side is Side.BUY else -f.quantity
            before = qty[sym]
            after = before + signed
            if before == 0 or (before > 0) == (signed > 0):  # open or add
                bound[sym] += money(f.quantity * f.price / ex.leverage(sym))
            elif after == 0 or (after > 0) != (before > 0):  # close or flip: what opens is new
                opened = abs(after)
                bound[sym] = money(opened * f.price / ex.leverage(sym)) if opened else D(0)
            else:  # reduce: pro rata (plus the 8-dp rounding of the release)
                bound[sym] = bound[sym] * abs(after) / abs(before) + EPS
            qty[sym] = after
        elif isinstance(e, MarginTransferred) or (isinstance(e, FundingSettled) and e.amount > 0):
            bound[e.symbol] += e.amount

    def check() -> None:
        for sym in (BTC, ETH):
            pos = ex.position(sym)
            assert pos.quantity == qty[sym]
            if ex.margin_mode(sym) is MarginMode.ISOLATED and pos.is_open:
                assert pos.isolated_wallet <= bound[sym]

    ex.subscribe(on_event)
    _run(ex, steps, check)


@SETTINGS
@given(
    mode=st.sampled_from([MarginMode.ISOLATED, MarginMode.CROSS]),
    spread=st.sampled_from([0, 1]),
    side=sides,
    leverage=st.integers(1, 20),
    entry=st.integers(20000, 90000),
    opens=st.lists(st.integers(1, 30), min_size=1, max_size=4),
    closes=st.integers(1, 4),
    wander=st.lists(st.integers(-150, 150), max_size=6),
)
def test_closing_at_the_entry_price_costs_exactly_the_fees(
    mode: MarginMode, spread: int, side: Side, leverage: int, entry: int, opens: list[int], closes: int,
    wander: list[int],
) -> None:
    ex = Exchange(wallet_balance=D("1000000"), fill_model=DefaultFillModel(spread_ticks=spread),
                  default_margin_mode=mode)
    price = D(entry)
    ex.on_tick(BTC, 1, price)
    ex.set_leverage(BTC, leverage)
    for units in opens:
        assert ex.submit(OrderRequest.market(BTC, side, D("0.01") * units)).ok
    ts = 2
    for bps in wander:  # at most 1.5% away at 20x: far from any liquidation price
        ex.on_tick(BTC, ts, ex.instruments[BTC].round_price(price * (1 + D(bps) / 10000)))
        ts += 1
    ex.on_tick(BTC, ts, price)
    size = D("0.01") * sum(opens)
    pieces = [size / closes] * (closes - 1)
    pieces = [ex.instruments[BTC].round_qty(p) for p in pieces]
    pieces.append(size - sum(pieces, D(0)))
    for piece in pieces:
        if piece > 0:  # reduce-only: a piece of a small position may be under MIN_NOTIONAL (0.002 at 20,000)
            assert ex.submit(OrderRequest.market(BTC, side.opposite, piece, reduce_only=True)).ok
    assert not ex.position(BTC).is_open
    fees = sum((e.fill.fee for e in ex.events if isinstance(e, OrderFilled)), D(0))
    realized = sum((e.fill.realized_pnl for e in ex.events if isinstance(e, OrderFilled)), D(0))
    # Zero spread: every fill at `price`, realized 0. One tick (0.1 on BTCUSDT) of half-spread: a long opens at
    # price + 0.1 and closes at price − 0.1, a short opens at price − 0.1 and closes at price + 0.1: realized
    # −0.2 per BTC either way, exactly −0.2 × size.
    size_traded = D("0.01") * sum(opens)
    assert realized == -2 * spread * ex.instruments[BTC].tick_size * size_traded
    assert ex.account().wallet_balance == D("1000000") - fees + realized
    # Each fee is the taker rate on the fill's notional, 8 dp (§2).
    fills = [e.fill for e in ex.events if isinstance(e, OrderFilled)]
    assert all(f.fee == money(f.price * f.quantity * D("0.0005")) for f in fills)
