"""Incremental updates: live ingestion (`ingest`) and the micro-batch worker (`loop`)."""
