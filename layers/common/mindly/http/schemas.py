"""Base classes for request bodies: strict about unknown fields and types."""

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """Unknown fields are an error (a typo must not be silently ignored); no type coercion from
    strings to numbers or booleans."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=10_000)
