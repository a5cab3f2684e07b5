"""Loyalty: creators on a shop platform earn rewards for missions (sales, videos, views, likes)
open to their tier or above. Admins set up tiers, creators and missions and import metric
events from CSV (idempotent: an event is imported once per source and external id); a daily
sync, safe to run twice and from two processes at once, creates every eligible creator's
progress rows, keeps them current, completes them and creates the reward, in one set-based
transaction per tenant. Creators follow their progress live and claim completed rewards."""
