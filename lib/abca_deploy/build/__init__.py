"""Building images: pick a backend (BuildKit through buildx, or the classic builder), run it with layers
reused from the registry, read back what was pushed, and check it against AgentCore's image limits.

``runtime/`` asks this package for "an image for this context" and knows nothing of buildx.
"""
