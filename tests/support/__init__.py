"""Helpers shared by several test packages (servers on loopback, ...)."""
