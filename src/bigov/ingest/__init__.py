"""Importers and exporters: mapped tables, project schedules (MPXJ), public portfolio data."""
