"""The Litestar application: REST API under /api/v1 and explorer pages."""
