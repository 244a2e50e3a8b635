"""Pacing the replay against an injected wall clock: speed, pause, step, seek, gaps in time, batching, run()."""

from __future__ import annotations

import asyncio
import math

import pytest

from hexdesk.market.replay import PriceTick, Replay

from .conftest import MIN, T0, make_series, simple_rows


class FakeClock:
    """A wall clock that moves only when the test says so (or by ``auto`` seconds on every read)."""

    def __init__(self, auto: float = 0.0) -> None:
        self.t = 1000.0
        self.auto = auto

    def __call__(self) -> float:
        now = self.t
        self.t += self.auto
        return now


def _offsets(ticks: list[PriceTick]) -> list[int]:
    return [t.ts_ms - T0 for t in ticks]


def _replay(minutes: list[int], clock: FakeClock, **kw: int) -> Replay:
    return Replay([make_series("FOO", simple_rows(minutes))], clock=clock, **kw)


def test_speed_sets_how_much_replay_time_a_wall_second_is() -> None:
    clk = FakeClock()
    r = _replay(list(range(10)), clk)
    assert r.speed == 60
    assert _offsets(r.poll()) == [0]  # the clock starts at the first open
    clk.t += 0.5  # 30 s of replay at 60x
    assert _offsets(r.poll()) == [20_000]
    assert r.position_ms == T0 + 30_000
    clk.t += 0.5
    assert _offsets(r.poll()) == [40_000, 59_999, 60_000]
    r.speed = 600  # ten minutes a second
    clk.t += 0.25
    assert _offsets(r.poll()) == [80_000, 100_000, 119_999, 120_000, 140_000, 160_000, 179_999, 180_000, 200_000]
    assert r.position_ms == T0 + 210_000
    assert r.poll() == []  # no wall time, no ticks


def test_pause_freezes_the_clock_and_resume_does_not_replay_the_pause() -> None:
    clk = FakeClock()
    r = _replay(list(range(10)), clk)
    r.poll()
    r.pause()
    assert r.paused
    clk.t += 100
    assert r.poll() == [] and r.position_ms == T0
    clk.t += 100
    r.resume()
    clk.t += 0.5
    assert _offsets(r.poll()) == [20_000] and r.position_ms == T0 + 30_000


def test_step_emits_exactly_one_tick_per_call_and_pauses() -> None:
    clk = FakeClock()
    r = _replay(list(range(10)), clk)
    r.poll()
    r.step()
    assert r.paused
    clk.t += 100
    assert _offsets(r.poll()) == [20_000]
    assert r.poll() == []
    r.step()
    r.step()
    assert _offsets(r.poll()) == [40_000, 59_999]
    assert r.position_ms == T0 + 59_999


def test_step_candle_plays_to_the_close_of_every_symbol() -> None:
    clk = FakeClock()
    btc = make_series("BTC", simple_rows([0, 1, 2]))
    eth = make_series("ETH", simple_rows([0, 1, 2]))
    r = Replay([btc, eth], clock=clk)
    r.poll()  # both opens
    r.step()
    assert [(t.symbol, t.step) for t in r.poll()] == [("BTC", 1)]
    r.step_candle()
    assert [(t.symbol, t.step) for t in r.poll()] == [("ETH", 1), ("BTC", 2), ("ETH", 2), ("BTC", 3), ("ETH", 3)]
    r.step_candle()
    nxt = r.poll()
    assert len(nxt) == 8 and {t.candle.open_time_ms for t in nxt} == {T0 + MIN} and nxt[-1].candle.closed


def test_seek_forward_emits_the_whole_path_in_bounded_batches() -> None:
    clk = FakeClock()
    r = _replay(list(range(10)), clk, max_batch=5)
    r.pause()
    target = T0 + 3 * MIN + 20_000
    r.seek(target)
    batches = [r.poll() for _ in range(4)]
    assert [len(b) for b in batches] == [5, 5, 4, 0]
    emitted = [t for b in batches for t in b]
    assert _offsets(emitted) == [m * MIN + d for m in range(3) for d in (0, 20_000, 40_000, 59_999)] + [
        3 * MIN,
        3 * MIN + 20_000,
    ]
    assert r.position_ms == target and r.paused
    with pytest.raises(ValueError, match="new Replay"):
        r.seek(target - 1)
    r.seek(target)  # standing still is not going back
    r.seek(T0 + 50 * MIN)  # beyond the end: everything, then finished
    assert [len(r.poll()) for _ in range(6)] == [5, 5, 5, 5, 5, 1]  # the 26 ticks left
    assert r.finished
    assert r.position_ms == r.end_ms  # the clock stops at the last candle's close, never past the data


def test_seek_backwards_from_a_pending_seek_raises() -> None:
    r = _replay(list(range(10)), FakeClock())
    r.seek(T0 + 5 * MIN)
    with pytest.raises(ValueError):
        r.seek(T0 + 4 * MIN)


