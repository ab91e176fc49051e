"""The Groq integration: the client, prompts, output schemas and the offline fallback."""
