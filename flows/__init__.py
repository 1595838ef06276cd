"""Prefect flows and deployments: thin wiring over pipeline/ and detectors/."""
