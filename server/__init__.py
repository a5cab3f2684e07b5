"""ASGI app factory, settings, CLI, token verification and health endpoints."""
