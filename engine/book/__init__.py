"""Many accounts' snapshots as one book, re-priced together at streamed marks.

``Book`` (book.py) holds the accounts; ``Repriced`` (result.py) is what a tick returns. Inside:
``block`` prepares one account's static columns per poll, ``store`` keeps them as growing
columns with the shared tier tables and the symbol index, ``view`` gathers a set of accounts,
``tick`` moves marks into the book (``engine.reprice.with_marks`` for many), ``pricing``
re-solves and measures (``engine.analysis`` for many) and ``totals`` sums the portfolios.
"""

from engine.book.book import Book
from engine.book.result import Repriced

__all__ = ["Book", "Repriced"]
