"""Project Online (PWA) migration: the ``projectonline`` importer and ``bigov migrate
projectonline`` (read the export, map it through the PMO's YAML, import batch by batch, bring the
drivers and prioritisations across, import the schedules, reconcile and report)."""
