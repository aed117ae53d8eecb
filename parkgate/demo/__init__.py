"""Demo data for `make run` (``manage.py demo``): every app's demo loader, kept out of the runtime apps."""
