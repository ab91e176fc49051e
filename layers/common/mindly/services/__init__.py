"""Use cases. Each calls the store, cache and llm through their small interfaces."""
