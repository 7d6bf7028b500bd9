"""Engine, sessions, the declarative base and its mixins, and Alembic migrations."""
