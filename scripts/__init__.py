"""Maintenance scripts (icons, screenshots, translations); front ends of the engine like
the app, held to the same import contracts."""
