"""Every write on orders: create (create.py), status moves (lifecycle.py), fulfilment (fulfillment.py),
refunds (refunds.py). Views, admin, tasks and commands call these; nothing else changes an order."""
