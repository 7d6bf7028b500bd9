"""The resources context."""
