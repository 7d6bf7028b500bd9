"""Mapping presets shipped with bigov (YAML files; see docs/importing.md)."""
