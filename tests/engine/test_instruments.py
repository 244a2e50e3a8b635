"""The bundled instrument snapshot against the reference tables (binance-futures.md §1.6, §3.3)."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from hexdesk.engine.instruments import (
    Bracket,
    Instrument,
    bundled_snapshot,
    default_instruments,
    parse_brackets,
    parse_snapshot,
)

INSTRUMENTS = default_instruments()
BTC = INSTRUMENTS["BTCUSDT"]
ETH = INSTRUMENTS["ETHUSDT"]

# (floor, cap, max leverage, MMR, cum) from reference §1.6 (a) and (a2).
BTC_TABLE = [
    (0, 300_000, 150, "0.004", 0),
    (300_000, 800_000, 100, "0.005", 300),
    (800_000, 3_000_000, 75, "0.0065", 1_500),
    (3_000_000, 12_000_000, 50, "0.01", 12_000),
    (12_000_000, 70_000_000, 25, "0.02", 132_000),
    (70_000_000, 100_000_000, 20, "0.025", 482_000),
    (100_000_000, 230_000_000, 10, "0.05", 2_982_000),
    (230_000_000, 480_000_000, 5, "0.10", 14_482_000),
    (480_000_000, 600_000_000, 4, "0.125", 26_482_000),
    (600_000_000, 800_000_000, 3, "0.15", 41_482_000),
    (800_000_000, 1_200_000_000, 2, "0.25", 121_482_000),
    (1_200_000_000, 1_800_000_000, 1, "0.50", 421_482_000),
]
ETH_TABLE = [
    (0, 300_000, 150, "0.004", 0),
    (300_000, 800_000, 100, "0.005", 300),
    (800_000, 3_000_000, 75, "0.0065", 1_500),
    (3_000_000, 12_000_000, 50, "0.01", 12_000),
    (12_000_000, 50_000_000, 25, "0.02", 132_000),
    (50_000_000, 65_000_000, 20, "0.025", 382_000),
    (65_000_000, 150_000_000, 10, "0.05", 2_007_000),
    (150_000_000, 320_000_000, 5, "0.10", 9_507_000),
    (320_000_000, 400_000_000, 4, "0.125", 17_507_000),
    (400_000_000, 530_000_000, 3, "0.15", 27_507_000),
    (530_000_000, 800_000_000, 2, "0.25", 80_507_000),
    (800_000_000, 1_200_000_000, 1, "0.50", 280_507_000),
]


def rows(table):
    """leverageBracket ``brackets`` rows as Binance sends them."""
    return [
        {
            "bracket": i,
            "initialLeverage": lev,
            "notionalCap": cap,
            "notionalFloor": floor,
            "maintMarginRatio": mmr,
            "cum": str(cum),
        }
        for i, (floor, cap, lev, mmr, cum) in enumerate(table, start=1)
    ]


# -- the snapshot ----------------------------------------------------------------------------------------


def test_bundled_snapshot_parses():
    snap = bundled_snapshot()
    assert snap.captured_at
    assert snap.sources
    assert {"BTCUSDT", "ETHUSDT"} <= set(snap.instruments)
    for symbol, inst in snap.instruments.items():
        assert isinstance(inst, Instrument)
        assert inst.symbol == symbol
        assert inst.brackets
        assert inst.quote_asset == "USDT"


def test_default_instruments_is_a_fresh_copy():
    mine = default_instruments()
    mine.pop("BTCUSDT")
    assert "BTCUSDT" in default_instruments()


def test_btcusdt_filters_equal_the_reference():
    assert (BTC.base_asset, BTC.quote_asset) == ("BTC", "USDT")
    assert (BTC.tick_size, BTC.min_price, BTC.max_price) == (D("0.10"), D("556.80"), D("4529764"))
    assert (BTC.step_size, BTC.min_qty, BTC.max_qty) == (D("0.001"), D("0.001"), D("1000"))
    assert (BTC.market_step_size, BTC.market_min_qty, BTC.market_max_qty) == (D("0.001"), D("0.001"), D("120"))
    assert BTC.min_notional == D("50")
    assert (BTC.multiplier_up, BTC.multiplier_down) == (D("1.05"), D("0.95"))
    assert BTC.max_num_orders == 200
    assert (BTC.price_precision, BTC.quantity_precision) == (2, 3)
    assert BTC.liquidation_fee == D("0.0125")
    assert BTC.market_take_bound == D("0.05")
    assert BTC.trigger_protect == D("0.05")
    assert (BTC.maker_fee, BTC.taker_fee) == (D("0.0002"), D("0.0005"))
    assert (BTC.funding_rate_cap, BTC.funding_rate_floor, BTC.funding_interval_hours) == (D("0.003"), D("-0.003"), 8)
    assert BTC.max_leverage == 150


def test_ethusdt_filters_equal_the_reference():
    assert (ETH.base_asset, ETH.quote_asset) == ("ETH", "USDT")
    assert (ETH.tick_size, ETH.min_price, ETH.max_price) == (D("0.01"), D("39.86"), D("306177"))
    assert (ETH.step_size, ETH.min_qty, ETH.max_qty) == (D("0.001"), D("0.001"), D("10000"))
    assert (ETH.market_step_size, ETH.market_min_qty, ETH.market_max_qty) == (D("0.001"), D("0.001"), D("2000"))
    assert ETH.min_notional == D("20")
    assert (ETH.multiplier_up, ETH.multiplier_down) == (D("1.05"), D("0.95"))
    assert (ETH.price_precision, ETH.quantity_precision) == (2, 3)
    assert ETH.liquidation_fee == D("0.0125")
    assert ETH.market_take_bound == D("0.05")
    assert ETH.trigger_protect == D("0.05")
    assert ETH.max_leverage == 150


@pytest.mark.parametrize(("inst", "table"), [(BTC, BTC_TABLE), (ETH, ETH_TABLE)], ids=["BTCUSDT", "ETHUSDT"])
def test_brackets_equal_the_reference_tables(inst: Instrument, table):
    got = [(b.notional_floor, b.notional_cap, b.max_leverage, b.maint_margin_ratio, b.cum) for b in inst.brackets]
    want = [(D(f), D(c), lev, D(r), D(cum)) for f, c, lev, r, cum in table]
    assert got == want
    assert [b.bracket for b in inst.brackets] == list(range(1, len(table) + 1))


# -- the cum recursion -----------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", sorted(INSTRUMENTS))
def test_every_bracket_table_satisfies_the_cum_recursion(symbol: str):
    brackets = INSTRUMENTS[symbol].brackets
    assert brackets[0].notional_floor == 0
    assert brackets[0].cum == 0
    for prev, cur in itertools.pairwise(brackets):
        assert cur.notional_floor == prev.notional_cap  # contiguous
        assert cur.maint_margin_ratio > prev.maint_margin_ratio
        assert cur.max_leverage < prev.max_leverage
        assert cur.cum == cur.notional_floor * (cur.maint_margin_ratio - prev.maint_margin_ratio) + prev.cum


def test_binance_cum_example():
    # §1.1: 250,000 × (1% − 0.5%) + 50 = 1,300.
    old = parse_brackets(
        rows(
            [(0, 50_000, 125, "0.004", 0), (50_000, 250_000, 100, "0.005", 50), (250_000, 1_000_000, 50, "0.01", 1300)]
        )
    )
    assert old[2].cum == D(1300)


def test_parse_brackets_sorts_by_bracket_number():
    parsed = parse_brackets(list(reversed(rows(BTC_TABLE))))
    assert parsed == BTC.brackets
    assert all(isinstance(b, Bracket) for b in parsed)


@pytest.mark.parametrize("tier", [2, 7, 12])
def test_parse_brackets_rejects_a_broken_cum(tier: int):
    broken = rows(BTC_TABLE)
    broken[tier - 1]["cum"] = str(D(broken[tier - 1]["cum"]) + 1)
    with pytest.raises(ValueError, match=f"bracket {tier}: cum"):
        parse_brackets(broken)


def test_parse_snapshot_rejects_a_broken_cum():
    import copy
    import json
    from importlib import resources

    doc = json.loads(resources.files("hexdesk.engine").joinpath("data/binance-usdm-2026-09.json").read_text("utf-8"))
    doc = copy.deepcopy(doc)
    doc["leverageBracket"][0]["brackets"][3]["cum"] = "12001"
    with pytest.raises(ValueError, match="breaks the recursion"):
        parse_snapshot(doc)


# -- tiers and leverage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leverage", "cap"),
    [
        (150, 300_000),
        (100, 800_000),
        (75, 3_000_000),
        (50, 12_000_000),
        (25, 70_000_000),
        (20, 100_000_000),
        (10, 230_000_000),
        (5, 480_000_000),
        (4, 600_000_000),
        (3, 800_000_000),
        (2, 1_200_000_000),
        (1, 1_800_000_000),
    ],
)
def test_max_notional_for_leverage_matches_the_reference(leverage: int, cap: int):
    assert BTC.max_notional_for_leverage(leverage) == D(cap)


@pytest.mark.parametrize(("leverage", "cap"), [(125, 300_000), (101, 300_000), (60, 3_000_000), (11, 100_000_000)])
def test_max_notional_between_tier_leverages_uses_the_stricter_tier(leverage: int, cap: int):
    assert BTC.max_notional_for_leverage(leverage) == D(cap)


def test_max_notional_above_max_leverage_is_zero():
    assert BTC.max_notional_for_leverage(151) == 0


@pytest.mark.parametrize(
    ("notional", "tier"),
    [("0", 1), ("1", 1), ("300000", 1), ("300000.01", 2), ("800000", 2), ("800000.01", 3), ("1800000000", 12)],
)
def test_bracket_for_notional_floor_exclusive_cap_inclusive(notional: str, tier: int):
    assert BTC.bracket_for_notional(D(notional)).bracket == tier


def test_bracket_beyond_the_last_cap_is_the_last_tier():
    assert BTC.bracket_for_notional(D("5e9")).bracket == 12


def test_round_price_and_qty_round_down_onto_the_grid():
    assert BTC.round_price(D("60000.19")) == D("60000.1")
    assert BTC.round_qty(D("0.0129")) == D("0.012")
