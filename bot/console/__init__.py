"""The console adapter: plain-text rendering for the terminal."""
