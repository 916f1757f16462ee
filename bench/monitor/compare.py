"""compare.py: runs statsforecast on the series bench.c wrote (--csv DIR), with
the same protocol, so its figures sit beside weir's.

    python compare.py DIR/series.csv [--series N]

Accuracy: fit on all but the last 56 days of the clean series, forecast 1-7
days ahead from every origin in those 56 days (no refit), sMAPE and MASE as
bench.c computes them. Detection: one-day-ahead 99% intervals over the last
180 days of the series with anomalies (fitted once before them, as a
cross-validation without refit), precision and recall. Time: fit and
forecast per series. statsforecast's models do not see the holiday calendar
weir uses: that is part of what is compared. Run by compare.sh in a
throwaway virtualenv; nothing here is needed by weir.
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS, SeasonalNaive

warnings.filterwarnings("ignore")
HOLDOUT, H, EVAL = 56, 7, 180


def smape(a, f):
    a, f = np.asarray(a, float), np.asarray(f, float)
    ok = np.isfinite(a) & np.isfinite(f)
    a, f = a[ok], f[ok]
    d = np.abs(a) + np.abs(f)
    return np.mean(np.where(d > 0, 200 * np.abs(a - f) / np.where(d > 0, d, 1), 0))


def snaive_mae(y):
    y = np.asarray(y, float)
    return np.nanmean(np.abs(y[7:] - y[:-7]))


def models():
    return {
        "SeasonalNaive(7)": lambda: SeasonalNaive(season_length=7),
        "AutoETS(7)": lambda: AutoETS(season_length=7),
        "MSTL(7,365)+ETS": lambda: MSTL(season_length=[7, 365], trend_forecaster=AutoETS(model="ZZN")),
    }


def main():
    path = sys.argv[1]
    limit = int(sys.argv[sys.argv.index("--series") + 1]) if "--series" in sys.argv else None
    df = pd.read_csv(path, parse_dates=["ds"])
    ids = df["unique_id"].unique()
    if limit:
        ids = ids[:limit]
        df = df[df["unique_id"].isin(ids)]
    print(f"statsforecast on {len(ids)} series (no holiday calendar)")
    for name, make in models().items():
        # warm up numba on one series so compile time is not counted
        one = df[df["unique_id"] == ids[0]][["unique_id", "ds", "y_clean"]].rename(columns={"y_clean": "y"})
        StatsForecast(models=[make()], freq="D", n_jobs=1).forecast(df=one, h=H)

        t0 = time.time()
        sm, ms = [], []
        for uid in ids:
            s = df[df["unique_id"] == uid]
            clean = s[["unique_id", "ds", "y_clean"]].rename(columns={"y_clean": "y"})
            cv = StatsForecast(models=[make()], freq="D", n_jobs=1).cross_validation(
                df=clean, h=H, step_size=1, n_windows=HOLDOUT - H + 1, refit=False)
            col = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y")][0]
            sm.append(smape(cv["y"], cv[col]))
            scale = snaive_mae(clean["y"].values[:-HOLDOUT])
            ms.append(np.mean(np.abs(cv["y"] - cv[col])) / scale)
        acc_time = time.time() - t0
        print(f"    ({name}: accuracy done in {acc_time:.0f} s)", flush=True)

        t0 = time.time()
        tp = fp = fn = 0
        for uid in ids:
            s = df[df["unique_id"] == uid]
            dirty = s[["unique_id", "ds", "y"]]
            cv = StatsForecast(models=[make()], freq="D", n_jobs=1).cross_validation(
                df=dirty, h=1, step_size=1, n_windows=EVAL, refit=False, level=[99])
            col = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y") and "-" not in c][0]
            lab = s.set_index("ds").loc[cv["ds"], "anomaly"].values > 0
            alarm = ((cv["y"] < cv[f"{col}-lo-99"]) | (cv["y"] > cv[f"{col}-hi-99"])).values
            tp += int(np.sum(alarm & lab))
            fp += int(np.sum(alarm & ~lab))
            fn += int(np.sum(~alarm & lab))
        det_time = time.time() - t0
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")

        t0 = time.time()
        for uid in ids:
            s = df[df["unique_id"] == uid][["unique_id", "ds", "y"]]
            StatsForecast(models=[make()], freq="D", n_jobs=1).forecast(df=s, h=H, level=[99])
        fit_ms = (time.time() - t0) * 1000 / len(ids)
        print(f"  {name:18s} sMAPE {np.mean(sm):6.2f}%  MASE {np.mean(ms):5.3f}  "
              f"precision {p:5.3f} recall {r:5.3f} (tp {tp} fp {fp} fn {fn})  "
              f"fit+forecast {fit_ms:7.1f} ms a series  "
              f"(10,000 series: {fit_ms * 10:.0f} s on one core)  "
              f"[accuracy {acc_time:.0f} s, detection {det_time:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
