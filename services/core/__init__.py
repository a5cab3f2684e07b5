"""Tenants, users and what a caller may do."""
