"""benchmarks/options.py at a tiny size: the vectorised pass and the per-option one agree."""

from __future__ import annotations

from benchmarks import options


def test_option_pass_agrees_with_the_per_option_version() -> None:
    """``run`` checks both sides to 1e-9 before timing; one row per size comes back."""
    ((n, engine_s, reference_s),) = options.run([500])
    assert n == 500 and engine_s > 0 and reference_s > 0


def test_the_check_can_fail() -> None:
    """A per-option sum moved by 1e-6 is caught."""
    book = options.synthetic_options(50)
    want = options.reference_pass(book)
    want["vega_usd"][0] += 1e-6 * abs(want["vega_usd"][0]) + 1e-3
    try:
        options._check(options.engine_pass(book), want)
    except AssertionError:
        return
    raise AssertionError("a different vega sum passed the check")
