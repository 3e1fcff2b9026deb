"""Where to act first: segment x theme tables with a priority score.

Within each segment (a value of a segment column: plan, region, tenure band,
channel, ...), the customers who mention a theme are compared with the
segment's other customers:

* ``churn_rate``: churn among the theme's mentioners in the segment;
* ``excess_churn``: that rate minus the churn of the segment's non-mentioners
  (the within-segment comparison keeps the segment's own churn level out);
* ``clv_at_risk``: total CLV held by the mentioners in the segment;
* ``priority`` = customers affected x mean CLV x excess churn
  = ``clv_at_risk x excess_churn``, the CLV expected to be lost to the
  theme's excess churn in that segment.

The interval of ``priority`` is ``clv_at_risk`` times the Newcombe interval
of the excess churn (CLV taken as known). Cells with fewer than
``SegmentConfig.min_customers`` customers on either side are flagged
``small_cell`` and ranked after the others.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from insight.config import SegmentConfig
from insight.errors import InsufficientDataError, MissingColumnError
from insight.join import JoinResult
from insight.schemas import OUTPUT_CONTRACT, Col

if TYPE_CHECKING:  # drivers imports kpi, which tabulates KPIs by this module's segment columns
    from insight.drivers import DriverResult

TENURE_BAND = "tenure_band"
_TENURE_EDGES = (0, 6, 12, 24, 48, np.inf)
_TENURE_LABELS = ("0-5 months", "6-11 months", "12-23 months", "24-47 months", "48+ months")
CONTRACT = OUTPUT_CONTRACT["segments.csv"]
EXTRA_COLUMNS = ("priority_ci_low", "priority_ci_high", "n_segment", "churn_rate_without", "mean_clv", "flags")
SMALL_CELL = "small_cell"
NO_CHURN = "no_churn_column"
_MAX_LEVELS = 30


def _tenure_band(tenure: pd.Series) -> pd.Series:
    values = pd.to_numeric(tenure, errors="coerce")
    return pd.cut(values, bins=list(_TENURE_EDGES), right=False, labels=list(_TENURE_LABELS)).astype("string")


def segment_columns(customers: pd.DataFrame, config: SegmentConfig = SegmentConfig()) -> dict[str, pd.Series]:
    """The segment columns to tabulate, as string Series (missing = ``<NA>``).

    ``config.columns`` when given (``"tenure_band"`` is derived from
    ``tenure_months``); otherwise every text/categorical customer column with
    2-30 levels, plus the tenure band when ``tenure_months`` exists.

    Raises
    ------
    MissingColumnError
        A requested column is not in the customer table.
    """
    band = _tenure_band(customers[Col.TENURE]) if Col.TENURE in customers else None
    derived = {TENURE_BAND: band} if band is not None and band.notna().any() else {}  # an empty tenure column: no band
    if config.columns is not None:
        missing = [c for c in config.columns if c not in customers and c not in derived]
        if missing:
            raise MissingColumnError(
                f"Segment column(s) {', '.join(map(repr, missing))} are not in the customer table "
                f"(found: {', '.join(map(str, customers.columns))}).",
                hint=f"Choose among the table's columns or {TENURE_BAND!r}.",
            )
        return {c: derived[c] if c in derived else customers[c].astype("string") for c in config.columns}
    found = {}
    for name in customers.columns:
        col = customers[name]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        if 2 <= col.nunique(dropna=True) <= _MAX_LEVELS:
            found[name] = col.astype("string")
    found.update(derived)
    return found


def segment_table(
    join: JoinResult, drivers: DriverResult | None = None, *, config: SegmentConfig = SegmentConfig()
) -> pd.DataFrame:
    """Segment x theme table ranked by priority (``segments.csv`` contract columns first).

    Parameters
    ----------
    join : JoinResult
        Customers with their theme exposure.
    drivers : DriverResult, optional
        When given, themes are taken in the driver table's order and a
        theme's global flags (e.g. ``confounded``) are carried into its rows.
    config : SegmentConfig
        ``columns`` (None: auto-detect) and ``min_customers`` per cell side.

    Returns
    -------
    DataFrame
        One row per (segment column, value, theme): segment_column,
        segment_value, theme, n_customers (mentioners in the segment),
        churn_rate, excess_churn, clv_at_risk, priority, then priority_ci_low,
        priority_ci_high, n_segment, churn_rate_without, mean_clv, flags.
        Sorted by flagged-last, then priority (highest first).

    Raises
    ------
    InsufficientDataError
        No theme or no segment column.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    customers = join.customers
    segments = segment_columns(customers, config)
    themes = _themes(join, drivers)
    if not segments or not themes:
        raise InsufficientDataError(
            "A segment table needs at least one theme and one segment column (plan, region, tenure, ...); "
            f"found {len(themes)} themes and {len(segments)} segment columns."
        )
    churn = None
    if Col.CHURNED in customers:
        y = pd.to_numeric(customers[Col.CHURNED], errors="coerce").astype(float)
        churn = (y.notna().to_numpy(), y.fillna(0).to_numpy())
    clv = pd.to_numeric(customers[Col.CLV], errors="coerce").astype(float).to_numpy() if Col.CLV in customers else None
    theme_flags = _theme_flags(drivers)
    exposed = join.mentions[themes].to_numpy() > 0
    rows = []
    for column, values in segments.items():
        for value in values.dropna().unique():
            in_seg = (values == value).fillna(False).to_numpy()
            for k, theme in enumerate(themes):
                rows.append(
                    _cell(column, value, theme, in_seg, exposed[:, k], churn, clv, config, confint_proportions_2indep)
                    | {"_theme_flags": theme_flags.get(theme, "")}
                )
    table = pd.DataFrame(rows)
    if table.empty:  # every segment column is empty
        raise InsufficientDataError("No customer has a value in any segment column, so there are no segments to rank.")
    table["flags"] = [";".join(f for f in (a, b) if f) for a, b in zip(table.pop("_theme_flags"), table["flags"])]
    flagged = table["flags"].str.contains(SMALL_CELL) | table[Col.PRIORITY].isna()
    order = pd.DataFrame({"flagged": flagged, "p": -table[Col.PRIORITY].fillna(-np.inf)}).sort_values(
        ["flagged", "p"], kind="stable"
    )
    return table.loc[order.index].reset_index(drop=True)[list(CONTRACT + EXTRA_COLUMNS)]


