"""Linejam-style collaborative poems: assignment matrix and line validation."""
