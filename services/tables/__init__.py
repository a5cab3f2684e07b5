"""Restaurant tables: staff give tables to bookings, by hand or automatically, live.

Admins set up restaurants and their dining tables; staff take bookings (walk-ins too), propose
tables for them (held for a while if the rules allow, with the reasons if not), confirm or
cancel, let the best free table set be chosen, and move bookings through their evening. One
set of pure rules judges every proposal and ranks every suggestion, every decision is one
transaction that re-validates the proposals it affects, and each restaurant's floor and each
assignment session can be followed live; a per-process worker lets holds run out.
"""
