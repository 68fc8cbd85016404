"""The CDK app that deploys Vellum to AWS (docs/deploy.md)."""
