"""Mindly: the shared code of every Lambda function (the common layer)."""

__version__ = "0.1.0"