def test_infinite_speed_drains_in_batches_and_the_clock_stays_with_the_ticks() -> None:
    clk = FakeClock()
    r = _replay(list(range(5)), clk, max_batch=7)
    r.speed = math.inf
    sizes = []
    while not r.finished:
        clk.t += 1 / 30
        batch = r.poll()
        sizes.append(len(batch))
        assert r.position_ms == batch[-1].ts_ms
    assert sizes == [7, 7, 6]


def test_a_slow_consumer_holds_the_clock_back_instead_of_piling_up() -> None:
    clk = FakeClock()
    r = _replay(list(range(100)), clk, max_batch=3)
    r.poll()
    r.speed = 100_000
    clk.t += 1.0  # 100,000 replay seconds are due, only 3 ticks may go
    batch = r.poll()
    assert len(batch) == 3 and r.position_ms == batch[-1].ts_ms == T0 + 59_999


def test_a_gap_in_every_series_is_skipped_in_time() -> None:
    clk = FakeClock()
    r = _replay([0, 1, 61], clk)  # an hour missing after minute 1
    r.poll()
    clk.t += 2.0  # two replay minutes: to the end of minute 1, then straight over the gap
    out = r.poll()
    assert _offsets(out)[-2:] == [2 * MIN - 1, 61 * MIN]
    assert r.position_ms == T0 + 61 * MIN and (r.gaps, r.missing_candles) == (1, 59)
    clk.t += 0.5
    assert _offsets(r.poll()) == [61 * MIN + 20_000]


def test_a_gap_in_one_series_does_not_skip_the_other() -> None:
    clk = FakeClock()
    r = Replay(
        [make_series("BTC", simple_rows([0, 5])), make_series("ETH", simple_rows(list(range(6))))],
        clock=clk,
    )
    r.poll()
    clk.t += 1.0
    out = r.poll()
    assert out[-1].ts_ms == T0 + MIN and out[-1].symbol == "ETH"
    assert r.position_ms == T0 + MIN


# --- run() -----------------------------------------------------------------------------------------------


def test_run_paces_coalesces_and_finishes() -> None:
    series = make_series("FOO", simple_rows(list(range(12))))
    expected = list(Replay([series]).ticks())
    r = Replay([series], clock=FakeClock(auto=0.5))  # 30 replay seconds per frame at 60x
    batches: list[list[PriceTick]] = []

    def on_ticks(batch: list[PriceTick]) -> None:
        assert batch and batch[-1].ts_ms <= r.position_ms
        batches.append(batch)

    asyncio.run(r.run(on_ticks, frame_s=0))
    assert r.finished and [t for b in batches for t in b] == expected
    assert max(len(b) for b in batches) <= 3 and len(batches) > 12


def test_run_honours_controls_made_between_frames() -> None:
    series = make_series("FOO", simple_rows(list(range(20))))
    expected = list(Replay([series]).ticks())
    clk = FakeClock()
    r = Replay([series], clock=clk)
    batches: list[list[PriceTick]] = []

    async def frames(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    async def scenario() -> None:
        task = asyncio.create_task(r.run(batches.append, frame_s=0))
        await frames(2)
        assert [_offsets(b) for b in batches] == [[0]]
        r.pause()
        clk.t += 100
        await frames(5)
        assert len(batches) == 1
        r.step()
        await frames(5)
        assert [_offsets(b) for b in batches[1:]] == [[20_000]]
        r.seek(T0 + 5 * MIN)
        await frames(5)
        assert batches[-1][-1].ts_ms == T0 + 5 * MIN and r.position_ms == T0 + 5 * MIN and r.paused
        with pytest.raises(ValueError):
            r.seek(T0)
        r.speed = math.inf
        r.resume()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())
    assert r.finished and [t for b in batches for t in b] == expected


def test_run_is_cancellation_safe_and_can_continue() -> None:
    series = make_series("FOO", simple_rows(list(range(30))))
    expected = list(Replay([series]).ticks())
    r = Replay([series], clock=FakeClock(auto=0.5))
    got: list[PriceTick] = []

    async def scenario() -> None:
        task = asyncio.create_task(r.run(got.extend, frame_s=0))
        for _ in range(10):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert 0 < len(got) < len(expected) and not r.finished
        r.speed = math.inf
        await r.run(got.extend, frame_s=0)

    asyncio.run(scenario())
    assert got == expected


def test_run_with_the_real_clock_returns_when_finished() -> None:
    r = Replay([make_series("FOO", simple_rows(list(range(3))))])
    r.speed = math.inf
    calls: list[int] = []
    asyncio.run(r.run(lambda b: calls.append(len(b)), frame_s=0.001))
    assert calls == [12] and r.finished
    asyncio.run(r.run(lambda b: calls.append(len(b))))  # already finished: returns at once, no empty batch
    assert calls == [12]
