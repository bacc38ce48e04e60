"""nerasense._frames.aligned: columns cut alike, values unchanged."""

from __future__ import annotations

import polars as pl

from nerasense._frames import aligned


def _chunked(values: list[object], cuts: list[int], name: str) -> pl.Series:
    pieces, at = [], 0
    for cut in [*cuts, len(values)]:
        pieces.append(pl.Series(name, values[at:cut]))
        at = cut
    return pl.concat(pieces, rechunk=False)


def test_odd_columns_are_cut_like_the_others() -> None:
    frame = pl.DataFrame([
        _chunked(list(range(10)), [3, 7], "a"),
        _chunked([str(i) for i in range(10)], [3, 7], "b"),
        _chunked([i * 0.5 for i in range(10)], [5], "c"),  # two chunks where the others have three
        pl.Series("d", [None] * 10, dtype=pl.String),  # one chunk, as a literal column comes back
    ])
    out = aligned(frame)
    assert {tuple(s.chunk_lengths()) for s in out.get_columns()} == {(3, 4, 3)}
    assert out.equals(frame)
    assert out.columns == frame.columns


def test_an_aligned_frame_is_returned_as_is() -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert aligned(frame) is frame


def test_without_rows_equals_a_filter() -> None:
    from nerasense import _frames

    frame = pl.DataFrame([_chunked(list(range(200)), [50, 120], "a"), _chunked([f"r{i}" for i in range(200)], [50, 120], "b")])
    for drop in ([], [0], [199], [0, 1, 2], [49, 50, 51, 119, 120], list(range(0, 200, 2))):  # the last: more than
        positions = pl.Series(drop, dtype=pl.UInt32)                                         # _MAX_CUTS, one filter
        got = _frames.without_rows(frame, positions)
        assert got.equals(frame.filter(~pl.col("a").is_in(drop))), drop
        assert {tuple(s.chunk_lengths()) for s in got.get_columns()} == {tuple(got["a"].chunk_lengths())}
    assert _frames.without_rows(frame, pl.Series(list(range(200)), dtype=pl.UInt32)).height == 0
