"""Console platform adapter: a chat in the terminal."""
