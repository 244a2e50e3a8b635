"""Mutation testing of the engine: small deterministic AST changes, each run against the engine's tests.

Why our own mutator rather than mutmut / cosmic-ray: it must sample a fixed, reproducible set of mutants
(``random.Random(seed)``), never touch the tracked source, and stay quick on a 2-core machine. Each mutant is one
change to one module (a flipped comparison, a swapped operator, a deleted statement, ...). The package is copied to a
temporary directory once per worker; the mutated module is written there and ``pytest`` runs in a subprocess whose
working directory is that copy, so the copy (not the checkout, not the editable install) is what gets imported.

A mutant is *killed* when the tests fail, *timeout* when they hang past ``--timeout`` (counted as killed, reported
apart), *survived* when they pass. Mutants listed as equivalent in docs/engine.md ("Equivalent mutants" section,
one key per line in backticks) are excluded from the score. A key names the module, the enclosing function, the
operator and the source text of the node before and after, so it survives line shifts::

    ledger.py:_apply_fill:compare:pos == 0→pos != 0

Usage: ``python tools/mutation.py [--modules ledger liquidation] [--per-module 60] [--seed 11] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "hexdesk" / "engine"
DOC = ROOT / "docs" / "engine.md"
DEFAULT_MODULES = ("liquidation", "ledger", "margin", "risk")
#: Tests that wait for engine fixes (expected to fail now): they must not count as killing a mutant.
IGNORED: tuple[str, ...] = ()

_CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_BIN_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
}
_AUG_SWAPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}


@dataclass(frozen=True)
class Mutant:
    """One change: ``index`` is the node's position in ``ast.walk`` order, ``variant`` which change of it."""

    module: str
    index: int
    variant: int
    operator: str
    line: int
    function: str
    original: str
    replacement: str
    col: int = 0
    occurrence: int = 1  # the n-th mutant of the module with the same key text (in source order)

    @property
    def key(self) -> str:
        base = f"{self.module}.py:{self.function}:{self.operator}:{self.original}→{self.replacement}"
        return base if self.occurrence == 1 else f"{base} #{self.occurrence}"


