"""The one Logger of a function container; everything imports it from here."""

from aws_lambda_powertools import Logger

logger = Logger(service="mindly")
