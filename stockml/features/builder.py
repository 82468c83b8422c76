"""`FeatureBuilder`: the scikit-learn transformer that turns a panel into a feature frame."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided
from sklearn.base import BaseEstimator, TransformerMixin

from stockml.features.custom import CustomFeature, custom_features, resolve_all
from stockml.features.formulas import (
    Formula,
    FormulaInputs,
    compile_formulas,
    shared_subexpressions,
)
from stockml.features.panel import PanelArrays
from stockml.features.presets import PRESETS
from stockml.features.registry import FAMILIES, get_family
from stockml.features.spec import Feature
from stockml.messages import InputError
from stockml.threads import job_cores

DEFAULT_PRESET = "technical"
# Features are always computed in float64; `dtype` is how they are stored. float64 is the
# default here, so configs recorded before the option existed reproduce exactly; the run
# configs (conf/features/*.yaml) choose float32, which halves the design matrix.
DEFAULT_DTYPE = "float64"
DTYPES = ("float32", "float64")
# Rows per block of whole tickers: a block's float64 intermediates (~0.5 MiB each) stay in
# the CPU's L2 cache, and freed ones are reused rather than fresh pages the kernel must map
# (2^18 rows: about 1.3x the CPU time and 3x the page faults on the 1M-row benchmark).
BLOCK_ROWS = 2**16


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Causal, unit-free features for every (ticker, date) row of a panel.

    ``preset`` names a feature set in `PRESETS`; ``families`` maps family name -> options and is
    merged over the preset option by option, so ``{"trend": {"windows": [10]}}`` changes only the
    trend windows. A family mapped to ``None`` is dropped from the preset. With neither argument
    the ``technical`` preset is used. ``expressions`` maps extra column names to formulas
    (`stockml.features.formulas`), appended after the preset's columns. Configuration is
    validated by `fit`, `transform`, `get_feature_names_out` and `warmup_rows`, never in
    ``__init__`` (scikit-learn's contract).

    The builder is stateless: every value at row t uses bars up to t of the same ticker only
    (or, for a formula's cross-sectional operator, of the same date), so fitting learns nothing
    and the transform of a training fold (whole dates) equals that rows' transform of the whole
    panel. The first `warmup_rows` rows of each ticker may hold NaN (windows not yet
    full); callers drop them after attaching labels.

    ``custom`` adds the user's own Python features (`stockml.features.custom`): functions of the
    whole panel whose columns follow the preset's. Their column names are only known once they
    have run, so `fit` learns them on a small sample (``custom_columns_``: name -> warm-up).
    With ``audit`` (the default), `fit` also proves every user-added feature causal on that data
    (`stockml.features.audit`) and refuses one that reads ahead: every path that builds
    training features fits the builder on the training panel, while a saved model only
    transforms, so each training run is checked once and prediction is not slowed.

    It takes a price panel, not a generic 2-D array: ``X`` is a ``(ticker, date)``-indexed
    frame of open, high, low, close and volume, and the output has one row per input row.

    Parameters
    ----------
    families : mapping of str to (mapping or None), default=None
        Family name -> options, merged over the preset's options (see `FAMILIES`).
    preset : str or None, default=None
        A feature set of `PRESETS`; with neither argument, ``"technical"``.
    dtype : {"float32", "float64"}, default="float64"
        How the features are stored (they are always computed in float64).
    expressions : mapping of str to str, default=None
        Extra column name -> formula (`stockml.features.formulas`), after the preset's columns.
    custom : sequence, default=None
        The user's own feature functions (`stockml.features.custom`), after the formulas.
    audit : bool, default=True
        Whether `fit` proves every user-added feature causal and refuses one that reads ahead.

    Examples
    --------
    >>> from stockml.data import synthetic_panel
    >>> from stockml.features import FeatureBuilder
    >>> panel = synthetic_panel(n_tickers=2, n_days=60, seed=0)
    >>> builder = FeatureBuilder(preset="minimal", dtype="float32")
    >>> features = builder.fit_transform(panel)
    >>> features.shape, str(features.dtypes.iloc[0])
    ((120, 10), 'float32')
    >>> list(builder.get_feature_names_out()[:4])
    ['ret_lag_1', 'ret_lag_2', 'ret_lag_5', 'roc_20']

    Each ticker's first `warmup_rows` rows may be NaN; every later row is complete:

    >>> builder.warmup_rows
    20
    >>> bool(features.groupby(level="ticker").tail(60 - 20).notna().all(axis=None))
    True
    """

    def __init__(
        self,
        *,
        families: Mapping[str, Mapping | None] | None = None,
        preset: str | None = None,
        dtype: str = DEFAULT_DTYPE,
        expressions: Mapping[str, str] | None = None,
        custom: Sequence[Any] | None = None,
        audit: bool = True,
    ) -> None:
        self.families = families
        self.preset = preset
        self.dtype = dtype
        self.expressions = expressions
        self.custom = custom
        self.audit = audit

    def fit(self, panel: pd.DataFrame, y: Any = None) -> FeatureBuilder:
        """Validate the configuration, learn the custom columns' names and, with ``audit``,
        refuse a user-added feature that reads ahead; nothing else is learned from ``panel``."""
        from stockml.features.audit import audit_sample, require_causal

        self._columns()
        self._output_dtype()
        if self._custom():
            self.user_features(audit_sample(panel, self.warmup_rows))
        if self.audit:
            require_causal(self, panel)
        return self

    def transform(self, panel: pd.DataFrame) -> pd.DataFrame:
        """One column per feature (of ``dtype``), on exactly ``panel``'s index."""
        values = self.transform_rows(panel, np.arange(len(panel)))
        return pd.DataFrame(values.T, index=panel.index, columns=self.feature_names(), copy=False)

    def transform_rows(self, panel: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        """The features of the panel rows at positions ``rows``, in that order, as a
        (feature, row) array of ``dtype``: the design matrix, built once, without the frame
        of all rows that a transform followed by a row selection would hold twice.

        Values are computed in float64 on blocks of whole tickers (a block's intermediates
        stay in the CPU cache) and rounded once, when written into the result; every value
        still depends only on its own ticker's bars up to its row, so blocks change nothing.
        Formulas come next, each computed once on the whole panel: a cross-sectional operator
        needs every ticker of a date. Custom features come last, also run once on the whole
        panel; their warm-up rows are masked like the preset's.
        """
        features = self._features()
        formulas = self._formulas(features)
        dtype = self._output_dtype()
        rows = np.asarray(rows, dtype=np.intp)
        arrays = PanelArrays.from_panel(panel)
        taken = [column.name for column in [*features, *formulas]]
        columns = self._custom_columns(panel, arrays, rows, taken)
        values = np.empty((len(taken) + len(columns), len(rows)), dtype=dtype)
        if features:

            def fill(block: PanelArrays, placement: _Placement) -> None:
                for output, feature in zip(values[: len(features)], features, strict=True):
                    placement.put(output, feature.compute(block), feature.warmup)

            warmup = max(feature.warmup for feature in features)
            _run_blocks(fill, _ticker_blocks(arrays, rows, warmup))
        if formulas:
            data = FormulaInputs.from_panel(
                panel, arrays, {f.name: f for f in features}, shared_subexpressions(formulas)
            )
            placement = _Placement(
                arrays, np.arange(len(rows)), rows, max(f.warmup for f in formulas)
            )
            for output, formula in zip(values[len(features) : len(taken)], formulas, strict=True):
                placement.put(output, formula.evaluate(data), formula.warmup)
        for output, column in zip(values[len(taken) :], columns.values(), strict=True):
            output[...] = column
        return values

    def feature_names(self) -> list[str]:
        return [column.name for column in self._columns()] + self._custom_names()

    def user_feature_names(self) -> list[str]:
        """The columns the user added (formula and custom features): what the audit checks."""
        formulas = self._formulas(self._features())
        return [formula.name for formula in formulas] + self._custom_names()

    def user_features(self, panel: pd.DataFrame) -> pd.DataFrame:
        """The user-added columns alone, on ``panel``'s index: what the audit recomputes.

        Custom features need nothing else, so the preset is not computed for them; formula
        columns may read preset features, so with formulas the whole transform runs.
        """
        if self.expressions:
            return self.transform(panel)[self.user_feature_names()]
        rows = np.arange(len(panel))
        taken = [column.name for column in self._columns()]
        columns = self._custom_columns(panel, PanelArrays.from_panel(panel), rows, taken)
        dtype = self._output_dtype()
        return pd.DataFrame(
            {name: column.astype(dtype) for name, column in columns.items()}, index=panel.index
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names(), dtype=object)

    @property
    def warmup_rows(self) -> int:
        """Leading rows per ticker that can be NaN: how much history precedes the first
        complete feature row."""
        warmups = [column.warmup for column in self._columns()]
        return max(warmups + [feature.warmup for feature in resolve_all(self._custom())])

    def feature_warmups(self) -> dict[str, int]:
        """Feature name -> number of leading NaN rows per ticker, for finer history checks
        (a custom feature's declared warm-up for each of its columns)."""
        warmups = {column.name: column.warmup for column in self._columns()}
        return warmups | (self._fitted_custom_columns() if self._custom() else {})

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def _custom(self) -> list[CustomFeature]:
        return custom_features(self.custom)

    def _custom_names(self) -> list[str]:
        return list(self._fitted_custom_columns()) if self._custom() else []

    def _fitted_custom_columns(self) -> dict[str, int]:
        if not hasattr(self, "custom_columns_"):
            raise InputError(
                "FeatureBuilder: custom feature names are known once it has built features; "
                "call fit or transform first"
            )
        return dict(self.custom_columns_)

    def _learn_custom_columns(self, columns: dict[str, int]) -> None:
        """Remember the custom columns (name -> warm-up); they must not change between panels,
        or a model would be fed columns other than those it was fitted on."""
        known = getattr(self, "custom_columns_", None)
        if known is not None and list(known) != list(columns):
            raise InputError(
                f"custom features returned columns {list(columns)} here but {list(known)} "
                "before; a feature's columns must not depend on the data"
            )
        self.custom_columns_ = columns

    def _custom_columns(
        self, panel: pd.DataFrame, arrays: PanelArrays, rows: np.ndarray, taken: list[str]
    ) -> dict[str, np.ndarray]:
        """Name -> values at ``rows`` of every custom column, warm-up rows NaN; a name that
        clashes with a preset feature or another custom column is refused."""
        columns: dict[str, np.ndarray] = {}
        warmups: dict[str, int] = {}
        resolved = resolve_all(self._custom())
        for feature in resolved:
            for name, values in feature.compute(panel).items():
                if name in columns or name in taken:
                    raise InputError(
                        f"custom feature {feature.path}: column {name!r} clashes with another "
                        "feature of that name; rename it"
                    )
                picked = values[rows]
                picked[arrays.position[rows] < feature.warmup] = np.nan
                columns[name], warmups[name] = picked, feature.warmup
        if resolved:
            self._learn_custom_columns(warmups)
        return columns

    def _output_dtype(self) -> np.dtype:
        if self.dtype not in DTYPES:
            raise InputError(
                f"FeatureBuilder: dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}"
            )
        return np.dtype(self.dtype)

    def _features(self) -> list[Feature]:
        options = resolve_options(self.preset, self.families)
        features = [
            feature
            for name in FAMILIES
            if name in options
            for feature in FAMILIES[name].features(options[name])
        ]
        if not features and not self.expressions and not self.custom:
            raise InputError(
                f"FeatureBuilder(preset={self.preset!r}, families=...) selects no features"
            )
        return features

    def _formulas(self, features: list[Feature]) -> list[Formula]:
        return compile_formulas(_plain(self.expressions), features)

    def _columns(self) -> list[Feature | Formula]:
        """Every output column in order: the preset's features, then the formulas."""
        features = self._features()
        return [*features, *self._formulas(features)]


class _Placement:
    """Where the computed rows of one block of tickers go in an output row of features.

    In general a gather and a scatter through index arrays; when the block's rows form a
    regular grid in the output (a date-major design matrix of tickers sharing their dates,
    or the block's own rows in order) both sides are strided views instead, several times
    cheaper. Computed columns may be shared intermediates, so they are only ever read.
    """

    def __init__(
        self, block: PanelArrays, targets: np.ndarray, sources: np.ndarray, warmup: int
    ) -> None:
        self.targets, self.sources = targets, sources
        positions = block.position[sources]
        # the few rows any column's warm-up can cover (``warmup``: the longest), found once
        self.early = np.flatnonzero(positions < warmup)
        self.early_positions = positions[self.early]
        self.grid = _grid(block, targets, sources)

    def put(self, output: np.ndarray, column: np.ndarray, warmup: int) -> None:
        """Write ``column``'s rows into ``output``: NaN for warm-up rows and infinities."""
        warming = self.early[self.early_positions < warmup]
        if self.grid is None:
            picked = column[self.sources]
            picked[warming] = np.nan
            picked[np.isinf(picked)] = np.nan
            output[self.targets] = picked
            return
        (first_target, target_steps), (first_source, source_steps), shape = self.grid
        if shape[0] == 1 and target_steps[1] == source_steps[1] == 1:  # one run: plain slices
            written = output[first_target : first_target + shape[1]]
            written[...] = column[first_source : first_source + shape[1]]
        else:
            written = as_strided(
                output[first_target:], shape, [step * output.itemsize for step in target_steps]
            )
            # rounded to the output's dtype first, in one contiguous pass: a strided copy
            # between equal dtypes is twice as fast as one that also casts (the same bits)
            source = column[first_source:].astype(output.dtype, copy=False)
            written[...] = as_strided(
                source, shape, [step * source.itemsize for step in source_steps]
            )
        output[self.targets[warming]] = np.nan
        if np.isinf(column).any():  # rare, and the contiguous column is the cheaper check
            np.copyto(written, np.nan, where=np.isinf(written))


Strides = tuple[int, tuple[int, int]]


def _grid(
    block: PanelArrays, targets: np.ndarray, sources: np.ndarray
) -> tuple[Strides, Strides, tuple[int, int]] | None:
    """``((first, steps) of targets, (first, steps) of sources, shape)`` when both index
    arrays are one regular 2-D grid, else None."""
    count = len(targets)
    if np.all(np.diff(targets) == 1) and np.all(np.diff(sources) == 1):
        return (targets[0], (0, 1)), (sources[0], (0, 1)), (1, count)
    tickers, length = len(block.lengths), int(block.lengths[0])
    if count % tickers or np.any(block.lengths != length):
        return None
    shape = (count // tickers, tickers)  # (date, ticker) of a date-major selection
    target_steps = (int(targets[tickers]) - int(targets[0]) if shape[0] > 1 else 0, 1)
    source_steps = (1, length)
    for (first, steps), indices in (
        ((targets[0], target_steps), targets),
        ((sources[0], source_steps), sources),
    ):
        expected = first + steps[0] * np.arange(shape[0])[:, None] + steps[1] * np.arange(tickers)
        if not np.array_equal(indices.reshape(shape), expected):
            return None
    return (targets[0], target_steps), (sources[0], source_steps), shape


def _ticker_blocks(
    arrays: PanelArrays, rows: np.ndarray, warmup: int
) -> Iterator[tuple[PanelArrays, _Placement]]:
    """Runs of whole tickers of about `BLOCK_ROWS` rows, each with the placement of the
    output rows that fall in it (of columns whose warm-up is at most ``warmup``)."""
    ends = np.cumsum(arrays.lengths)
    first_tickers = np.flatnonzero(np.diff((ends - 1) // BLOCK_ROWS, prepend=-1))
    ticker_bounds = np.append(first_tickers, len(ends))
    row_bounds = np.concatenate([[0], ends])[ticker_bounds]
    block_of = np.searchsorted(row_bounds, rows, side="right") - 1
    # block numbers are small: as the narrowest unsigned type, NumPy's stable sort is a radix sort
    by_block = np.argsort(block_of.astype(np.min_scalar_type(len(first_tickers))), kind="stable")
    counts = np.bincount(block_of, minlength=len(first_tickers))
    for number, targets in enumerate(np.split(by_block, np.cumsum(counts)[:-1])):
        if len(targets):
            block = arrays.tickers(ticker_bounds[number], ticker_bounds[number + 1])
            sources = rows[targets] - row_bounds[number]
            yield block, _Placement(block, targets, sources, warmup)


def _run_blocks(
    fill: Callable[[PanelArrays, _Placement], None],
    blocks: Iterator[tuple[PanelArrays, _Placement]],
) -> None:
    """``fill`` every block, on as many threads as the job has cores.

    Blocks hold disjoint tickers and write disjoint output rows, and a block's values never
    depend on the thread that computes it, so threads change no number; they pay because the
    heavy parts (pandas' window kernels, NumPy ufuncs, SciPy filters) release the GIL. Each
    thread takes the next block when it is free, so only one block per thread is in memory.
    """
    workers = job_cores()
    if workers == 1:
        for block, placement in blocks:
            fill(block, placement)
        return
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                pair = next(blocks, None)
            if pair is None:
                return
            fill(*pair)

    with ThreadPoolExecutor(workers, thread_name_prefix="features") as pool:
        for done in [pool.submit(work) for _ in range(workers)]:
            done.result()


def resolve_options(
    preset: str | None, families: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Family name -> option overrides, from the preset updated with ``families``."""
    if preset is None and families is None:
        preset = DEFAULT_PRESET
    if preset is not None and preset not in PRESETS:
        raise InputError(f"unknown feature preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    merged = {name: dict(options) for name, options in PRESETS.get(preset, {}).items()}
    if families is not None and not isinstance(families, Mapping):
        raise InputError(f"families must map family name -> options, got {families!r}")
    for name, options in _plain(families or {}).items():
        get_family(name)
        if options is None:
            merged.pop(name, None)
        elif isinstance(options, Mapping):
            merged[name] = {**merged.get(name, {}), **options}
        else:
            raise InputError(f"feature family {name!r}: options must be a mapping, got {options!r}")
    return merged


def _plain(value: Any) -> Any:
    """Plain dicts and lists from any mappings and sequences, e.g. OmegaConf containers."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value
