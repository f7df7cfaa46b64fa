"""Today: tasks and callbacks people owe leads and deals."""
