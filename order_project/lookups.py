# A strict UUID pattern for URL lookups: anything else is a 404 from the router, never a 500 from the ORM.
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
