"""Media helpers shared by agents and processors: decoding with PyAV, JPEG encoding."""