def _themes(join: JoinResult, drivers: DriverResult | None) -> list[str]:
    if drivers is None:
        return list(join.themes)
    ordered = list(dict.fromkeys(drivers.table[Col.THEME]))
    return [t for t in ordered if t in join.themes]


def _theme_flags(drivers: DriverResult | None) -> dict[str, str]:
    """Flags of each theme's churn row ("mentioned") in the driver table."""
    if drivers is None:
        return {}
    t = drivers.to_frame("mentioned")
    t = t[t[Col.OUTCOME] == "churn"]
    return {theme: f for theme, f in zip(t[Col.THEME], t["flags"].fillna("")) if f}


def _cell(column, value, theme, in_seg, exposed, churn, clv, config, confint) -> dict:
    """One (segment, theme) row; ``churn`` is (known mask, 0/1 values) or None."""
    with_ = in_seg & exposed
    without = in_seg & ~exposed
    row = {
        Col.SEGMENT_COLUMN: column, Col.SEGMENT_VALUE: value, Col.THEME: theme,
        Col.N_CUSTOMERS: int(with_.sum()), "n_segment": int(in_seg.sum()),
    }  # fmt: skip
    flags = []
    mean_clv = float(np.nanmean(clv[with_])) if clv is not None and with_.any() else np.nan
    row["mean_clv"] = mean_clv
    row[Col.CLV_AT_RISK] = mean_clv * row[Col.N_CUSTOMERS] if np.isfinite(mean_clv) else np.nan
    if churn is None:
        flags.append(NO_CHURN)
        c1 = n1 = c0 = n0 = 0
    else:
        known, y = churn
        n1, n0 = int((with_ & known).sum()), int((without & known).sum())
        c1, c0 = int(y[with_ & known].sum()), int(y[without & known].sum())
    if min(n1, n0) < config.min_customers:
        flags.append(SMALL_CELL)
    rate1 = c1 / n1 if n1 else np.nan
    rate0 = c0 / n0 if n0 else np.nan
    excess = rate1 - rate0
    low = high = np.nan
    if n1 and n0:
        low, high = confint(c1, n1, c0, n0, method="newcomb", compare="diff")
    at_risk = row[Col.CLV_AT_RISK]
    row.update({
        Col.CHURN_RATE: rate1, "churn_rate_without": rate0, Col.EXCESS_CHURN: excess,
        Col.PRIORITY: at_risk * excess, "priority_ci_low": at_risk * low, "priority_ci_high": at_risk * high,
        "flags": ";".join(flags),
    })  # fmt: skip
    return row


