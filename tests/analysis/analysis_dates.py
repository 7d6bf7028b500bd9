"""The as-at date of the hand-built organisation (a module of its own so tests import it by a
name no other test folder uses)."""

import datetime as dt

AS_AT = dt.date(2024, 6, 15)
