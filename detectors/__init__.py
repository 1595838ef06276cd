"""Pure detectors over DataFrames: tracks, rendezvous, loitering, AIS gaps. No I/O, no Prefect."""
