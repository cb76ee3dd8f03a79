"""Talking to container registries over the Registry HTTP API v2 (`client.py`)."""
