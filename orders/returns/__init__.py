"""Returns and refunds of delivered units (services.py)."""
