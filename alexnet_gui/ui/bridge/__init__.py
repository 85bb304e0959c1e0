"""The window's side of the worker process: the client that starts it, sends it
requests and turns its events into Qt signals."""
