"""The rules of each area: pure planners, commands that own transactions, and events."""
