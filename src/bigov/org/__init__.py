"""The org context."""
