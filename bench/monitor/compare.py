"""compare.py: runs statsforecast, and Prophet when it is installed, on the
series bench.c wrote (--csv DIR), with the same protocol, so their figures sit
beside weir's.

    python compare.py DIR/series.csv [--series N] [--only statsforecast|prophet]

Accuracy: fit on all but the last 56 days of the clean series, forecast 1-7
days ahead from every origin in those 56 days (no refit), sMAPE and MASE as
bench.c computes them. Detection: one-day-ahead 99% intervals over the last
180 days of the series with anomalies (fitted once before them, as a
cross-validation without refit), precision and recall. Time: fit and
forecast per series. statsforecast's models do not see the holiday calendar
weir uses: that is part of what is compared. Prophet is given it (the
series' event days, as two holidays: event weekdays and event weekends,
which is what weir learns too), with weekly and yearly seasonality,
multiplicative; a Prophet forecast does not update on new points, so
"without refit" means one fit before the held-out days. Run by compare.sh
in a throwaway virtualenv; nothing here is needed by weir.
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd

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
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive
    return {
        "SeasonalNaive(7)": lambda: SeasonalNaive(season_length=7),
        "AutoETS(7)": lambda: AutoETS(season_length=7),
        "MSTL(7,365)+ETS": lambda: MSTL(season_length=[7, 365], trend_forecaster=AutoETS(model="ZZN")),
    }


def run_statsforecast(df, ids):
    from statsforecast import StatsForecast
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


def prophet_holidays(s):
    ev = s[s["event"] > 0]
    weekend = ev["ds"].dt.dayofweek >= 5
    return pd.DataFrame({
        "holiday": np.where(weekend, "event_weekend", "event_weekday"),
        "ds": ev["ds"].values, "lower_window": 0, "upper_window": 0})


def prophet_fit(train, holidays, level=None):
    from prophet import Prophet
    m = Prophet(weekly_seasonality=True, yearly_seasonality=True, daily_seasonality=False,
                seasonality_mode="multiplicative", holidays=holidays,
                interval_width=level if level else 0.8,
                uncertainty_samples=1000 if level else 0)
    m.fit(train[["ds", "y"]])
    return m


def run_prophet(df, ids):
    import logging
    import prophet  # noqa: F401  (cmdstanpy sets its logger up on import; quiet it after)
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)
    print(f"Prophet on {len(ids)} series (given the holiday calendar)")
    t0 = time.time()
    sm, ms = [], []
    for uid in ids:
        s = df[df["unique_id"] == uid].reset_index(drop=True)
        clean = s.rename(columns={"y": "y_dirty", "y_clean": "y"})
        train, test = clean.iloc[:-HOLDOUT], clean.iloc[-HOLDOUT:]
        fc = prophet_fit(train, prophet_holidays(s)).predict(test[["ds"]])["yhat"].values
        y = test["y"].values
        # the pairs of the rolling-origin protocol: origins 0..49, horizons 1..7
        idx = np.array([o + h for o in range(HOLDOUT - H + 1) for h in range(H)])
        sm.append(smape(y[idx], fc[idx]))
        ms.append(np.mean(np.abs(y[idx] - fc[idx])) / snaive_mae(train["y"].values))
    acc_time = time.time() - t0

    t0 = time.time()
    tp = fp = fn = 0
    for uid in ids:
        s = df[df["unique_id"] == uid].reset_index(drop=True)
        train, test = s.iloc[:-EVAL], s.iloc[-EVAL:]
        f = prophet_fit(train, prophet_holidays(s), 0.99).predict(test[["ds"]])
        y = test["y"].values
        lab = test["anomaly"].values > 0
        alarm = (y < f["yhat_lower"].values) | (y > f["yhat_upper"].values)
        tp += int(np.sum(alarm & lab))
        fp += int(np.sum(alarm & ~lab))
        fn += int(np.sum(~alarm & lab))
    det_time = time.time() - t0
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")

    t0 = time.time()
    for uid in ids:
        s = df[df["unique_id"] == uid].reset_index(drop=True)
        m = prophet_fit(s, prophet_holidays(s), 0.99)
        m.predict(m.make_future_dataframe(periods=H, include_history=False))
    fit_ms = (time.time() - t0) * 1000 / len(ids)
    print(f"  {'Prophet':18s} sMAPE {np.mean(sm):6.2f}%  MASE {np.mean(ms):5.3f}  "
          f"precision {p:5.3f} recall {r:5.3f} (tp {tp} fp {fp} fn {fn})  "
          f"fit+forecast {fit_ms:7.1f} ms a series  "
          f"(10,000 series: {fit_ms * 10:.0f} s on one core)  "
          f"[accuracy {acc_time:.0f} s, detection {det_time:.0f} s]", flush=True)


def main():
    path = sys.argv[1]
    limit = int(sys.argv[sys.argv.index("--series") + 1]) if "--series" in sys.argv else None
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    df = pd.read_csv(path, parse_dates=["ds"])
    ids = df["unique_id"].unique()
    if limit:
        ids = ids[:limit]
        df = df[df["unique_id"].isin(ids)]
    ran = 0
    for name, run in (("statsforecast", run_statsforecast), ("prophet", run_prophet)):
        if only and only != name:
            continue
        try:
            __import__(name)
        except ImportError:
            print(f"{name} is not installed; skipped")
            continue
        run(df, ids)
        ran += 1
    return 0 if ran else 1


if __name__ == "__main__":
    sys.exit(main())
