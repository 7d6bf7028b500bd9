"""The work context."""
