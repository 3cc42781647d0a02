"""Tests of exchange access through real ccxt against the fake exchange."""
