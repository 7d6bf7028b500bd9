"""Analysis: the answers in the MI packs — traceability, alignment gaps, attainment, benefits
realisation, run/change balance, resources, roll-ups, agility and data quality.

One module per question; each exposes service functions taking a SQLAlchemy ``Session`` and
returning pydantic models (see ``docs/analysis.md``). ``bigov.analysis.cli.register`` adds the
commands to a Typer app.
"""