def _src(node: ast.AST) -> str:
    return " ".join(ast.unparse(node).split())


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _functions(tree: ast.Module) -> dict[int, str]:
    """node id -> name of the innermost enclosing function ("<module>" outside any)."""
    owner: dict[int, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else name
            owner[id(child)] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return owner


def _in_function(tree: ast.Module) -> set[int]:
    """Ids of nodes inside a function body (module-level data, signatures and decorators are not mutated)."""
    inside: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for stmt in fn.body:
                for n in ast.walk(stmt):
                    inside.add(id(n))
    return inside


def _variants(node: ast.AST, parent_body_stmt: bool) -> list[tuple[str, ast.AST | None, str]]:
    """Every change of ``node``: (operator, replacement node or None for "pass", replacement text)."""
    out: list[tuple[str, ast.AST | None, str]] = []
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        for new in _CMP_SWAPS.get(type(node.ops[0]), ()):
            m = copy.deepcopy(node)
            m.ops = [new()]
            out.append(("compare", m, _src(m)))
    elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAPS:
        m = copy.deepcopy(node)
        m.op = _BIN_SWAPS[type(node.op)]()
        out.append(("binop", m, _src(m)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        out.append(("negate" if isinstance(node.op, ast.USub) else "not", copy.deepcopy(node.operand),
                    _src(node.operand)))
    elif isinstance(node, ast.BoolOp):
        m = copy.deepcopy(node)
        m.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append(("boolop", m, _src(m)))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name == "abs" and len(node.args) == 1:
            out.append(("abs", copy.deepcopy(node.args[0]), _src(node.args[0])))
        elif name in ("min", "max"):
            m = copy.deepcopy(node)
            m.func = ast.Name("max" if name == "min" else "min", ast.Load())
            out.append(("minmax", m, _src(m)))
    elif isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1):
        m = ast.Constant(1 - node.value)
        out.append(("constant", m, _src(m)))
    elif isinstance(node, ast.If | ast.While | ast.IfExp):
        m = copy.deepcopy(node)
        m.test = ast.UnaryOp(ast.Not(), m.test)
        out.append(("condition", m, "not (" + _src(node.test) + ")"))
    elif isinstance(node, ast.AugAssign) and type(node.op) in _AUG_SWAPS:
        m = copy.deepcopy(node)
        m.op = _AUG_SWAPS[type(node.op)]()
        out.append(("augassign", m, _src(m)))
    elif isinstance(node, ast.Return) and node.value is not None and not (
        isinstance(node.value, ast.Constant) and node.value.value is None
    ):
        out.append(("return", ast.Return(ast.Constant(None)), "return None"))
    if parent_body_stmt and isinstance(node, ast.stmt) and not isinstance(node, ast.Pass) and not _is_docstring(node):
        out.append(("delete", None, "pass"))
    return out


def _body_statements(tree: ast.Module) -> set[int]:
    """Statements that sit directly in a function's (or its blocks') body: candidates for deletion."""
    ids: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for n in ast.walk(fn):
                for field in ("body", "orelse", "finalbody"):
                    block = getattr(n, field, None)
                    for stmt in block if isinstance(block, list) else ():
                        if isinstance(stmt, ast.stmt) and not isinstance(stmt, ast.FunctionDef):
                            ids.add(id(stmt))
    return ids


def _sites(tree: ast.Module) -> Iterator[tuple[int, ast.AST, bool]]:
    inside = _in_function(tree)
    body = _body_statements(tree)
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in inside:
            yield index, node, id(node) in body


def enumerate_mutants(module: str) -> list[Mutant]:
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    owner = _functions(tree)
    found: list[Mutant] = []
    for index, node, deletable in _sites(tree):
        for variant, (operator, _new, text) in enumerate(_variants(node, deletable)):
            original = _src(node.test) if operator == "condition" else _src(node)  # type: ignore[attr-defined]
            if operator == "delete":
                original = _src(node).split("\n")[0][:80]
            found.append(Mutant(module, index, variant, operator, getattr(node, "lineno", 0),
                                owner.get(id(node), "<module>"), original, text,
                                col=getattr(node, "col_offset", 0)))
    # Same text twice in one function (two `return`, two `0`): number them in source order so each key is unique.
    seen: dict[str, int] = {}
    out: list[Mutant] = []
    for m in sorted(found, key=lambda m: (m.line, m.col, m.index, m.variant)):
        seen[m.key] = seen.get(m.key, 0) + 1
        out.append(dataclasses.replace(m, occurrence=seen[m.key]))
    return sorted(out, key=lambda m: (m.index, m.variant))


def mutated_source(mutant: Mutant) -> str:
    """The module's source with ``mutant`` applied (unparsed from the AST: comments are gone, lines shift)."""
    tree = ast.parse((ENGINE / f"{mutant.module}.py").read_text())
    target = next(node for i, node in enumerate(ast.walk(tree)) if i == mutant.index)
    # Deletion is always the last variant, so indexing with deletable=True finds the same change.
    _op, new, _text = _variants(target, True)[mutant.variant]
    replacement: ast.AST = ast.Pass() if new is None else new
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, replacement)
                return ast.unparse(ast.fix_missing_locations(tree))
            if isinstance(value, list) and any(v is target for v in value):
                value[:] = [replacement if v is target else v for v in value]
                return ast.unparse(ast.fix_missing_locations(tree))
    raise LookupError(f"no parent for {mutant.key}")


def equivalent_keys(doc: Path = DOC) -> set[str]:
    """Keys in backticks on the lines of the "Equivalent mutants" section of docs/engine.md."""
    if not doc.exists():
        return set()
    keys: set[str] = set()
    in_section = False
    for line in doc.read_text().splitlines():
        if line.startswith("#"):
            in_section = "equivalent mutants" in line.lower()
            continue
        if in_section and line.lstrip().startswith("- `"):
            match = re.match(r"\s*- `([^`]+)`", line)
            if match:
                keys.add(match.group(1))
    return keys


_CONFTEST = '''
from hypothesis import settings
settings.register_profile("mutation", database=None, derandomize=True)
settings.load_profile("mutation")
'''


def _make_copy(base: Path) -> Path:
    """A private copy of the package and the engine tests: what each mutant run imports."""
    work = Path(tempfile.mkdtemp(prefix="hexdesk-mut-", dir=base))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "hexdesk", work / "hexdesk", ignore=ignore)
    (work / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "__init__.py", work / "tests" / "__init__.py")
    shutil.copytree(ROOT / "tests" / "engine", work / "tests" / "engine", ignore=ignore)
    (work / "conftest.py").write_text(_CONFTEST)
    (work / "pytest.ini").write_text("[pytest]\naddopts = -q -x -p no:cacheprovider\n")
    return work


