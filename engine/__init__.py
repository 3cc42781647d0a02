"""liqwatch's pure risk engine: numpy and the standard library only, no I/O, no clock."""
