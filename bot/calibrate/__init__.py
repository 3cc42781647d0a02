"""`liqwatch calibrate`: does a predicted touch probability come true that often on history?

Reads a candle file, replays the monitor's σ and the touch probability through
``engine.calibration``, scores them per span (``engine.reliability``) and renders the table,
the JSON and the reliability chart. docs/calibration.md.

May import: engine, errors, candles (the candle files), digest (the charts' shared style).
"""
