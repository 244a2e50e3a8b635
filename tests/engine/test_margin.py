"""Binance's margin arithmetic against the reference's worked examples (binance-futures.md §1, §6)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest

from hexdesk.engine import margin
from hexdesk.engine.instruments import Instrument, default_instruments, parse_brackets

BTC = default_instruments()["BTCUSDT"]
ETH = default_instruments()["ETHUSDT"]
REL = D("1e-12")


def q4(x: D) -> D:
    return x.quantize(D("0.0001"), rounding=ROUND_HALF_UP)


def q2(x: D) -> D:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def margin_balance_minus_mm(
    inst: Instrument, qty: D, entry: D, wallet: D, price: D, other_mm: D = D(0), other_upnl: D = D(0)
) -> D:
    """MB − MM of the position at mark ``price`` (cross: less the others' MM): 0 at the liquidation price."""
    mb = wallet + other_upnl + margin.unrealized_pnl(qty, entry, price)
    return mb - other_mm - margin.maintenance_margin(inst, abs(qty) * price)


def assert_liquidates_at(
    inst: Instrument, qty: D, entry: D, wallet: D, price: D, other_mm: D = D(0), other_upnl: D = D(0)
) -> None:
    gap = margin_balance_minus_mm(inst, qty, entry, wallet, price, other_mm, other_upnl)
    mm = margin.maintenance_margin(inst, abs(qty) * price) + other_mm
    assert abs(gap) <= REL * mm, gap


def tiers(*table: tuple[int, int, int, str, int]):
    """Brackets from (floor, cap, max leverage, MMR, cum) rows, through the real parser (cum recursion checked)."""
    return parse_brackets(
        {"bracket": i, "notionalFloor": f, "notionalCap": c, "initialLeverage": lev, "maintMarginRatio": r, "cum": cum}
        for i, (f, c, lev, r, cum) in enumerate(table, start=1)
    )


# -- §6 worked examples, BTCUSDT current table -----------------------------------------------------------

ISOLATED = [
    # id, signed qty, entry, isolated wallet, LP to 4 dp
    ("V1 isolated long 10x tier 1", "1", "60000", "6000", "54216.8675"),
    ("V2 isolated short 20x tier 1", "-2", "60000", "6000", "62749.0040"),
    ("V3 isolated long 150x", "0.1", "60000", "40", "59839.3574"),
    ("V4 isolated long 100x tier 2", "5", "100000", "5000", "99437.1859"),
    ("V5 isolated short 50x tier 3", "-20", "100000", "40000", "101415.7973"),
]


@pytest.mark.parametrize(("qty", "entry", "wallet", "want"), [c[1:] for c in ISOLATED], ids=[c[0] for c in ISOLATED])
def test_isolated_worked_examples(qty: str, entry: str, wallet: str, want: str):
    lp = margin.liquidation_price(BTC, D(qty), D(entry), D(wallet))
    assert lp is not None
    assert q4(lp) == D(want)
    assert_liquidates_at(BTC, D(qty), D(entry), D(wallet), lp)


def test_worked_example_tiers_are_the_stated_ones():
    assert BTC.bracket_for_notional(D(5) * D("99437.1859")).bracket == 2  # V4: MMR 0.5%, cum 300
    assert BTC.bracket_for_notional(D(20) * D("101415.7973")).bracket == 3  # V5: MMR 0.65%, cum 1,500


def test_v1_by_hand():
    # LP = (6000 + 0 − 60000)/(1·0.004 − 1) = −54000/−0.996
    lp = margin.liquidation_price(BTC, D(1), D(60000), D(6000))
    assert lp == D(-54000) / D("-0.996")
    assert q4(lp - D(60000) + D(6000)) == q4(lp * D("0.004")) == D("216.8675")


def test_v7_cross_long_with_another_position():
    # ETHUSDT short 10 @ 3,000, mark 3,100, illustrative MMR 0.5% / cum 0: TMM1 = 155, UPNL1 = −1,000.
    eth = replace(ETH, brackets=tiers((0, 10**12, 150, "0.005", 0)))
    other_mm = margin.maintenance_margin(eth, D(10) * D(3100))
    other_upnl = margin.unrealized_pnl(D(-10), D(3000), D(3100))
    assert (other_mm, other_upnl) == (D(155), D(-1000))
    lp = margin.liquidation_price(BTC, D("0.5"), D(60000), D(10000), other_mm, other_upnl)
    assert lp is not None
    assert q4(lp) == D("42479.9197")
    assert_liquidates_at(BTC, D("0.5"), D(60000), D(10000), lp, other_mm, other_upnl)


# -- Binance's own FAQ example (older tier tables) --------------------------------------------------------

# BTCUSDT as published 2021-03-18 (§1.6 b): cum 0, 50, 1,300, 16,300, 266,300, ...
OLD_BTC = replace(
    BTC,
    brackets=tiers(
        (0, 50_000, 125, "0.004", 0),
        (50_000, 250_000, 100, "0.005", 50),
        (250_000, 1_000_000, 50, "0.01", 1_300),
        (1_000_000, 10_000_000, 20, "0.025", 16_300),
        (10_000_000, 20_000_000, 10, "0.05", 266_300),
        (20_000_000, 50_000_000, 5, "0.10", 1_266_300),
        (50_000_000, 100_000_000, 4, "0.125", 2_516_300),
        (100_000_000, 200_000_000, 3, "0.15", 5_016_300),
        (200_000_000, 300_000_000, 2, "0.25", 25_016_300),
        (300_000_000, 500_000_000, 1, "0.50", 100_016_300),
    ),
)
# An ETHUSDT table of that era whose 2M-5M tier is MMR 10% / cum 135,365.
OLD_ETH = replace(
    ETH,
    brackets=tiers(
        (0, 10_000, 100, "0.005", 0),
        (10_000, 100_000, 75, "0.0065", 15),
        (100_000, 500_000, 50, "0.01", 365),
        (500_000, 1_000_000, 25, "0.02", 5_365),
        (1_000_000, 2_000_000, 10, "0.05", 35_365),
        (2_000_000, 5_000_000, 5, "0.10", 135_365),
    ),
)
FAQ_WALLET = D("1535443.01")
FAQ_BTC = (D("109.488"), D("32481.98"), D("31967.27"))  # qty, entry, mark
FAQ_ETH = (D("3683.979"), D("1456.84"), D("1335.18"))


def test_faq_tables_give_the_faq_tiers():
    for inst, (qty, _, mark), mmr, cum in ((OLD_BTC, FAQ_BTC, "0.025", 16_300), (OLD_ETH, FAQ_ETH, "0.10", 135_365)):
        b = inst.bracket_for_notional(qty * mark)
        assert (b.maint_margin_ratio, b.cum) == (D(mmr), D(cum))
    # The FAQ's examples of that era: a 264,000 position has MMR 1%; a 500,000 position has cum 1,300.
    assert OLD_BTC.bracket_for_notional(D(264_000)).maint_margin_ratio == D("0.01")
    assert OLD_BTC.bracket_for_notional(D(500_000)).cum == D(1_300)


@pytest.mark.parametrize(
    ("inst", "this", "other_inst", "other", "want"),
    [(OLD_BTC, FAQ_BTC, OLD_ETH, FAQ_ETH, "26316.89"), (OLD_ETH, FAQ_ETH, OLD_BTC, FAQ_BTC, "1153.26")],
    ids=["BTC", "ETH"],
)
def test_binance_faq_cross_example(inst, this, other_inst, other, want):
    qty, entry, _ = this
    o_qty, o_entry, o_mark = other
    other_mm = margin.maintenance_margin(other_inst, o_qty * o_mark)
    other_upnl = margin.unrealized_pnl(o_qty, o_entry, o_mark)
    lp = margin.liquidation_price(inst, qty, entry, FAQ_WALLET, other_mm, other_upnl)
    assert lp is not None
    assert q2(lp) == D(want)
    assert inst.bracket_for_notional(qty * lp) == inst.bracket_for_notional(qty * this[2])  # same tier at LP
    assert_liquidates_at(inst, qty, entry, FAQ_WALLET, lp, other_mm, other_upnl)


# -- the tier re-check (§1.2) ----------------------------------------------------------------------------


def _solve_with(b, qty: D, entry: D, wallet: D) -> D:
    side = 1 if qty > 0 else -1
    size = abs(qty)
    return (wallet + b.cum - side * size * entry) / (size * b.maint_margin_ratio - side * size)


@pytest.mark.parametrize(
    ("qty", "entry", "wallet", "entry_tier", "lp_tier"),
    [
        # A 10x short of 295,000 (tier 1): the price must rise ~9.6% to liquidate it, so its notional at the
        # liquidation price is ~323,000, in tier 2.
        ("-5", "59000", "29500", 1, 2),
        # A 10x long of 305,000 (tier 2) liquidates at a notional of ~275,600, in tier 1.
        ("5", "61000", "30500", 2, 1),
        # A 20x short of 2,990,000 (tier 3) crosses 3,000,000 into tier 4 on the way up.
        ("-50", "59800", "149500", 3, 4),
    ],
)
def test_tier_recheck(qty: str, entry: str, wallet: str, entry_tier: int, lp_tier: int):
    q, ep, wb = D(qty), D(entry), D(wallet)
    first = BTC.bracket_for_notional(abs(q) * ep)
    assert first.bracket == entry_tier
    naive = _solve_with(first, q, ep, wb)
    assert BTC.bracket_for_notional(abs(q) * naive).bracket == lp_tier  # the entry tier's answer is out of its tier

    lp = margin.liquidation_price(BTC, q, ep, wb)
    assert lp is not None
    right = BTC.brackets[lp_tier - 1]
    assert lp == _solve_with(right, q, ep, wb)
    assert lp != naive
    assert BTC.bracket_for_notional(abs(q) * lp) == right
    # MB − MM = 0 at the returned price, MM taken with the tier the notional at that price falls in.
    mb = wb + margin.unrealized_pnl(q, ep, lp)
    mm = abs(q) * lp * right.maint_margin_ratio - right.cum
    assert abs(mb - mm) <= REL * mm
    assert_liquidates_at(BTC, q, ep, wb, lp)


def test_no_liquidation_price_for_an_unleveraged_long():
    assert margin.liquidation_price(BTC, D(1), D(60000), D(60000)) is None
    assert margin.liquidation_price(BTC, D(0), D(60000), D(1000)) is None


def test_short_with_huge_margin_still_has_a_liquidation_price():
    lp = margin.liquidation_price(BTC, D(-1), D(60000), D(60000))
    assert lp is not None and lp > D(60000) * 2 - 1000
    assert_liquidates_at(BTC, D(-1), D(60000), D(60000), lp)


# -- brackets: boundaries and continuity -----------------------------------------------------------------


def test_notional_exactly_at_a_cap_is_the_lower_tier():
    assert BTC.bracket_for_notional(D(300_000)).bracket == 1
    assert BTC.bracket_for_notional(D(300_000)).max_leverage == 150
    assert BTC.max_notional_for_leverage(150) == D(300_000)
    assert BTC.bracket_for_notional(D("300000.001")).bracket == 2


@pytest.mark.parametrize("inst", [BTC, ETH, OLD_BTC, OLD_ETH], ids=["BTC", "ETH", "BTC-2021", "ETH-old"])
def test_maintenance_margin_is_continuous_across_every_boundary(inst: Instrument):
    eps = D("0.000001")
    for lower, upper in itertools.pairwise(inst.brackets):
        cap = lower.notional_cap
        at_lower = cap * lower.maint_margin_ratio - lower.cum
        at_upper = cap * upper.maint_margin_ratio - upper.cum
        assert at_lower == at_upper == margin.maintenance_margin(inst, cap)
        just_above = margin.maintenance_margin(inst, cap + eps)
        assert abs(just_above - at_lower) <= eps * upper.maint_margin_ratio


def test_maintenance_margin():
    assert margin.maintenance_margin(BTC, D(60_000)) == D(240)  # 0.4%, tier 1
    assert margin.maintenance_margin(BTC, D(-60_000)) == D(240)  # sign of the notional ignored
    assert margin.maintenance_margin(BTC, D(300_000)) == D(1_200)
    assert margin.maintenance_margin(BTC, D(600_000)) == D(2_700)  # 0.5% × 600,000 − 300
    assert margin.maintenance_margin(BTC, D(0)) == 0


def test_initial_margin():
    assert margin.initial_margin(D(60_000), 10) == D(6_000)
    assert margin.initial_margin(D(-60_000), 150) == D(400)


# -- cost to open (§1.5) ---------------------------------------------------------------------------------


def test_order_cost_binance_example():
    # 1 BTC at 9,253.30, 20x, mark 9,259.84.
    price, mark = D("9253.30"), D("9259.84")
    assert margin.initial_margin(price, 20) == D("462.665")
    assert margin.open_loss(+1, D(1), price, mark) == 0
    assert margin.open_loss(-1, D(1), price, mark) == D("6.54")
    assert margin.order_cost(+1, D(1), price, mark, 20) == D("462.665")
    assert margin.order_cost(-1, D(1), price, mark, 20) == D("469.205")


def test_open_loss_scales_with_quantity_and_mirrors_for_the_other_side():
    assert margin.open_loss(+1, D(2), D(101), D(100)) == D(2)  # buying above the mark
    assert margin.open_loss(-1, D(2), D(101), D(100)) == 0
    assert margin.open_loss(-1, D(-2), D(99), D(100)) == D(2)  # selling below the mark; qty sign ignored


def test_unrealized_pnl_and_margin_ratio():
    assert margin.unrealized_pnl(D(-2), D(60000), D(61000)) == D(-2000)
    assert margin.margin_ratio(D(100), D(400)) == D("0.25")
    assert margin.margin_ratio(D(100), D(0)) == D("Infinity")
    assert margin.margin_ratio(D(0), D(-5)) == 0


# -- bankruptcy price ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "entry", "wallet", "want"),
    [("1", "60000", "6000", "54000"), ("-2", "60000", "6000", "63000"), ("0.1", "60000", "40", "59600")],
)
def test_bankruptcy_price(qty: str, entry: str, wallet: str, want: str):
    bp = margin.bankruptcy_price(D(qty), D(entry), D(wallet))
    assert bp == D(want)
    assert D(wallet) + margin.unrealized_pnl(D(qty), D(entry), bp) == 0  # margin balance exactly 0


def test_bankruptcy_price_lies_beyond_the_liquidation_price():
    for _, qty, entry, wallet, _ in ISOLATED:
        lp = margin.liquidation_price(BTC, D(qty), D(entry), D(wallet))
        bp = margin.bankruptcy_price(D(qty), D(entry), D(wallet))
        assert lp is not None and bp is not None
        assert (lp > bp) if D(qty) > 0 else (lp < bp)


def test_bankruptcy_price_none():
    assert margin.bankruptcy_price(D(0), D(60000), D(100)) is None
    assert margin.bankruptcy_price(D(1), D(60000), D(60000)) is None  # fully funded long never goes bankrupt


def test_bankruptcy_price_with_other_upnl():
    # Cross: the other positions' profit moves the bankruptcy price away.
    assert margin.bankruptcy_price(D(1), D(60000), D(6000), D(1000)) == D(53000)
