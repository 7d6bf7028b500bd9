"""The finance context."""
