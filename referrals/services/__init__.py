"""Services: the only code that changes state. They flush, audit and never commit."""
