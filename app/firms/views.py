"""Firm pages."""
