"""The real app plus the probe area, for tests that start server processes."""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app, tune_gc
from tests.support import probe_schema


def app_factory() -> Starlette:
    """For `uvicorn tests.support.probe_app:app_factory --factory` (as the real server runs)."""
    app = create_app(extra_schema=[probe_schema])
    tune_gc()
    return app