def _test_files(work: Path, module: str) -> list[str]:
    """The engine's test files in the order that kills fastest with ``-x``: those named after the mutated module
    first (test_risk.py, test_money_risk.py for risk.py), then the hand-worked money tests, the rest, and the slow
    property tests last."""
    files = sorted(p.relative_to(work).as_posix() for p in (work / "tests" / "engine").glob("test_*.py"))

    def rank(f: str) -> int:
        name = f.rsplit("/", 1)[-1]
        if module in name:
            return 0
        if "propert" in name:
            return 3
        return 1 if name.startswith("test_money_") else 2

    return sorted((f for f in files if f not in IGNORED), key=rank)


def _run_tests(work: Path, timeout: float, module: str = "") -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(work), "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *_test_files(work, module)], cwd=work, env=env, timeout=timeout,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if proc.returncode == 0 else "killed"


def _check_copy_is_imported(work: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(work)}
    out = subprocess.run([sys.executable, "-c", "import hexdesk.engine as e; print(e.__file__)"], cwd=work, env=env,
                         stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    if not out.startswith(str(work)):
        raise SystemExit(f"the mutated copy is not what gets imported ({out}); refusing to run")


def sample(modules: list[str], per_module: int, seed: int) -> list[Mutant]:
    """``per_module`` mutants of each module, drawn with a generator seeded by (seed, module): a module's sample
    does not depend on which other modules are in the run."""
    chosen: list[Mutant] = []
    for module in modules:
        rng = random.Random(f"{seed}:{module}")
        every = enumerate_mutants(module)
        chosen += sorted(rng.sample(every, min(per_module, len(every))), key=lambda m: (m.index, m.variant))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", nargs="+", default=list(DEFAULT_MODULES))
    parser.add_argument("--per-module", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant before it counts as hung")
    parser.add_argument("--list", action="store_true", help="print the sampled mutants and exit")
    args = parser.parse_args(argv)

    mutants = sample(args.modules, args.per_module, args.seed)
    equivalent = equivalent_keys()
    if args.list:
        for m in mutants:
            print(f"{m.module}.py:{m.line}  {m.key}{'  (equivalent)' if m.key in equivalent else ''}")
        return 0
    runnable = [m for m in mutants if m.key not in equivalent]
    base = Path(tempfile.mkdtemp(prefix="hexdesk-mutation-"))
    started = time.monotonic()
    try:
        copies = [_make_copy(base) for _ in range(max(1, args.workers))]
        _check_copy_is_imported(copies[0])
        if _run_tests(copies[0], args.timeout * 3) != "survived":
            raise SystemExit("the engine tests fail without any mutation: fix them first")
        free = list(copies)
        results: dict[Mutant, str] = {}

        def run(m: Mutant) -> tuple[Mutant, str]:
            work = free.pop()
            target = work / "hexdesk" / "engine" / f"{m.module}.py"
            try:
                target.write_text(mutated_source(m))
                return m, _run_tests(work, args.timeout, m.module)
            finally:
                shutil.copy(ENGINE / f"{m.module}.py", target)
                free.append(work)

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            for done, (m, outcome) in enumerate(pool.map(run, runnable), 1):
                results[m] = outcome
                print(f"[{done}/{len(runnable)}] {outcome:8} {m.module}.py:{m.line} {m.key}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    elapsed = time.monotonic() - started
    print(f"\nMutation score (seed {args.seed}, {args.per_module} per module, {elapsed:.0f} s):")
    worst = 100.0
    for module in args.modules:
        mine = [m for m in mutants if m.module == module]
        scored = [m for m in mine if m in results]
        killed = sum(1 for m in scored if results[m] in ("killed", "timeout"))
        timeouts = sum(1 for m in scored if results[m] == "timeout")
        score = 100.0 * killed / len(scored) if scored else 100.0
        worst = min(worst, score)
        print(f"  {module + '.py':18} {score:5.1f}%  killed {killed}/{len(scored)} (timeouts {timeouts}), "
              f"equivalent excluded {len(mine) - len(scored)}")
    survivors = [m for m in mutants if results.get(m) == "survived"]
    if survivors:
        print("\nSurvivors:")
        for m in survivors:
            print(f"  {m.module}.py:{m.line}  {m.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
