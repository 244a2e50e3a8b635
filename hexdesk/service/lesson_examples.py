"""The worked examples of the concept pages, computed by the engine when a page opens (never typed into the text).

Each example is a function of an :class:`ExampleContext` (a real price: the last price of the bundled data or the
desk's current price) that runs ``hexdesk.engine`` (a fresh ``Exchange``, ``margin``, ``risk``) and returns an
:class:`Example`: the Markdown shown in place of ``{{example:NAME}}`` and the named numbers it shows, so a test can
compare them with a hand computation from the reference. Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from hexdesk.engine import (
    Exchange,
    FundingSettled,
    MarginMode,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
    PositionLiquidated,
    Side,
    TimeInForce,
    size_position,
)
from hexdesk.engine.explain import explain_liquidation
from hexdesk.engine.margin import maintenance_margin

ZERO = Decimal(0)
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class ExampleContext:
    """Where an example starts: a symbol at a real price, a time (ms) and the practice balance."""

    symbol: str
    price: Decimal
    ts_ms: int
    balance: Decimal = Decimal("10000")
    source: str = ""  # where the price comes from, shown under the example


@dataclass(frozen=True, slots=True)
class Example:
    """The Markdown of one worked example and the numbers in it (by name, for tests and exercises)."""

    markdown: str
    values: dict[str, Decimal | None] = field(default_factory=dict)


def usdt(v: Decimal | None) -> str:
    """A money amount as the pages show it: 2 decimals, thousands separated ("--" for none)."""
    return "--" if v is None else f"{v.quantize(Decimal('0.01')):,}"


def price(v: Decimal | None) -> str:
    """A price as the pages show it (BTCUSDT's tick is 0.10; 2 decimals keep every tick)."""
    return usdt(v)


def pct(v: Decimal | None, places: int = 2) -> str:
    """A fraction as a percentage."""
    return "--" if v is None else f"{(v * 100).quantize(Decimal(1).scaleb(-places))}%"


def qty(v: Decimal) -> str:
    return f"{v.normalize():f}"


def _table(rows: list[tuple[str, str]]) -> str:
    lines = ["| Step | Value |", "|---|---:|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def _round_tick(ex: Exchange, symbol: str, p: Decimal) -> Decimal:
    tick = ex.instruments[symbol].tick_size
    return (p / tick).to_integral_value(rounding=ROUND_DOWN) * tick


def _qty_for(ex: Exchange, symbol: str, notional: Decimal, p: Decimal) -> Decimal:
    """The quantity of ``notional`` at ``p``, rounded down to the market step size."""
    inst = ex.instruments[symbol]
    step = inst.market_step_size or inst.step_size
    return (notional / p / step).to_integral_value(rounding=ROUND_DOWN) * step


def _exchange(ctx: ExampleContext, leverage: int, mode: MarginMode = MarginMode.ISOLATED) -> Exchange:
    """A fresh account at ``ctx.balance`` with one tick at the real price; no funding before the next instant."""
    ex = Exchange(ctx.balance, start_ms=ctx.ts_ms, default_margin_mode=mode)
    ex.on_tick(ctx.symbol, ctx.ts_ms, ctx.price)
    ex.set_leverage(ctx.symbol, leverage)
    return ex


def _fills(events: object) -> list:
    return [e.fill for e in events if isinstance(e, OrderFilled)]  # type: ignore[attr-defined]


def _open_long(ctx: ExampleContext, leverage: int, margin: Decimal, mode: MarginMode) -> tuple[Exchange, Decimal]:
    """Open a long whose initial margin is about ``margin`` at ``leverage``: returns the exchange and the entry fee."""
    ex = _exchange(ctx, leverage, mode)
    q = _qty_for(ex, ctx.symbol, margin * leverage, ctx.price)
    result = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=q))
    if not result.ok:
        raise RuntimeError(f"example order rejected: {result.rejection}")
    return ex, sum((f.fee for f in _fills(result.events)), ZERO)


def _tick_to(ex: Exchange, ctx: ExampleContext, p: Decimal, minutes: int = 1, mark: Decimal | None = None) -> tuple:
    return ex.on_tick(ctx.symbol, ex.now_ms + minutes * 60_000, p, mark)


# -- Positions & Risk ------------------------------------------------------------------------------------------


