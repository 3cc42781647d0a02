"""Tests of the venue readers that normalise ccxt positions and balances."""
