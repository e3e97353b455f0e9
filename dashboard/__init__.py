"""opscenter: the operations command center application."""