def isolated_long(ctx: ExampleContext) -> Example:
    """A 10x isolated long posting 1% of the balance as margin, then the mark falls to its liquidation price."""
    ex, fee = _open_long(ctx, 10, ctx.balance / 100, MarginMode.ISOLATED)
    pos = ex.position(ctx.symbol)
    before = ex.account().wallet_balance
    lp = pos.liquidation_price
    assert lp is not None
    events = _tick_to(ex, ctx, _round_tick(ex, ctx.symbol, lp))
    liq = [e for e in events if isinstance(e, PositionLiquidated)]
    after = ex.account().wallet_balance
    v = {
        "quantity": pos.size, "entry": pos.entry_price, "notional": pos.size * pos.entry_price,
        "isolated_wallet": pos.isolated_wallet, "entry_fee": fee, "liquidation_price": lp,
        "maintenance_margin": pos.maintenance_margin, "wallet_before": before, "wallet_after": after,
        "lost": before - after, "liquidated": Decimal(len(liq)),
    }
    md = _table([
        ("Balance", f"{usdt(ctx.balance)} USDT"),
        ("Order", f"buy {qty(pos.size)} {ctx.symbol} at market, 10x isolated"),
        ("Entry price", price(pos.entry_price)),
        ("Notional", f"{usdt(v['notional'])} USDT"),
        ("Isolated margin (notional / 10)", f"{usdt(pos.isolated_wallet)} USDT: about 1% of the balance"),
        ("Taker fee at entry (0.05%)", f"{usdt(fee)} USDT, paid from the wallet"),
        ("Liquidation price", price(lp)),
        ("Wallet before the fall", f"{usdt(before)} USDT"),
        ("Wallet after the liquidation", f"{usdt(after)} USDT"),
        ("Lost", f"{usdt(before - after)} USDT: the isolated margin, nothing more"),
    ])
    return Example(md, v)


