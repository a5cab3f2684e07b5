"""The realtime hub and the one way every area writes a subscription."""
