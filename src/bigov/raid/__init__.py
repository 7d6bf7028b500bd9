"""The raid context."""
