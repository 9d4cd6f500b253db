"""Read-only queries for lists and pages, kept apart from the services so they can be tuned."""
