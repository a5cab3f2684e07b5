"""Thin resolvers: auth context and input in, one service call, payload out."""
