"""Adapters that turn monitoring, ITSM and chaos sources into contract frames."""
