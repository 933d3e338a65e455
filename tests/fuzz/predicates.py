"""Generated predicates with their expected answer: a random AND/OR/NOT tree over comparisons,
IN lists, boolean columns and literals, rendered as predicate text and evaluated here row by row
with SQL's three-valued logic and exact numeric comparison (Python compares ints and floats
exactly), so the engine's rows can be checked, not just its survival."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_NESTING = 128  # the engine's documented limit on nested parentheses


@dataclass
class Predicate:
    text: str
    valid: bool | None  # False: the engine must refuse it with code 3; None: either way
    evaluate: Any  # row dict -> True / False / None (only for valid predicates)


def _lit_value(v: Any) -> Any:
    """What the engine reads a rendered literal as: integers beyond int64 become doubles."""
    if isinstance(v, int) and not isinstance(v, bool) and not INT64_MIN <= v <= INT64_MAX:
        return float(v)
    return v


def _render(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, float):
        text = repr(v)
        return text if "e" in text or "." in text else text + ".0"
    return str(v)


def _and(vals):
    if any(v is False for v in vals):
        return False
    return None if any(v is None for v in vals) else True


def _or(vals):
    if any(v is True for v in vals):
        return True
    return None if any(v is None for v in vals) else False


def _not(v):
    return None if v is None else not v


def _cmp(op: str, a: Any, b: Any):
    if a is None or b is None:
        return None
    return {"=": a == b, "<>": a != b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "!="}
INT_COLUMNS = {"id": (INT64_MIN, INT64_MAX), "i32": (-(1 << 31), (1 << 31) - 1), "u8": (0, 255)}
FLOAT_COLUMNS = ("f32", "f64")


class Generator:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def number(self, column: str) -> Any:
        r = self.rng
        edges = [0, -1, 1, 2.5, -2.5, 1e30, -1e30, 0.1, 255, 256, -129, INT64_MAX, INT64_MIN, 1 << 64, -(1 << 70)]
        if column in FLOAT_COLUMNS:
            big = 1 << 24 if column == "f32" else 1 << 53
            edges += [big + d for d in range(-5, 7)] + [float(big) + 0.5, (1 << 53) + 1, 16777217.0]
        else:
            edges += [(1 << 24) + 1, (1 << 53) + 1, 1000.5, -999.5]
        pick = r.random()
        if pick < 0.4:
            return r.choice(edges)
        if pick < 0.7:
            return r.randint(-400, 900)
        return round(r.uniform(-1200, 1200), r.choice([0, 1, 2, 6]))

    def literal(self, column: str) -> Any:
        if column == "s":
            return self.rng.choice(["s00", "s07", "s36", "s5", "", "zz", "it's", "s1"])
        if column == "b":
            return self.rng.choice([True, False])
        return self.number(column)

    def comparison(self):
        r = self.rng
        column = r.choice(["id", "i32", "u8", "f32", "f64", "s", "b"])
        op = r.choice(["=", "<>", "!=", "<", "<=", ">", ">="])
        value = None if r.random() < 0.05 else self.literal(column)
        actual = _lit_value(value)
        if r.random() < 0.3:  # literal on the left
            text = f"{_render(value)} {op} {column}"
            return text, lambda row, c=column, o=MIRROR[op], v=actual: _cmp(o, row[c], v)
        return f"{column} {op} {_render(value)}", lambda row, c=column, o=op, v=actual: _cmp(o, row[c], v)

    def in_list(self, long: bool = False):
        r = self.rng
        column = "id" if long else r.choice(["id", "i32", "u8", "f32", "f64", "s"])
        n = r.randint(1000, 4000) if long else r.choice([1, 2, 3, 5, 10, 40])
        if long:
            values = [r.randint(-5, 400) for _ in range(n)]  # mostly real ids, a filter on thousands
        else:
            values = [None if r.random() < 0.03 else self.literal(column) for _ in range(n)]
        negate = r.random() < 0.3
        text = f"{column} {'NOT IN' if negate else 'IN'} (" + ", ".join(_render(v) for v in values) + ")"
        actual = {_lit_value(v) for v in values if v is not None}  # 1 == 1.0: a set compares exactly
        has_null = None in values

        def evaluate(row, c=column, vals=actual, nul=has_null, neg=negate):
            x = row[c]
            if x is None:
                return None
            hit = True if x in vals else (None if nul else False)
            return _not(hit) if neg else hit

        return text, evaluate

    def leaf(self):
        r = self.rng
        pick = r.random()
        if pick < 0.6:
            return self.comparison()
        if pick < 0.8:
            return self.in_list()
        if pick < 0.9:
            return "b", lambda row: row["b"]
        value = r.choice([True, False, None])
        return _render(value), lambda row, v=value: v

    def tree(self, depth: int):
        r = self.rng
        if depth <= 0 or r.random() < 0.35:
            return self.leaf()
        pick = r.random()
        if pick < 0.6:
            return self.junction([self.tree(depth - 1) for _ in range(r.randint(2, 4))])
        if pick < 0.85:
            return self.negation(r.choice([1, 1, 2, 3]), self.tree(depth - 1))
        t, f = self.tree(depth - 1)
        return f"({t})", f

    def junction(self, parts):
        joiner = self.rng.choice(["AND", "OR"])
        text = f" {joiner} ".join(f"({t})" for t, _ in parts)
        fns = [f for _, f in parts]
        if joiner == "AND":
            return text, lambda row, fs=fns: _and([f(row) for f in fs])
        return text, lambda row, fs=fns: _or([f(row) for f in fs])

    @staticmethod
    def negation(n: int, part):
        t, f = part
        return "NOT " * n + f"({t})", (lambda row, f=f, n=n: _not(f(row)) if n % 2 else f(row))

    def predicate(self) -> Predicate:
        """Mostly small trees; a few long lists, long IN lists, NOT chains and deep parentheses."""
        r = self.rng
        pick = r.random()
        if pick < 0.03:
            text, evaluate = self.junction([self.leaf() for _ in range(r.randint(200, 800))])
        elif pick < 0.05:
            text, evaluate = self.in_list(long=True)
        elif pick < 0.07:
            text, evaluate = self.negation(r.randint(100, 3000), self.tree(2))
        else:
            text, evaluate = self.tree(r.randint(0, 5))
        pick = r.random()
        if pick < 0.04:  # redundant parentheses, within or beyond the limit
            levels = r.choice([10, 60, 120, 129, 200, 5000])
            return Predicate("(" * levels + text + ")" * levels, levels <= MAX_NESTING - 8, evaluate)
        if pick < 0.08:  # junk inserted somewhere: mostly a syntax error (inside a string, not)
            cut = r.randint(0, len(text))
            junk = r.choice([" AND", "(", ")", " = ", " IN (", "'", "`", " ,", " @", " NOT"])
            return Predicate(text[:cut] + junk + text[cut:], None, None)
        return Predicate(text, True, evaluate)
