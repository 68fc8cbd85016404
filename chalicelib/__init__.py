"""Vellum: Invenio's file stack for AWS Lambda. Everything here ships to Lambda."""
