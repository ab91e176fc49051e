"""What the store tells its callers, in the store's own words (services translate them)."""


class AlreadyExists(Exception):
    """A conditional create found the item there already."""


class StaleWrite(Exception):
    """A conditional update found the item changed since it was read."""
