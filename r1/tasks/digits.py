"""Column-by-column arithmetic as a schoolchild writes it: the steps a tiny model can learn."""

from __future__ import annotations

from r1.tasks.base import Step


def _digits(n: int) -> list[int]:
    return [int(c) for c in reversed(str(n))]


def add_steps(a: int, b: int) -> list[Step]:
    """Steps of a+b for b >= 0, one column at a time, ending with the result (a < 0: as b-(-a))."""
    if a < 0:
        head = Step(f"{a}+{b}={b}-{-a}", f"{a}加{b}得{b}减{-a}")
        return [head, *sub_steps(b, -a)[:-1], Step(f"{a}+{b}={a + b}", f"{a}加{b}得{a + b}")]
    da, db = _digits(a), _digits(b)
    steps, carry = [], 0
    for i in range(max(len(da), len(db))):
        terms = [d[i] for d in (da, db) if i < len(d)] + ([carry] if carry else [])
        total = sum(terms)
        carry = total // 10
        en = "+".join(map(str, terms)) + f"={total}"
        zh = "加".join(map(str, terms)) + f"得{total}"
        last = i == max(len(da), len(db)) - 1
        if carry and not last:
            en, zh = en + " carry 1", zh + "进1"
        steps.append(Step(en, zh))
    steps.append(Step(f"{a}+{b}={a + b}", f"{a}加{b}得{a + b}"))
    return steps


def sub_steps(a: int, b: int) -> list[Step]:
    """Steps of a-b for b >= 0 (a negative result is worked out as -(b-a); a < 0 as -(-a+b))."""
    if a < 0:
        head = Step(f"{a}-{b}=-({-a}+{b})", f"{a}减{b}得负({-a}加{b})")
        return [head, *add_steps(-a, b)[:-1], Step(f"{a}-{b}={a - b}", f"{a}减{b}得{a - b}")]
    if a < b:
        head = Step(f"{a}<{b}, so {a}-{b}=-({b}-{a})", f"{a}小于{b}，所以{a}减{b}得负({b}减{a})")
        inner = sub_steps(b, a)[:-1]
        return [head, *inner, Step(f"{a}-{b}={a - b}", f"{a}减{b}得{a - b}")]
    da, db = _digits(a), _digits(b)
    steps, borrow = [], 0
    for i in range(len(da)):
        if i >= len(db) and not borrow and i > 0:
            continue  # nothing left to subtract in this column
        top, bottom = da[i], db[i] if i < len(db) else 0
        need = top - borrow < bottom
        lhs = ("1" if need else "") + str(top) + (f"-{borrow}" if borrow else "") + f"-{bottom}"
        value = (10 if need else 0) + top - borrow - bottom
        en, zh = f"{lhs}={value}", lhs.replace("-", "减") + f"得{value}"
        if need:
            en, zh = en + " borrow 1", zh + "借1"
        steps.append(Step(en, zh))
        borrow = 1 if need else 0
    steps.append(Step(f"{a}-{b}={a - b}", f"{a}减{b}得{a - b}"))
    return steps


def mul_steps(a: int, d: int) -> list[Step]:
    """Steps of a*d for a >= 0 and a one-digit d."""
    steps, carry = [], 0
    da = _digits(a)
    for i, digit in enumerate(da):
        total = digit * d + carry
        en = f"{digit}*{d}" + (f"+{carry}" if carry else "") + f"={total}"
        zh = f"{digit}乘{d}" + (f"加{carry}" if carry else "") + f"得{total}"
        carry = total // 10
        if carry and i < len(da) - 1:
            en, zh = en + f" carry {carry}", zh + f"进{carry}"
        steps.append(Step(en, zh))
    steps.append(Step(f"{a}*{d}={a * d}", f"{a}乘{d}得{a * d}"))
    return steps


def no_carry_add(a: int, b: int) -> int:
    """The classic mistake: add each column and drop the carries."""
    da, db = _digits(a), _digits(b)
    cols = [((da[i] if i < len(da) else 0) + (db[i] if i < len(db) else 0)) % 10
            for i in range(max(len(da), len(db)))]
    return int("".join(map(str, reversed(cols))))
