"""Badges as data: a catalog of criteria written in JSON and one small engine that evaluates them.

A criterion is a comparison of one metric with a number, or a combination of criteria:

    {"metric": "longest_streak", "op": ">=", "value": 7}
    {"all": [{"metric": "exam.GATE.answered", "op": ">=", "value": 200},
             {"metric": "exam.GATE.accuracy", "op": ">=", "value": 0.8}]}
    {"any": [...]}

Metrics are the numbers ``facts`` gives the engine (see mindly.services.progress.facts_of); a metric
the student has no figure for counts as 0. The bundled catalog (badges.json beside this file) is
what the local stack and ``python -m infra.cli seed-badges`` store; the engine never names a badge.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
}
_MAX_DEPTH = 8


class InvalidCriteria(ValueError):
    """A criterion the engine cannot evaluate."""


@dataclass(frozen=True)
class Badge:
    badge_id: str
    name: str
    description: str
    criteria: dict[str, Any] = field(hash=False)


def validate(criteria: Any, depth: int = 0) -> None:
    """Raise InvalidCriteria unless ``criteria`` is a well-formed criterion."""
    if depth > _MAX_DEPTH:
        raise InvalidCriteria("criteria nested too deeply")
    if not isinstance(criteria, Mapping):
        raise InvalidCriteria("a criterion is an object")
    combinators = [name for name in ("all", "any") if name in criteria]
    if combinators:
        if len(criteria) != 1:
            raise InvalidCriteria("'all'/'any' stand alone in their object")
        parts = criteria[combinators[0]]
        if not isinstance(parts, list) or not parts:
            raise InvalidCriteria(f"'{combinators[0]}' takes a non-empty list")
        for part in parts:
            validate(part, depth + 1)
        return
    if set(criteria) != {"metric", "op", "value"}:
        raise InvalidCriteria("a comparison has exactly metric, op and value")
    if not isinstance(criteria["metric"], str) or not criteria["metric"].strip():
        raise InvalidCriteria("metric must be a name")
    if criteria["op"] not in _OPERATORS:
        raise InvalidCriteria(f"op must be one of {', '.join(_OPERATORS)}")
    value = criteria["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidCriteria("value must be a finite number")


def satisfied(criteria: Mapping[str, Any], facts: Mapping[str, float]) -> bool:
    """Whether ``facts`` meet ``criteria`` (assumed valid)."""
    if "all" in criteria:
        return all(satisfied(part, facts) for part in criteria["all"])
    if "any" in criteria:
        return any(satisfied(part, facts) for part in criteria["any"])
    return _OPERATORS[criteria["op"]](float(facts.get(criteria["metric"], 0)), float(criteria["value"]))


def earned(catalog: Iterable[Badge], facts: Mapping[str, float], already: set[str]) -> list[Badge]:
    """The badges of ``catalog`` whose criteria ``facts`` meet and that are not held yet, in
    catalog order."""
    return [badge for badge in catalog if badge.badge_id not in already and satisfied(badge.criteria, facts)]


def parse_catalog(raw: Any) -> list[Badge]:
    """Badges from their JSON form (a list of {badge_id, name, description, criteria}); raises
    InvalidCriteria on the first malformed entry, naming it."""
    if not isinstance(raw, list):
        raise InvalidCriteria("a catalog is a list of badges")
    badges, seen = [], set()
    for index, entry in enumerate(raw):
        try:
            if not isinstance(entry, Mapping):
                raise InvalidCriteria("a badge is an object")
            badge_id, name, description = entry.get("badge_id"), entry.get("name"), entry.get("description")
            if not all(isinstance(v, str) and v.strip() for v in (badge_id, name, description)):
                raise InvalidCriteria("badge_id, name and description are non-empty strings")
            validate(entry.get("criteria"))
        except InvalidCriteria as exc:
            raise InvalidCriteria(f"badge #{index}: {exc}") from exc
        if badge_id in seen:
            raise InvalidCriteria(f"badge #{index}: duplicate badge_id {badge_id!r}")
        seen.add(badge_id)
        badges.append(Badge(str(badge_id), str(name), str(description), dict(entry["criteria"])))
    return badges


@cache
def bundled_catalog() -> tuple[Badge, ...]:
    """The catalog shipped with the code (badges.json)."""
    raw = json.loads((Path(__file__).with_name("badges.json")).read_text(encoding="utf-8"))
    return tuple(parse_catalog(raw))
