"""Restaurant tables: staff give tables to bookings, by hand or automatically, live.

rules.py     the one pure constraint engine (validate, rank_candidates)
assign.py    the flows, one transaction each: propose/hold, confirm, cancel, auto-assign,
             booking status changes; targeted re-validation lives in common.py
setup.py     restaurants, dining tables and bookings
reads.py     queries; views.py the set-based reads behind every answer and event
live.py      floorEvents and sessionEvents; expiry.py the per-process hold expirer
"""
