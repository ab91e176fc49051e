"""Base classes for request bodies (strict about unknown fields and types) and for the documented
shape of answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

F = TypeVar("F", bound=Callable[..., Any])


class RequestBody(BaseModel):
    """Unknown fields are an error (a typo must not be silently ignored); no type coercion from
    strings to numbers or booleans."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=10_000)


class AnswerData(BaseModel):
    """Base of the models that document what a route's ``data`` holds (the OpenAPI documents only:
    routes answer an Envelope they build themselves, so nothing is validated against these).

    ``defer_build``: pydantic would otherwise build each model's validator when its class is
    created, at every cold start; these are only ever turned into JSON Schema, when a document is
    asked for."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


_ANSWERS: dict[Callable[..., Any], type[BaseModel]] = {}


def answers(model: type[BaseModel]) -> Callable[[F], F]:
    """Declare that the decorated endpoint's success ``data`` is ``model`` (apply below the route
    decorator); the OpenAPI document then types its 2xx envelope with it."""

    def register(endpoint: F) -> F:
        _ANSWERS[endpoint] = model
        return endpoint

    return register


def answer_model(endpoint: Callable[..., Any]) -> type[BaseModel] | None:
    """The data model declared for ``endpoint`` with ``answers``, if any."""
    return _ANSWERS.get(endpoint)


class PageOf(AnswerData):
    """The paging fields every list answer carries next to its ``items`` (mindly.services.pages);
    a list's model adds ``items: list[<its item model>]``."""

    page: int
    limit: int
    has_more: bool
    next_cursor: str | None = Field(description="resumes the list after this page; null on the last one")
