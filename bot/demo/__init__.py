"""`liqwatch demo`: the real runtime on a simulated venue, in the console.
May import anything in bot/ (a composition root, like runtime).
"""
