"""`liqwatch demo`: a simulated venue, market and accounts for the real monitor loop."""
