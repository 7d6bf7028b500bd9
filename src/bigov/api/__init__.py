"""The REST API, /api/v1: one router per context, thin over the services, scope and figures."""
