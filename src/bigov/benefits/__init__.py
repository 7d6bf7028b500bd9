"""The benefits context."""
