"""The deal pipeline: the board and list of deals, moves between stages, the deal page."""