def cross_long(ctx: ExampleContext) -> Example:
    """One 20x long with 10% of the balance as margin, isolated and cross, each run down to its liquidation."""
    out: dict[str, Decimal | None] = {}
    rows = []
    for mode in (MarginMode.ISOLATED, MarginMode.CROSS):
        ex, fee = _open_long(ctx, 20, ctx.balance / 10, mode)
        pos = ex.position(ctx.symbol)
        before = ex.account().wallet_balance
        lp = pos.liquidation_price
        after = None
        if lp is not None:
            _tick_to(ex, ctx, _round_tick(ex, ctx.symbol, lp))
            after = ex.account().wallet_balance
        key = mode.value.lower()
        out |= {f"{key}_liquidation_price": lp, f"{key}_wallet_after": after,
                f"{key}_lost": None if after is None else before - after, f"{key}_entry_fee": fee}
        out |= {"quantity": pos.size, "entry": pos.entry_price}
        if mode is MarginMode.CROSS:
            out["cross_wallet"] = before
        else:
            out["isolated_wallet"] = pos.isolated_wallet
        dist = None if lp is None else (pos.entry_price - lp) / pos.entry_price
        rows.append(
            f"| {mode.value.lower()} | {price(lp)} | {pct(dist)} | "
            f"{'--' if after is None else usdt(before - after)} | {'--' if after is None else usdt(after)} |"
        )
    md = "\n".join([
        f"Long {qty(out['quantity'])} {ctx.symbol} at {price(out['entry'])}, 20x, 1,000 USDT of margin "
        f"(10% of {usdt(ctx.balance)}), held until the liquidation:",
        "",
        "| Mode | Liquidation price | Fall that liquidates | Lost (USDT) | Wallet after (USDT) |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ])
    return Example(md, out)


def leverage_table(ctx: ExampleContext) -> Example:
    """The same 100 USDT of isolated margin at 5x, 10x, 20x and 50x: size and distance to liquidation."""
    rows, v = [], {}
    for lev in (5, 10, 20, 50):
        ex, _ = _open_long(ctx, lev, ctx.balance / 100, MarginMode.ISOLATED)
        pos = ex.position(ctx.symbol)
        lp = pos.liquidation_price
        dist = None if lp is None else (pos.entry_price - lp) / pos.entry_price
        v[f"notional_{lev}x"] = pos.size * pos.entry_price
        v[f"liquidation_price_{lev}x"] = lp
        v[f"distance_{lev}x"] = dist
        rows.append(f"| {lev}x | {qty(pos.size)} | {usdt(pos.size * pos.entry_price)} | {price(lp)} | {pct(dist)} |")
    md = "\n".join([
        f"Long {ctx.symbol} from {price(ctx.price)}, 100 USDT of isolated margin each time:",
        "",
        "| Leverage | Quantity | Notional (USDT) | Liquidation price | Fall that liquidates |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ])
    return Example(md, v)


def initial_margin_example(ctx: ExampleContext) -> Example:
    """What opening a position takes from the available balance: initial margin + fee."""
    ex = _exchange(ctx, 20)
    before = ex.account().available_balance
    q = _qty_for(ex, ctx.symbol, Decimal(2000), ctx.price)
    result = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=q))
    fee = sum((f.fee for f in _fills(result.events)), ZERO)
    pos = ex.position(ctx.symbol)
    after = ex.account().available_balance
    v = {"quantity": q, "entry": pos.entry_price, "notional": pos.notional, "initial_margin": pos.initial_margin,
         "entry_fee": fee, "available_before": before, "available_after": after}
    md = _table([
        ("Order", f"buy {qty(q)} {ctx.symbol} at market, 20x"),
        ("Notional at the mark", f"{usdt(pos.notional)} USDT"),
        ("Initial margin = notional / 20", f"{usdt(pos.initial_margin)} USDT"),
        ("Taker fee", f"{usdt(fee)} USDT"),
        ("Available balance", f"{usdt(before)} → {usdt(after)} USDT"),
    ])
    return Example(md, v)


def maintenance_table(ctx: ExampleContext) -> Example:
    """Maintenance margin at a few position sizes, from the symbol's tiers."""
    inst = Exchange(ctx.balance).instruments[ctx.symbol]
    rows, v = [], {}
    for n in (Decimal(10_000), Decimal(500_000), Decimal(5_000_000)):
        b = inst.bracket_for_notional(n)
        mm = maintenance_margin(inst, n)
        v[f"mm_{n}"] = mm
        rows.append(
            f"| {usdt(n)} | {b.bracket} | {pct(b.maint_margin_ratio)} | {usdt(b.cum)} | {usdt(mm)} | "
            f"{qty((n / ctx.price).quantize(Decimal('0.001')))} |"
        )
    md = "\n".join([
        f"{ctx.symbol} tiers, maintenance margin = notional × rate − amount:",
        "",
        f"| Notional (USDT) | Tier | Rate | Amount | Maintenance margin | ≈ BTC at {price(ctx.price)} |",
        "|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
    return Example(md, v)


def liquidation_isolated(ctx: ExampleContext) -> Example:
    """A 20x isolated long liquidated by the engine: mark, tier, margin balance, what it cost."""
    ex, _ = _open_long(ctx, 20, ctx.balance / 100, MarginMode.ISOLATED)
    pos = ex.position(ctx.symbol)
    lp = pos.liquidation_price
    assert lp is not None
    events = _tick_to(ex, ctx, _round_tick(ex, ctx.symbol, lp))
    liq = [e for e in events if isinstance(e, PositionLiquidated)]
    report = explain_liquidation(liq, ex.instruments, ex.account().wallet_balance)
    p = report.positions[0]
    v = {"quantity": pos.size, "entry": pos.entry_price, "isolated_wallet": pos.isolated_wallet,
         "liquidation_price": lp, "mark": p.mark_price, "bankruptcy_price": p.bankruptcy_price,
         "maintenance_margin": p.maintenance_margin, "margin_lost": report.margin_lost,
         "liquidation_fee": report.liquidation_fee, "margin_balance": report.margin_balance}
    md = _table([
        ("Position", f"long {qty(pos.size)} {ctx.symbol} at {price(pos.entry_price)}, 20x isolated"),
        ("Isolated margin", f"{usdt(pos.isolated_wallet)} USDT"),
        ("Liquidation price", price(lp)),
        ("Mark when liquidated", price(p.mark_price)),
        ("Tier", f"{p.bracket}: rate {pct(p.maint_margin_ratio)}, amount {usdt(p.maint_amount)}"),
        ("Maintenance margin", f"{usdt(p.maintenance_margin)} USDT"),
        ("Margin balance at that moment", f"{usdt(report.margin_balance)} USDT"),
        ("Closed at (bankruptcy price)", price(p.bankruptcy_price)),
        ("Margin lost", f"{usdt(report.margin_lost)} USDT"),
        ("Of which clearance fee", f"{usdt(report.liquidation_fee)} USDT"),
    ])
    return Example(md, v)


def liquidation_price_formula(ctx: ExampleContext) -> Example:
    """The long formula with the numbers of a 10x isolated long substituted."""
    ex, _ = _open_long(ctx, 10, ctx.balance / 100, MarginMode.ISOLATED)
    pos = ex.position(ctx.symbol)
    b = ex.instruments[ctx.symbol].bracket_for_notional(pos.size * pos.entry_price)
    lp = pos.liquidation_price
    v = {"quantity": pos.size, "entry": pos.entry_price, "wallet": pos.isolated_wallet, "mmr": b.maint_margin_ratio,
         "cum": b.cum, "liquidation_price": lp}
    md = "\n".join([
        f"Long {qty(pos.size)} {ctx.symbol} at {price(pos.entry_price)}, 10x isolated, wallet WB = "
        f"{usdt(pos.isolated_wallet)} USDT, tier {b.bracket} (MMR {pct(b.maint_margin_ratio)}, cum {usdt(b.cum)}):",
        "",
        "```",
        "LP = (Q·EP − (WB + cum)) / (Q·(1 − MMR))",
        f"   = ({qty(pos.size)} × {pos.entry_price} − ({usdt(pos.isolated_wallet)} + {usdt(b.cum)}))"
        f" / ({qty(pos.size)} × (1 − {b.maint_margin_ratio.normalize()}))",
        f"   = {price(lp)}",
        "```",
        "",
        f"The engine's liquidation price for this position: **{price(lp)}**.",
    ])
    return Example(md, v)


def mark_vs_last(ctx: ExampleContext) -> Example:
    """Unrealized PnL and margin ratio follow the mark, not the last trade."""
    ex, _ = _open_long(ctx, 20, ctx.balance / 100, MarginMode.ISOLATED)
    mark = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.99"))
    _tick_to(ex, ctx, ctx.price, mark=mark)
    pos = ex.position(ctx.symbol)
    v = {"quantity": pos.size, "entry": pos.entry_price, "last": ctx.price, "mark": pos.mark_price,
         "unrealized_pnl": pos.unrealized_pnl, "margin_ratio": pos.margin_ratio,
         "liquidation_price": pos.liquidation_price}
    md = _table([
        ("Position", f"long {qty(pos.size)} {ctx.symbol} at {price(pos.entry_price)}, 20x isolated"),
        ("Last price", price(ctx.price)),
        ("Mark price (1% lower, say in a spike on other exchanges)", price(pos.mark_price)),
        ("Unrealized PnL (at the mark)", f"{usdt(pos.unrealized_pnl)} USDT"),
        ("Margin ratio (at the mark)", pct(pos.margin_ratio)),
        ("Liquidation price, compared with the mark", price(pos.liquidation_price)),
    ])
    return Example(md, v)


def margin_ratio_path(ctx: ExampleContext) -> Example:
    """A 20x isolated long's margin ratio as the mark falls 1%, 2%, 4%."""
    ex, _ = _open_long(ctx, 20, ctx.balance / 100, MarginMode.ISOLATED)
    rows, v = [], {}
    for drop in ("0", "1", "2", "4"):
        p = _round_tick(ex, ctx.symbol, ctx.price * (1 - Decimal(drop) / 100))
        _tick_to(ex, ctx, p)
        pos = ex.position(ctx.symbol)
        if not pos.is_open:
            rows.append(f"| −{drop}% | {price(p)} | liquidated | | |")
            v[f"ratio_{drop}"] = None
            break
        mb = pos.isolated_wallet + pos.unrealized_pnl
        v[f"ratio_{drop}"] = pos.margin_ratio
        mm = usdt(pos.maintenance_margin)
        rows.append(f"| −{drop}% | {price(p)} | {mm} | {usdt(mb)} | {pct(pos.margin_ratio)} |")
    md = "\n".join([
        f"Long {ctx.symbol} from {price(ctx.price)} at 20x isolated with 100 USDT of margin:",
        "",
        "| Mark move | Mark | Maintenance margin | Margin balance | Margin ratio |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ])
    return Example(md, v)


def sizing_one_percent(ctx: ExampleContext) -> Example:
    """risk.size_position: 1% of 10,000 at risk with a stop 2% below the entry."""
    ex = _exchange(ctx, 10)
    inst = ex.instruments[ctx.symbol]
    stop = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.98"))
    s = size_position(inst, ctx.balance, ctx.price, stop, risk_pct=Decimal(1), leverage=10)
    v = {"stop": stop, "quantity": s.quantity, "notional": s.notional, "initial_margin": s.initial_margin,
         "risk_amount": s.risk_amount, "max_loss_at_stop": s.max_loss_at_stop, "fees": s.fees,
         "liquidation_price": s.liquidation_price}
    md = _table([
        ("Equity", f"{usdt(ctx.balance)} USDT"),
        ("Risk per trade (1%)", f"{usdt(s.risk_amount)} USDT"),
        ("Entry / stop", f"{price(ctx.price)} / {price(stop)} (2% below)"),
        ("Quantity the sizer proposes", f"{qty(s.quantity)} {ctx.symbol[:-4]}"),
        ("Notional", f"{usdt(s.notional)} USDT"),
        ("Initial margin at 10x", f"{usdt(s.initial_margin)} USDT"),
        ("Most it can lose at the stop (fees, slippage bound)", f"{usdt(s.max_loss_at_stop)} USDT"),
        ("Liquidation price (well beyond the stop)", price(s.liquidation_price)),
    ])
    return Example(md, v)


def stop_loss_hit(ctx: ExampleContext) -> Example:
    """A sized long with an attached stop-loss; the engine triggers it when the price falls through."""
    ex = _exchange(ctx, 10)
    inst = ex.instruments[ctx.symbol]
    stop = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.98"))
    s = size_position(inst, ctx.balance, ctx.price, stop, risk_pct=Decimal(1), leverage=10)
    ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=s.quantity, stop_loss=stop))
    below = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.97"))
    events = _tick_to(ex, ctx, below)
    exits = [f for f in _fills(events)]
    after = ex.account().wallet_balance
    v = {"stop": stop, "quantity": s.quantity, "exit_price": exits[0].price if exits else None,
         "wallet_after": after, "loss": ctx.balance - after, "risk_amount": s.risk_amount}
    md = _table([
        ("Position", f"long {qty(s.quantity)} {ctx.symbol} at about {price(ctx.price)}, stop-loss at {price(stop)}"),
        ("The price falls to", price(below)),
        ("Stop filled at", price(v["exit_price"])),
        ("Wallet after", f"{usdt(after)} USDT"),
        ("Loss, fees included", f"{usdt(ctx.balance - after)} USDT (the 1% budget was {usdt(s.risk_amount)})"),
    ])
    return Example(md, v)


def risk_reward_example(ctx: ExampleContext) -> Example:
    """A stop 2% below and a take-profit 4% above, sized to 1R = 1% of the equity."""
    ex = _exchange(ctx, 10)
    inst = ex.instruments[ctx.symbol]
    stop = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.98"))
    tp = _round_tick(ex, ctx.symbol, ctx.price * Decimal("1.04"))
    s = size_position(inst, ctx.balance, ctx.price, stop, risk_pct=Decimal(1), leverage=10, take_profit=tp)
    assert s.preview is not None
    v = {"stop": stop, "take_profit": tp, "quantity": s.quantity, "loss_at_stop": s.loss_at_stop,
         "profit_at_take_profit": s.preview.profit_at_take_profit, "r_multiple": s.r_multiple}
    md = _table([
        ("Entry / stop / take-profit", f"{price(ctx.price)} / {price(stop)} / {price(tp)}"),
        ("Quantity (1% risk)", qty(s.quantity)),
        ("1R: expected loss at the stop", f"{usdt(s.loss_at_stop)} USDT"),
        ("Profit at the take-profit", f"{usdt(s.preview.profit_at_take_profit)} USDT"),
        ("Reward-to-risk", "--" if s.r_multiple is None else f"{s.r_multiple.quantize(Decimal('0.01'))} R"),
    ])
    return Example(md, v)


# -- Orders --------------------------------------------------------------------------------------------------


def market_order(ctx: ExampleContext) -> Example:
    """A market buy fills at once against the book the fill model assumes (spread, size, liquidity)."""
    ex = _exchange(ctx, 10)
    q = _qty_for(ex, ctx.symbol, Decimal(1000), ctx.price)
    r = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=q))
    f = _fills(r.events)[0]
    v = {"quantity": q, "last": ctx.price, "fill_price": f.price, "fee": f.fee}
    md = _table([
        ("Last price", price(ctx.price)),
        ("Order", f"MARKET buy {qty(q)} {ctx.symbol}"),
        ("Filled at", f"{price(f.price)} (at once, {f.role.value.lower()})"),
        ("Fee (taker 0.05%)", f"{usdt(f.fee)} USDT"),
    ])
    return Example(md, v)


def limit_order(ctx: ExampleContext) -> Example:
    """A buy limit 0.5% below the price rests, then fills when the price trades down to it: maker fee."""
    ex = _exchange(ctx, 10)
    lim = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.995"))
    q = _qty_for(ex, ctx.symbol, Decimal(1000), ctx.price)
    r = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.LIMIT, quantity=q, price=lim,
                               time_in_force=TimeInForce.GTC))
    rested = not _fills(r.events)
    events = _tick_to(ex, ctx, _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.99")))
    f = _fills(events)[0]
    v = {"limit": lim, "quantity": q, "fill_price": f.price, "fee": f.fee, "rested": Decimal(int(rested))}
    md = _table([
        ("Last price", price(ctx.price)),
        ("Order", f"LIMIT buy {qty(q)} at {price(lim)}, GTC"),
        ("When placed", "rests in the book (nothing fills above the limit)" if rested else "filled"),
        ("The price trades down through", price(lim)),
        ("Filled at", price(f.price)),
        ("Fee", f"{usdt(f.fee)} USDT ({f.role.value.lower()})"),
    ])
    return Example(md, v)


def stop_market(ctx: ExampleContext) -> Example:
    """A sell STOP_MARKET 2% below a long triggers when the last price reaches it and fills as a market order."""
    ex, _ = _open_long(ctx, 10, ctx.balance / 100, MarginMode.ISOLATED)
    pos = ex.position(ctx.symbol)
    stop = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.98"))
    ex.submit(OrderRequest(ctx.symbol, Side.SELL, OrderType.STOP_MARKET, quantity=pos.size, stop_price=stop,
                           reduce_only=True))
    events = _tick_to(ex, ctx, _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.975")))
    f = _fills(events)[0]
    v = {"stop": stop, "quantity": pos.size, "fill_price": f.price, "realized_pnl": f.realized_pnl, "fee": f.fee}
    md = _table([
        ("Position", f"long {qty(pos.size)} at {price(pos.entry_price)}"),
        ("Order", f"STOP_MARKET sell {qty(pos.size)}, stopPrice {price(stop)}, reduce-only"),
        ("Triggered when the last price reached", price(stop)),
        ("Filled at", price(f.price)),
        ("Realized PnL / fee", f"{usdt(f.realized_pnl)} / {usdt(f.fee)} USDT"),
    ])
    return Example(md, v)


def take_profit(ctx: ExampleContext) -> Example:
    """A sell TAKE_PROFIT_MARKET 3% above a long closes it in profit when the price rises to it."""
    ex, _ = _open_long(ctx, 10, ctx.balance / 100, MarginMode.ISOLATED)
    pos = ex.position(ctx.symbol)
    tp = _round_tick(ex, ctx.symbol, ctx.price * Decimal("1.03"))
    ex.submit(OrderRequest(ctx.symbol, Side.SELL, OrderType.TAKE_PROFIT_MARKET, quantity=pos.size, stop_price=tp,
                           reduce_only=True))
    events = _tick_to(ex, ctx, _round_tick(ex, ctx.symbol, ctx.price * Decimal("1.035")))
    f = _fills(events)[0]
    v = {"take_profit": tp, "quantity": pos.size, "fill_price": f.price, "realized_pnl": f.realized_pnl}
    md = _table([
        ("Position", f"long {qty(pos.size)} at {price(pos.entry_price)}"),
        ("Order", f"TAKE_PROFIT_MARKET sell {qty(pos.size)}, stopPrice {price(tp)}, reduce-only"),
        ("Filled at", price(f.price)),
        ("Realized PnL (before the fee)", f"{usdt(f.realized_pnl)} USDT"),
    ])
    return Example(md, v)


def reduce_only(ctx: ExampleContext) -> Example:
    """A reduce-only sell larger than the long only closes the long; the rest expires instead of opening a short."""
    ex, _ = _open_long(ctx, 10, ctx.balance / 100, MarginMode.ISOLATED)
    pos = ex.position(ctx.symbol)
    big = pos.size * 3
    r = ex.submit(OrderRequest(ctx.symbol, Side.SELL, OrderType.MARKET, quantity=big, reduce_only=True))
    assert r.order is not None
    after = ex.position(ctx.symbol)
    v = {"position": pos.size, "order_qty": big, "executed": r.order.executed_qty, "after": after.quantity}
    md = _table([
        ("Position", f"long {qty(pos.size)} {ctx.symbol}"),
        ("Order", f"MARKET sell {qty(big)}, reduce-only"),
        ("Executed", qty(r.order.executed_qty)),
        ("Status", f"{r.order.status.value}: the rest could only have opened a short"),
        ("Position after", qty(after.quantity)),
    ])
    return Example(md, v)


def post_only(ctx: ExampleContext) -> Example:
    """A post-only (GTX) buy above the price would take liquidity: rejected with -5022; below it, it rests."""
    ex = _exchange(ctx, 10)
    q = _qty_for(ex, ctx.symbol, Decimal(1000), ctx.price)
    above = _round_tick(ex, ctx.symbol, ctx.price * Decimal("1.001"))
    below = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.999"))
    r1 = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.LIMIT, quantity=q, price=above,
                                time_in_force=TimeInForce.GTX))
    r2 = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.LIMIT, quantity=q, price=below,
                                time_in_force=TimeInForce.GTX))
    rej = [e for e in r1.events if isinstance(e, OrderRejected)]
    v = {"above": above, "below": below, "rejected_code": Decimal(rej[0].code.value) if rej else None,
         "rests": Decimal(int(r2.ok and r2.order is not None and not _fills(r2.events)))}
    md = _table([
        ("Last price", price(ctx.price)),
        (f"Post-only buy at {price(above)}", f"rejected {rej[0].code.value}: {rej[0].msg}" if rej else "accepted"),
        (f"Post-only buy at {price(below)}", "rests in the book; it can only fill as maker"),
    ])
    return Example(md, v)


