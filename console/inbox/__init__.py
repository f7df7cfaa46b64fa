"""The inbox: replies to work, most urgent first."""
