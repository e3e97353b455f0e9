"""maturity."""
