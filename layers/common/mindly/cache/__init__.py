"""Redis (Upstash) access: caches, counters, token revocation, rate limits, leaderboards.

Losing Redis loses no data; every key is namespaced by environment and carries a TTL.
"""
