"""Operating a workspace: consistency checks and repair (``doctor``), backup and restore."""
