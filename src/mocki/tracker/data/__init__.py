"""Training data of the tracker's email classifier and the generator that wrote it."""
