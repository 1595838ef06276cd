"""Geodesy and reference geography: distances, spatial index, ports, coast, anchorages."""