def time_in_force(ctx: ExampleContext) -> Example:
    """The same limit buy below the price as GTC (rests) and as IOC (expires at once: nothing to fill now)."""
    ex = _exchange(ctx, 10)
    q = _qty_for(ex, ctx.symbol, Decimal(1000), ctx.price)
    below = _round_tick(ex, ctx.symbol, ctx.price * Decimal("0.995"))
    out = {}
    for tif in (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK):
        r = ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.LIMIT, quantity=q, price=below, time_in_force=tif))
        out[tif] = r.order.status.value if r.order is not None else f"rejected {r.rejection.code.value}"
    v = {"price": below, "quantity": q}
    md = _table([(f"LIMIT buy {qty(q)} at {price(below)} ({tif.value})", status) for tif, status in out.items()])
    return Example(md + f"\n\nLast price {price(ctx.price)}: nothing can fill at {price(below)} now.", v)


# -- Costs ----------------------------------------------------------------------------------------------------


def fees_example(ctx: ExampleContext) -> Example:
    """The same 10,000 USDT notional bought by a market order (taker) and by a resting limit (maker)."""
    ex = _exchange(ctx, 10)
    q = _qty_for(ex, ctx.symbol, Decimal(10_000), ctx.price)
    taker = _fills(ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=q)).events)[0]
    ex2 = _exchange(ctx, 10)
    lim = _round_tick(ex2, ctx.symbol, ctx.price * Decimal("0.999"))
    ex2.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.LIMIT, quantity=q, price=lim,
                            time_in_force=TimeInForce.GTC))
    maker = _fills(_tick_to(ex2, ctx, _round_tick(ex2, ctx.symbol, ctx.price * Decimal("0.998"))))[0]
    v = {"quantity": q, "taker_price": taker.price, "taker_fee": taker.fee, "maker_price": maker.price,
         "maker_fee": maker.fee}
    md = "\n".join([
        f"Buy {qty(q)} {ctx.symbol} (about 10,000 USDT):",
        "",
        "| How | Filled at | Role | Fee (USDT) |",
        "|---|---:|---|---:|",
        f"| MARKET | {price(taker.price)} | {taker.role.value.lower()} | {usdt(taker.fee)} |",
        f"| LIMIT at {price(lim)}, filled later | {price(maker.price)} | {maker.role.value.lower()} "
        f"| {usdt(maker.fee)} |",
        "",
        "A round trip (in and out) pays a fee twice.",
    ])
    return Example(md, v)


