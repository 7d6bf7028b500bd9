"""The strategy context."""
