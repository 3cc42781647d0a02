"""Pure text every adapter shares: number formatting, notice text, the analysis report.
May import: engine only (no I/O, no storage, no other bot package).
"""