def funding_example(ctx: ExampleContext) -> Example:
    """A long held across a funding instant at +0.01%: the engine settles mark × size × rate."""
    start = ctx.ts_ms - ctx.ts_ms % (8 * HOUR_MS) + 8 * HOUR_MS - 60_000  # one minute before the next instant
    ex = Exchange(ctx.balance, start_ms=start)
    ex.set_funding_rate(ctx.symbol, Decimal("0.0001"))
    ex.on_tick(ctx.symbol, start, ctx.price)
    ex.set_leverage(ctx.symbol, 10)
    q = _qty_for(ex, ctx.symbol, Decimal(10_000), ctx.price)
    ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=q))
    events = ex.on_tick(ctx.symbol, start + 120_000, ctx.price)
    settled = [e for e in events if isinstance(e, FundingSettled)]
    f = settled[0]
    v = {"quantity": q, "mark": f.mark_price, "rate": f.funding_rate, "amount": f.amount}
    md = _table([
        ("Position at the funding instant", f"long {qty(q)} {ctx.symbol}"),
        ("Mark price", price(f.mark_price)),
        ("Funding rate", pct(f.funding_rate, 4)),
        ("Funding = mark × size × rate", f"{usdt(abs(f.amount))} USDT {'paid' if f.amount < 0 else 'received'}"),
        ("Per day (3 settlements) at this rate", f"{usdt(abs(f.amount) * 3)} USDT"),
    ])
    return Example(md, v)


