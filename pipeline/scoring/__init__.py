"""Suspicion scoring of rendezvous events (scikit-learn)."""
