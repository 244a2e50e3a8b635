"""The classroom pack from the command line (docs/classroom.md).

    hexdesk --scenario FILE [--student NAME] [--result PATH]   play a scenario; the result file is rewritten after
                                                               every action, so it is always current
    hexdesk class check SCENARIO                               validate a scenario (errors name the bad key)
    hexdesk class grade SCENARIO RESULTS... [--out DIR]        re-simulate every result, write leaderboard.csv/.html

An error is one line on stderr and exit status 2. A result file for another scenario, or a damaged one, is named on
stderr and skipped; grading goes on.
"""

from __future__ import annotations

import argparse
import csv
import html
import re
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from hexdesk.service.classroom import Grade, Scenario, ScenarioError, grade, load_scenario


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+?)(?:/\S+)?: ", r"\1 ", message)
        self.exit(2, f"{self.prog}: {message}\n")


def _scenario(path: str, prog: str) -> Scenario:
    try:
        return load_scenario(path)
    except OSError as exc:
        sys.exit(f"{prog}: {path}: {exc.strerror}")
    except ScenarioError as exc:
        print(f"{prog}: {Path(path).name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str]) -> int:
    """``hexdesk class ...``."""
    p = _Parser(prog="hexdesk class", description="Classroom scenarios: validate and grade.")
    sub = p.add_subparsers(dest="command", metavar="{check,grade}", parser_class=_Parser)
    sub.required = True
    c = sub.add_parser("check", help="validate a scenario file")
    c.add_argument("scenario")
    g = sub.add_parser("grade", help="re-simulate result files and write a leaderboard (CSV and HTML)")
    g.add_argument("scenario")
    g.add_argument("results", nargs="+")
    g.add_argument("--out", default=".", help="folder for leaderboard.csv and leaderboard.html (default: here)")
    args = p.parse_args(list(argv))
    scenario = _scenario(args.scenario, "hexdesk class")
    if args.command == "check":
        start = scenario.start_ms()
        print(f"{scenario.name}: valid; {', '.join(scenario.datasets)}, {scenario.length_minutes} min"
              + ("" if scenario.blind else f" from {start}") + f"; sha256 {scenario.sha256[:12]}")
        return 0
    grades, skipped = grade(scenario, args.results)
    for reason in skipped:
        print(f"hexdesk class: skipped {reason}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "leaderboard.csv", grades)
    (out / "leaderboard.html").write_text(leaderboard_html(scenario, grades, skipped), encoding="utf-8")
    for i, gr in enumerate(grades, 1):
        print(f"{i}. {gr.student}: {gr.final_equity:,.2f} USDT ({gr.return_pct:+.2f}%), "
              f"{len(gr.violations)} violation(s)")
    return 0


def write_csv(path: Path, grades: Sequence[Grade]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "student", "file", "final_equity", "return_pct", "fills", "violations"])
        for i, g in enumerate(grades, 1):
            w.writerow([i, g.student, g.file, f"{g.final_equity:.2f}", f"{g.return_pct:.2f}", g.trades,
                        " | ".join(g.violations)])


def _svg(equity: Sequence[tuple[int, Decimal]], w: int = 260, h: int = 60) -> str:
    if len(equity) < 2:
        return ""
    t0, t1 = equity[0][0], equity[-1][0]
    vals = [float(v) for _, v in equity]
    lo, hi = min(vals), max(vals)
    span, tspan = (hi - lo) or 1.0, (t1 - t0) or 1
    pts = " ".join(f"{(t - t0) / tspan * w:.1f},{h - (float(v) - lo) / span * h:.1f}" for t, v in equity)
    color = "#0ecb81" if vals[-1] >= vals[0] else "#f6465d"
    return (f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}"><polyline fill="none" stroke="{color}" '
            f'stroke-width="1.5" points="{pts}"/></svg>')


def leaderboard_html(scenario: Scenario, grades: Sequence[Grade], skipped: Sequence[str]) -> str:
    """A self-contained page: rank, student, final equity, return, equity curve, rule violations."""
    rows = []
    for i, g in enumerate(grades, 1):
        viol = "<br>".join(html.escape(v) for v in g.violations) or "none"
        rows.append(f"<tr><td>{i}</td><td>{html.escape(g.student)}</td><td>{g.final_equity:,.2f}</td>"
                    f"<td>{g.return_pct:+.2f}%</td><td>{g.trades}</td><td>{_svg(g.equity)}</td><td>{viol}</td></tr>")
    skip = "".join(f"<li>{html.escape(s)}</li>" for s in skipped)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(scenario.name)}</title>
<style>body{{background:#0f1217;color:#d7dce3;font-family:sans-serif}}table{{border-collapse:collapse}}
td,th{{border:1px solid #262c36;padding:4px 8px;vertical-align:top}}th{{color:#7d8795}}</style></head><body>
<h1>{html.escape(scenario.name)}</h1><p>Re-simulated by the HexDesk engine from each student's orders
(scenario sha256 {scenario.sha256[:12]}).</p>
<table><tr><th>#</th><th>Student</th><th>Final equity (USDT)</th><th>Return</th><th>Fills</th><th>Equity</th>
<th>Rule violations</th></tr>{''.join(rows)}</table>
{f'<h2>Skipped</h2><ul>{skip}</ul>' if skipped else ''}</body></html>
"""


def run_scenario(argv: Sequence[str]) -> int:
    """``hexdesk --scenario FILE [--student NAME] [--result PATH]``: the desk on the scenario, every action recorded."""
    p = _Parser(prog="hexdesk", description="Play a classroom scenario.")
    p.add_argument("--scenario", required=True)
    p.add_argument("--student", default=None)
    p.add_argument("--result", default=None, help="result file (default: SCENARIO-STUDENT.result.json)")
    p.add_argument("--close-after", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(list(argv))
    scenario = _scenario(args.scenario, "hexdesk")
    student = args.student or Path.home().name
    result = Path(args.result or f"{Path(args.scenario).stem}-{student}.result.json")
    from hexdesk.ui.scenario_run import run_scenario_gui

    return run_scenario_gui(scenario, student, result, close_after=args.close_after)