def slippage_example(ctx: ExampleContext) -> Example:
    """Market buys of growing size against the same liquidity: the bigger the order, the worse the average fill."""
    rows, v = [], {}
    for notional in (Decimal(1_000), Decimal(100_000), Decimal(1_000_000)):
        ex = Exchange(ctx.balance * 1000, start_ms=ctx.ts_ms)
        ex.on_tick(ctx.symbol, ctx.ts_ms, ctx.price, bar_volume=Decimal(10))
        ex.set_leverage(ctx.symbol, 10)
        q = _qty_for(ex, ctx.symbol, notional, ctx.price)
        fills = _fills(ex.submit(OrderRequest(ctx.symbol, Side.BUY, OrderType.MARKET, quantity=q)).events)
        traded = sum((f.quantity for f in fills), ZERO)
        avg = sum((f.price * f.quantity for f in fills), ZERO) / traded
        slip = (avg - ctx.price) * traded
        v[f"avg_{notional}"] = avg
        v[f"slippage_{notional}"] = slip
        share = pct((avg - ctx.price) / ctx.price, 3)
        rows.append(f"| {usdt(notional)} | {qty(q)} | {price(avg)} | {usdt(slip)} | {share} |")
    md = "\n".join([
        f"Market buys at a last price of {price(ctx.price)}, with 10 {ctx.symbol[:-4]} a minute trading:",
        "",
        "| Notional (USDT) | Quantity | Average fill | Slippage (USDT) | Slippage |",
        "|---:|---:|---:|---:|---:|",
        *rows,
    ])
    return Example(md, v)


EXAMPLES: dict[str, Callable[[ExampleContext], Example]] = {
    "isolated_long": isolated_long,
    "cross_long": cross_long,
    "leverage_table": leverage_table,
    "initial_margin": initial_margin_example,
    "maintenance_table": maintenance_table,
    "liquidation_isolated": liquidation_isolated,
    "liquidation_price": liquidation_price_formula,
    "mark_vs_last": mark_vs_last,
    "margin_ratio": margin_ratio_path,
    "sizing_one_percent": sizing_one_percent,
    "stop_loss_hit": stop_loss_hit,
    "risk_reward": risk_reward_example,
    "market_order": market_order,
    "limit_order": limit_order,
    "stop_market": stop_market,
    "take_profit": take_profit,
    "reduce_only": reduce_only,
    "post_only": post_only,
    "time_in_force": time_in_force,
    "fees": fees_example,
    "funding": funding_example,
    "slippage": slippage_example,
}
"""Every example a page may name as ``{{example:NAME}}``."""
