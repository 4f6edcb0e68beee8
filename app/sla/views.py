"""Admin pages for the working calendar and the SLA policies."""
