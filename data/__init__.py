"""Data shipped inside the package (``stswatch.data``), read through :mod:`importlib.resources`.

``model/`` holds the suspicion model (``suspicion.skops``) and its card
(``model_card.json``: version, SHA-256, training plan, code fingerprint, metrics).
Every file here is either produced by the project's own code from a seed (the
model: ``stswatch train``) or carries its provenance next to it.
"""
