"""Demo data for `make run` (``manage.py demo``): every app's demo loader lives here, not in the runtime apps."""
