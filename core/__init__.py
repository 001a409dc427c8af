"""Shared plumbing with no domain words: admin base classes, counting, money, timestamps, raw inserts,
demo ids. Imports no app of the project; every app may import it."""
