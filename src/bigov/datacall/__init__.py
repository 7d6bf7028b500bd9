"""Data calls: who owes what for each sitting — requests, submission, assurance, reminders."""
