"""Prometheus metrics of the realtime path."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ACTIVE_SUBSCRIPTIONS = Gauge(
    "allot_active_subscriptions", "Subscriptions currently open", ["field"]
)
EVENTS_DELIVERED = Counter(
    "allot_events_delivered_total", "Subscription events yielded to clients", ["field"]
)
RESYNCS = Counter("allot_resyncs_total", "Resync snapshots sent", ["reason"])
HUB_RECONNECTS = Counter("allot_hub_reconnects_total", "LISTEN connection reconnects")
NOTIFICATIONS = Counter("allot_notifications_total", "Notifications received by the hub")
SHARED_FRAMES = Counter(
    "allot_shared_frames_total",
    "Subscription deltas sent as frames made once for every reader (no per-reader execution)",
)
REALTIME_READS = Counter(
    "allot_realtime_reads_total",
    "Statements the hub ran to read changed rows back (none for rows a notification carried)",
)
DIRECT_DELTAS = Counter(
    "allot_direct_deltas_total",
    "Deltas sent from the hub's task, their subscription's reader not woken (stream.live)",
)
