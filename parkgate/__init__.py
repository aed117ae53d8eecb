"""Parkgate: open-source parking access platform."""
