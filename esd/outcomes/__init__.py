"""What became of delivered strong signals, measured (contract §12, §13): pure
functions over the state store's records, no I/O."""
