"""Shared pieces of the API: errors, resources, security, metrics, parameters."""