def high_value_high_churn(
    join: JoinResult,
    drivers: DriverResult | None = None,
    *,
    config: SegmentConfig = SegmentConfig(),
    top: int = 3,
    cells: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Segments with above-median mean CLV and above-median churn, and the themes behind them.

    The medians are taken over all segments of all segment columns (so a
    segment is compared with every other way of slicing the customers). The
    themes listed are the segment's ``top`` themes by priority with a positive
    excess churn and no small-cell flag. ``cells`` is the run's
    :func:`segment_table` when already computed (the app passes it, so the table
    is not rebuilt on every page render).

    Returns
    -------
    DataFrame
        segment_column, segment_value, n_segment, mean_clv, churn_rate,
        top_themes (";"-joined), priority (sum over those themes); highest
        mean CLV x churn first. Empty when nothing qualifies.
    """
    customers = join.customers
    if Col.CHURNED not in customers or Col.CLV not in customers:
        raise InsufficientDataError("The high-value/high-churn view needs both a churn and a CLV column.")
    churn = pd.to_numeric(customers[Col.CHURNED], errors="coerce").astype(float)
    clv = pd.to_numeric(customers[Col.CLV], errors="coerce").astype(float)
    stats = []
    for column, values in segment_columns(customers, config).items():
        frame = pd.DataFrame({"v": values, "churn": churn, "clv": clv}).dropna(subset=["v"])
        g = frame.groupby("v", observed=True).agg(n_segment=("v", "size"), mean_clv=("clv", "mean"), churn_rate=("churn", "mean"))
        g = g[g["n_segment"] >= config.min_customers]
        stats.append(g.reset_index().rename(columns={"v": Col.SEGMENT_VALUE}).assign(**{Col.SEGMENT_COLUMN: column}))
    stats = pd.concat(stats, ignore_index=True) if stats else pd.DataFrame()
    columns = [Col.SEGMENT_COLUMN, Col.SEGMENT_VALUE, "n_segment", "mean_clv", Col.CHURN_RATE, "top_themes", Col.PRIORITY]
    if stats.empty:
        return pd.DataFrame(columns=columns)
    hot = stats[(stats["mean_clv"] > stats["mean_clv"].median()) & (stats[Col.CHURN_RATE] > stats[Col.CHURN_RATE].median())]
    if hot.empty:
        return pd.DataFrame(columns=columns)
    if cells is None:
        cells = segment_table(join, drivers, config=config)
    good = cells[(cells[Col.EXCESS_CHURN] > 0) & ~cells["flags"].str.contains(SMALL_CELL)]
    out = []
    for _, seg in hot.iterrows():
        mine = good[(good[Col.SEGMENT_COLUMN] == seg[Col.SEGMENT_COLUMN]) & (good[Col.SEGMENT_VALUE] == seg[Col.SEGMENT_VALUE])]
        mine = mine.nlargest(top, Col.PRIORITY)
        out.append({**seg[[Col.SEGMENT_COLUMN, Col.SEGMENT_VALUE, "n_segment", "mean_clv", Col.CHURN_RATE]].to_dict(),
                    "top_themes": ";".join(mine[Col.THEME]), Col.PRIORITY: float(mine[Col.PRIORITY].sum())})
    result = pd.DataFrame(out, columns=columns)
    score = result["mean_clv"] * result[Col.CHURN_RATE]
    return result.loc[score.sort_values(ascending=False).index].reset_index(drop=True)
