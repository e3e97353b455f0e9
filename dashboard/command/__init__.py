"""Acting on incidents: the duty manager's actions and their write-back to the ITSM."""
