"""The month run's event stream, repr for repr, before and after a change meant to make it faster, not different.

``.venv/bin/python benchmarks/month_events.py --save before.txt`` on the old sources, then ``--check before.txt``
on the new ones: the run of ``benchmarks/month_run.py`` (``scaled_path`` + ``Exchange.on_ticks`` + the SMA-cross
submits) and the same run through ``candle_ticks`` + ``Exchange.on_tick`` one tick at a time must both give exactly
the saved events (every field of every event, as ``repr`` prints it). Prints the count and a SHA-256 of the stream;
exits 1 at the first difference, naming it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _month_run():  # type: ignore[no-untyped-def]
    """benchmarks/month_run.py as a module (it puts the repository, not benchmarks/, first on the path)."""
    spec = importlib.util.spec_from_file_location("month_run", HERE / "month_run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the event reprs here, one a line")
    group.add_argument("--check", type=Path, help="compare both runs with the reprs saved here")
    args = parser.parse_args()
    month_run = _month_run()
    from hexdesk.market.candles import load_bundled

    series = load_bundled(month_run.DATASET)
    runs = {"scaled_path + on_ticks": month_run.hexdesk_run(series)}
    if args.check:
        runs["candle_ticks + on_tick"] = month_run.hexdesk_reference_run(series)
    saved = args.check.read_text().splitlines() if args.check else None
    for name, ex in runs.items():
        events = [repr(e) for e in ex.events]
        digest = hashlib.sha256("\n".join(events).encode()).hexdigest()
        print(f"{name}: {len(events)} events, sha256 {digest}")
        if saved is None:
            args.save.write_text("\n".join(events) + "\n")
            print(f"saved to {args.save}")
            continue
        if events != saved:
            first = next((i for i, (a, b) in enumerate(zip(events, saved, strict=False)) if a != b), None)
            if first is None:
                print(f"  DIFFERENT: {len(events)} events, {len(saved)} saved")
            else:
                print(f"  DIFFERENT at event {first}:\n  now   {events[first]}\n  saved {saved[first]}")
            return 1
        print("  identical to the saved stream")
    return 0


if __name__ == "__main__":
    sys.exit(main())
