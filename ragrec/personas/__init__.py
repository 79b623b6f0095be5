"""Personas: behaviour clusters crossed with Louvain communities, named from the data."""
