"""Real funding history in replay: the real rate at the real instant; mark-price klines as the engine's mark."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import Side
from hexdesk.engine.events import FundingSettled, PositionLiquidated
from hexdesk.engine.orders import OrderRequest
from hexdesk.market import library
from hexdesk.market.funding import FundingFileError, FundingHistory, parse_rows, read_funding_csv
from hexdesk.market.paths import FUNDING
from hexdesk.service import open_replay_session
from tests.market.archive_server import FUNDING_HEADER, KLINE_HEADER, kline_rows

_ROOT = Path(__file__).resolve().parents[2]  # the repository; ../shared beside it (or beside its worktree folder)
_CANDIDATES = [r / "shared" / "data" / "futures" / "funding" for r in (_ROOT.parent, _ROOT.parent.parent)]
SHARED_FUNDING = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])
MAR2_0800 = 1_740_902_400_000  # 2025-03-02 08:00 UTC: the first settlement after the default replay start (03:00)
DEC1 = 1_733_011_200_000  # 2024-12-01 00:00 UTC


def _feed_until(desk, ts_ms: int) -> None:
    for tick in desk.replay.ticks():
        desk.feed([tick])
        if tick.ts_ms > ts_ms:
            return


# --- reading the archive ---------------------------------------------------------------------------------


def test_calc_time_jitter_rounds_to_the_instant_and_exponents_read_exactly() -> None:
    rows = parse_rows(["calc_time,funding_interval_hours,last_funding_rate",
                       "1740787200000,8,-1.4E-7", "1656633600001,8,-0.00008786", "1656662400017000,8,0.0001"],
                      "x.csv")  # fmt: skip
    assert [(r.instant_ms, r.rate) for r in rows] == [
        (1_656_633_600_000, D("-0.00008786")),
        (1_656_662_400_000, D("0.0001")),  # µs, and 17 ms late
        (1_740_787_200_000, D("-1.4E-7")),
    ]
    assert parse_rows(["1740787200000,8,0.0001"], "noheader.csv")[0].rate == D("0.0001")


def test_a_bad_funding_line_is_named() -> None:
    with pytest.raises(FundingFileError, match=r"f\.csv line 3: funding_interval_hours is not 1, 2, 4 or 8"):
        parse_rows([FUNDING_HEADER, "1740787200000,8,0.0001", "1740816000000,3,0.0001"], "f.csv")
    with pytest.raises(FundingFileError, match="line 2: calc_time is not within a minute"):
        parse_rows([FUNDING_HEADER, "1740787500000,8,0.0001"], "f.csv")


def test_the_bundled_funding_files_are_the_shared_archive_files_byte_for_byte() -> None:
    if not SHARED_FUNDING.is_dir():
        pytest.skip(f"shared funding data not present at {SHARED_FUNDING}")
    files = sorted(FUNDING.glob("*.csv"))
    assert [p.name for p in files] == [
        "BTCUSDT-fundingRate-2022-06.csv", "BTCUSDT-fundingRate-2022-07.csv", "BTCUSDT-fundingRate-2025-03.csv",
        "BTCUSDT-fundingRate-2025-04.csv", "ETHUSDT-fundingRate-2025-03.csv", "ETHUSDT-fundingRate-2025-04.csv",
    ]  # fmt: skip
    for p in files:
        assert p.read_bytes() == (SHARED_FUNDING / p.name).read_bytes()


def test_the_bundled_history_covers_every_instant_of_every_bundled_month() -> None:
    for info in library.list_datasets():
        if info.source == "bundled":
            assert info.funding_instants == info.total_instants > 90, info.name
    hist = FundingHistory("BTCUSDT", read_funding_csv(FUNDING / "BTCUSDT-fundingRate-2025-03.csv"))
    assert len(hist) == 93 and hist.intervals() == {8}  # the engine's 00/08/16 UTC clock is Binance's here


# --- replay --------------------------------------------------------------------------------------------


def test_replay_settles_the_real_rate_at_the_real_instant_for_every_symbol() -> None:
    # Shared CSVs (SOURCES.md): BTCUSDT 2025-03-02 08:00 rate -0.00002783, ETHUSDT 0.00006221. The engine settles on
    # the first tick at 08:00:00.000, at the mark known then: the close of the 07:59 candle (BTC 86232.42, ETH
    # 2221.40 in resources/klines). Amount = -qty × mark × rate:
    #   BTC long 0.1:  -0.1 × 86232.42 × -0.00002783 = +0.23998482486 -> 0.23998482 (the long receives)
    #   ETH short 1:   +1 × 2221.40 × 0.00006221     = +0.138193294   -> 0.13819329 (the short receives)
    desk = open_replay_session(None, ("BTCUSDT-2025-03", "ETHUSDT-2025-03"), paused=True, funding_rate=D("0.0003"))
    assert desk.exchange.funding_rate("BTCUSDT") == D("-0.00001094")  # the last settled (00:00), not the next one
    ticks = desk.replay.ticks()
    desk.feed([next(ticks) for _ in range(8)])
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
    assert desk.submit(OrderRequest.market("ETHUSDT", Side.SELL, D("1.000"))).ok
    _feed_until(desk, MAR2_0800)
    settled = {e.symbol: e for e in desk.exchange.events if isinstance(e, FundingSettled)}
    btc, eth = settled["BTCUSDT"], settled["ETHUSDT"]
    assert (btc.ts_ms, btc.funding_rate, btc.mark_price) == (MAR2_0800, D("-0.00002783"), D("86232.42"))
    assert (eth.ts_ms, eth.funding_rate, eth.mark_price) == (MAR2_0800, D("0.00006221"), D("2221.40"))
    assert abs(btc.amount - D("0.23998482")) <= D("1E-8") and abs(eth.amount - D("0.13819329")) <= D("1E-8")
    if SHARED_FUNDING.is_dir():  # the same rates, read from the shared copies of Binance's archive
        for sym, e in settled.items():
            line = next(ln for ln in (SHARED_FUNDING / f"{sym}-fundingRate-2025-03.csv").read_text().splitlines()
                        if ln.startswith(str(MAR2_0800)))  # fmt: skip
            assert D(line.split(",")[2]) == e.funding_rate


def test_the_next_settlements_use_their_own_rates() -> None:
    # 16:00 on 2025-03-02: BTC -0.00002869 (the line after 08:00's -0.00002783), at the mark of the 15:59 close
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    ticks = desk.replay.ticks()
    desk.feed([next(ticks) for _ in range(4)])
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.SELL, D("0.050"))).ok
    _feed_until(desk, MAR2_0800 + 8 * 3_600_000)
    settled = [e for e in desk.exchange.events if isinstance(e, FundingSettled)]
    assert [(e.ts_ms, e.funding_rate) for e in settled] == [
        (MAR2_0800, D("-0.00002783")),
        (MAR2_0800 + 8 * 3_600_000, D("-0.00002869")),
    ]
    for e in settled:  # a short pays when the rate is negative: amount = -(-0.05) × mark × rate < 0
        assert e.amount < 0 and abs(e.amount - D("0.050") * e.mark_price * e.funding_rate) <= D("1E-8")


# --- library datasets: mark klines, fallback rate ----------------------------------------------------------


def _import_month(tmp: Path, lib: Path, prices: list, marks: list | None, funding: list[str] | None) -> str:
    src = tmp / "BTCUSDT-1m-2024-12.csv"
    src.write_text("\n".join([KLINE_HEADER, *kline_rows(DEC1, prices)]) + "\n")
    name = library.import_file(src, kind="klines", directory=lib).name
    if marks is not None:
        src.write_text("\n".join([KLINE_HEADER, *kline_rows(DEC1, marks)]) + "\n")
        library.import_file(src, kind="markPriceKlines", directory=lib)
    if funding is not None:
        f = tmp / "BTCUSDT-fundingRate-2024-12.csv"
        f.write_text("\n".join([FUNDING_HEADER, *funding]) + "\n")
        library.import_file(f, directory=lib)
    return name


FLAT = [("60000", "60010", "59990", "60000", "100")] * 30  # the last price never leaves 59,990 .. 60,010
MARK_DIP = [("60000", "60005", "59995", "60000", "0")] * 20 + [("60000", "60000", "55000", "59000", "0")] * 10


def _long_50x(desk) -> None:
    ticks = desk.replay.ticks()
    desk.feed([next(ticks) for _ in range(4)])
    desk.set_leverage("BTCUSDT", 50)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok


def test_a_dataset_with_mark_klines_liquidates_on_the_mark(tmp_path: Path) -> None:
    # 50x isolated long 0.1 BTC near 60,000: margin ~120 USDT, liquidation ~59,040 on the MARK. The last price
    # stays within 59,990 .. 60,010 all month; the mark dips to 55,000 in minute 20: Binance liquidates there.
    lib = tmp_path / "lib"
    name = _import_month(tmp_path, lib, FLAT, MARK_DIP, None)
    desk = open_replay_session(None, (name,), paused=True, start_ms=DEC1, data_dir=lib)
    assert "mark klines" in desk.mode_label and "futures" in desk.mode_label
    _long_50x(desk)
    for tick in desk.replay.ticks():
        desk.feed([tick])
    liq = [e for e in desk.exchange.events if isinstance(e, PositionLiquidated)]
    assert len(liq) == 1 and liq[0].ts_ms >= DEC1 + 20 * 60_000
    assert liq[0].mark_price < D("59990")  # below every last price of the month: the mark liquidated it
    assert not desk.position("BTCUSDT").is_open


def test_the_same_prices_without_mark_klines_do_not_liquidate(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    name = _import_month(tmp_path, lib, FLAT, None, None)
    desk = open_replay_session(None, (name,), paused=True, start_ms=DEC1, data_dir=lib)
    assert "mark klines" not in desk.mode_label
    _long_50x(desk)
    for tick in desk.replay.ticks():
        desk.feed([tick])
    assert not any(isinstance(e, PositionLiquidated) for e in desk.exchange.events)
    assert desk.position("BTCUSDT").is_open


def test_without_history_the_flat_rate_settles_and_with_it_the_real_one(tmp_path: Path) -> None:
    # A month from 07:50 to 08:09 on 2024-12-01: one settlement at 08:00 (1733040000000).
    t0 = DEC1 + 8 * 3_600_000 - 10 * 60_000
    prices = [("60000", "60010", "59990", "60000", "100")] * 20

    def settle(lib: Path) -> FundingSettled:
        src = tmp_path / "BTCUSDT-1m-2024-12.csv"
        src.write_text("\n".join([KLINE_HEADER, *kline_rows(t0, prices)]) + "\n")
        name = library.import_file(src, directory=lib).name
        desk = open_replay_session(None, (name,), paused=True, start_ms=t0, data_dir=lib, funding_rate=D("0.0002"))
        ticks = desk.replay.ticks()
        desk.feed([next(ticks) for _ in range(4)])
        assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
        for tick in ticks:
            desk.feed([tick])
        (e,) = [e for e in desk.exchange.events if isinstance(e, FundingSettled)]
        return e

    flat = settle(tmp_path / "a")
    assert (flat.ts_ms, flat.funding_rate) == (DEC1 + 8 * 3_600_000, D("0.0002"))
    f = tmp_path / "BTCUSDT-fundingRate-2024-12.csv"
    f.write_text(f"{FUNDING_HEADER}\n1733011200000,8,0.00010000\n1733040000004,8,-0.00004321\n")
    library.import_file(f, directory=tmp_path / "b")
    real = settle(tmp_path / "b")
    # long 0.1 at mark 60000 (the 07:59 close), rate -0.00004321: receives 0.1 × 60000 × 0.00004321 = 0.25926
    assert (real.ts_ms, real.funding_rate, real.amount) == (DEC1 + 8 * 3_600_000, D("-0.00004321"), D("0.25926"))


def test_mark_ticks_walk_the_mark_candle_and_a_missing_minute_has_none() -> None:
    from hexdesk.market.replay import Replay
    from tests.market.conftest import make_series

    prices = make_series("BTCUSDT", [(0, "100", "102", "99", "101", "5"), (1, "101", "103", "98", "99", "5"),
                                     (2, "99", "100", "97", "98", "5")])  # fmt: skip
    # mark: minute 0 bearish (open 100.5 -> high 101.5 -> low 99.1 -> close 99.9), minute 1 missing, minute 2 bullish
    marks = make_series("BTCUSDT", [(0, "100.5", "101.5", "99.1", "99.9", "0"), (2, "98.5", "99.5", "97.2", "99", "0")])
    ticks = list(Replay([prices], marks={"BTCUSDT": marks}).ticks())
    assert [t.mark for t in ticks] == [
        D("100.5"), D("101.5"), D("99.1"), D("99.9"),  # its own path order, not the price's (bullish) one
        None, None, None, None,  # no mark candle: the engine takes the last price
        D("98.5"), D("97.2"), D("99.5"), D("99"),
    ]  # fmt: skip
    assert [t.price for t in ticks[:4]] == [D("100"), D("99"), D("102"), D("101")]  # prices untouched
    assert all(t.mark is None for t in Replay([prices]).ticks())
