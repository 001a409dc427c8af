"""Order events: the types and the outbox row (record.py), the relay after commit (schedule.py, relay.py,
broker.py) and our own handlers of them (handlers.py)."""
