/*
 * models.c: seasonal naive, Holt-Winters and the decomposition model (see
 * models.h for the interface, forecast.h for what each model is).
 *
 * Speed matters: a monitor fits several candidates on every series every
 * day, so each model's state runs in one O(n) pass without allocation, and
 * parameter fitting evaluates that pass a bounded number of times.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "monitor/models.h"

/* Holt-Winters parameters are fitted on at most this many recent days. */
#define HW_FIT_DAYS 224
/* Errors beyond this many robust scales are clipped when updating states. */
#define CLIP 3.0

static double clip(double e, double c)
{
    return e > c ? c : (e < -c ? -c : e);
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static int phase_of(weir_date start, size_t t)
{
    return weir_date_weekday(start + (weir_date)t) - 1;
}

/* --- seasonal naive ------------------------------------------------------ */

static void snaive_run(const model_data *d, size_t o_from, size_t o_to, size_t H,
                       double *fc, double *insample)
{
    double last[7];
    double any = NAN;
    for (int i = 0; i < 7; i++)
        last[i] = NAN;
    int ph = phase_of(d->start, d->wstart);
    for (size_t t = d->wstart;; t++, ph = ph == 6 ? 0 : ph + 1) {
        if (t >= o_from && t <= o_to) {
            double *out = fc + (t - o_from) * H;
            int q = ph;
            for (size_t h = 0; h < H; h++, q = (q + 1) % 7)
                out[h] = isfinite(last[q]) ? last[q] : any;
        }
        if (t >= o_to)
            break;
        if (insample)
            insample[t] = isfinite(last[ph]) ? last[ph] : any;
        if (isfinite(d->z[t]))
            last[ph] = any = d->z[t];
    }
}

/* --- Holt-Winters -------------------------------------------------------- */

typedef struct hw_state {
    double l, b, s[7];
} hw_state;

/*
 * Initial state from the first weeks with data after from (a series may
 * start with a gap or a long holiday): per weekday means of the usable
 * points of 8 weeks (more while fewer than 14 points), their mean as the
 * level, no trend.
 */
static void hw_init(const weir_model_spec *spec, const model_data *d, size_t from,
                    size_t end, hw_state *st)
{
    double sum[7] = { 0 };
    int cnt[7] = { 0 }, total = 0;
    size_t t = from;
    while (t < end && !isfinite(d->z[t]))
        t++;
    size_t first = t;
    for (; t < end && (t < first + 56 || (total < 14 && t < first + 364)); t++)
        if (isfinite(d->z[t])) {
            int ph = phase_of(d->start, t);
            sum[ph] += d->z[t];
            cnt[ph]++;
            total++;
        }
    double m = 0;
    int k = 0;
    for (int i = 0; i < 7; i++)
        if (cnt[i]) {
            m += sum[i] / cnt[i];
            k++;
        }
    m = k ? m / k : 0;
    st->l = m;
    st->b = 0;
    for (int i = 0; i < 7; i++) {
        double mi = cnt[i] ? sum[i] / cnt[i] : m;
        if (spec->multiplicative)
            st->s[i] = m > 0 && mi > 0 ? mi / m : 1.0;
        else
            st->s[i] = mi - m;
    }
}

/*
 * Runs the filter over [from, o_to); emits forecasts at origins, one-step
 * forecasts into insample, and returns the sum of squared clipped one-step
 * errors after a two-week burn-in.
 */
static double hw_filter(const weir_model_spec *spec, const model_params *p,
                        const model_data *d, size_t from, size_t o_from, size_t o_to,
                        size_t H, double *fc, double *insample)
{
    hw_state st;
    hw_init(spec, d, from, o_to, &st);
    const double a = p->alpha, be = p->beta, g = p->gamma, phi = p->phi;
    const double c = CLIP * d->scale;
    const int mul = spec->multiplicative;
    double sse = 0;
    int ph = phase_of(d->start, from);
    for (size_t t = from;; t++, ph = ph == 6 ? 0 : ph + 1) {
        if (fc && t >= o_from && t <= o_to) {
            double *out = fc + (t - o_from) * H;
            double damp = 0, pw = 1;
            int q = ph;
            for (size_t h = 0; h < H; h++, q = (q + 1) % 7) {
                pw *= phi;
                damp += pw;
                double lb = st.l + damp * st.b;
                out[h] = mul ? lb * st.s[q] : lb + st.s[q];
            }
        }
        if (t >= o_to)
            break;
        double lb = st.l + phi * st.b;
        double f = mul ? lb * st.s[ph] : lb + st.s[ph];
        if (insample)
            insample[t] = f;
        double z = d->z[t];
        if (!isfinite(z)) {
            st.l = lb;
            st.b *= phi;
            continue;
        }
        double e = clip(z - f, c);
        if (t >= from + 14)
            sse += e * e;
        if (mul) {
            double s = st.s[ph];
            double lbs = fabs(lb) > 1e-12 ? lb : 1e-12;
            st.l = lb + a * e / s;
            st.b = phi * st.b + be * e / s;
            s += g * e / lbs;
            st.s[ph] = s < 0.01 ? 0.01 : (s > 100 ? 100 : s);
        } else {
            st.l = lb + a * e;
            st.b = phi * st.b + be * e;
            st.s[ph] += g * e;
        }
    }
    return sse;
}

static void hw_params_from(const weir_model_spec *spec, const double *x, model_params *p)
{
    p->alpha = 0.005 + 0.99 * sigmoid(x[0]);
    p->beta = p->alpha * 0.3 * sigmoid(x[1]);
    p->gamma = (1 - p->alpha) * 0.9 * sigmoid(x[2]);
    p->phi = spec->damped ? 0.8 + 0.18 * sigmoid(x[3]) : 1.0;
}

typedef struct hw_obj {
    const weir_model_spec *spec;
    const model_data *d;
    size_t from, end;
} hw_obj;

static double hw_objective(const double *x, void *ctx)
{
    hw_obj *o = ctx;
    model_params p;
    hw_params_from(o->spec, x, &p);
    return hw_filter(o->spec, &p, o->d, o->from, 0, o->end, 0, NULL, NULL);
}

/* Nelder-Mead minimisation of f over R^n (n <= 4), at most max_eval calls. */
static void nelder_mead(double (*f)(const double *, void *), void *ctx, int n,
                        double *x, double step, int max_eval)
{
    double pts[5][4], fv[5], c[4], xr[4], xe[4];
    int evals = 0;
    for (int i = 0; i <= n; i++) {
        memcpy(pts[i], x, (size_t)n * sizeof(double));
        if (i > 0)
            pts[i][i - 1] += step;
        fv[i] = f(pts[i], ctx);
        evals++;
    }
    while (evals < max_eval) {
        /* order: best first */
        for (int i = 1; i <= n; i++)
            for (int j = i; j > 0 && fv[j] < fv[j - 1]; j--) {
                double t = fv[j];
                fv[j] = fv[j - 1];
                fv[j - 1] = t;
                for (int k = 0; k < n; k++) {
                    t = pts[j][k];
                    pts[j][k] = pts[j - 1][k];
                    pts[j - 1][k] = t;
                }
            }
        if (fabs(fv[n] - fv[0]) <= 1e-7 * (fabs(fv[0]) + 1e-12))
            break;
        for (int k = 0; k < n; k++) {
            c[k] = 0;
            for (int i = 0; i < n; i++)
                c[k] += pts[i][k] / n;
        }
        for (int k = 0; k < n; k++)
            xr[k] = c[k] + (c[k] - pts[n][k]);
        double fr = f(xr, ctx);
        evals++;
        if (fr < fv[0]) {
            for (int k = 0; k < n; k++)
                xe[k] = c[k] + 2 * (c[k] - pts[n][k]);
            double fe = f(xe, ctx);
            evals++;
            if (fe < fr) {
                memcpy(pts[n], xe, (size_t)n * sizeof(double));
                fv[n] = fe;
            } else {
                memcpy(pts[n], xr, (size_t)n * sizeof(double));
                fv[n] = fr;
            }
        } else if (fr < fv[n - 1]) {
            memcpy(pts[n], xr, (size_t)n * sizeof(double));
            fv[n] = fr;
        } else {
            int outside = fr < fv[n];
            for (int k = 0; k < n; k++)
                xe[k] = outside ? c[k] + 0.5 * (xr[k] - c[k]) : c[k] + 0.5 * (pts[n][k] - c[k]);
            double fc = f(xe, ctx);
            evals++;
            if (fc < (outside ? fr : fv[n])) {
                memcpy(pts[n], xe, (size_t)n * sizeof(double));
                fv[n] = fc;
            } else {
                for (int i = 1; i <= n; i++) {
                    for (int k = 0; k < n; k++)
                        pts[i][k] = pts[0][k] + 0.5 * (pts[i][k] - pts[0][k]);
                    fv[i] = f(pts[i], ctx);
                    evals++;
                }
            }
        }
    }
    int best = 0;
    for (int i = 1; i <= n; i++)
        if (fv[i] < fv[best])
            best = i;
    memcpy(x, pts[best], (size_t)n * sizeof(double));
}

static int hw_fit(const weir_model_spec *spec, const model_data *d, size_t end,
                  model_params *p)
{
    hw_obj o = { spec, d, d->wstart, end };
    if (end > d->wstart + HW_FIT_DAYS)
        o.from = end - HW_FIT_DAYS;
    /* start: alpha ~0.2, beta ~0.01, gamma ~0.1, phi ~0.95 */
    double x[4] = { -1.4, -1.8, -2.0, 1.5 };
    int n = spec->damped ? 4 : 3;
    nelder_mead(hw_objective, &o, n, x, 1.0, 40 + 12 * n);
    hw_params_from(spec, x, p);
    return 0;
}

/* --- decomposition: robust regression + local level ---------------------- */

#define YEAR_DAYS 365.2425

void model_year_basis(weir_date start, size_t n, double *c, double *s)
{
    for (size_t t = 0; t < n; t++) {
        double th = 2 * M_PI * fmod((double)(start + (weir_date)t), YEAR_DAYS) / YEAR_DAYS;
        c[t] = cos(th);
        s[t] = sin(th);
    }
}

/* The nonzero entries of the design row of index t: columns and values. */
static int decomp_row(const model_params *p, const model_data *d, size_t t, int *col, double *val)
{
    weir_date start = d->start;
    int k = 0;
    col[k] = 0, val[k++] = 1.0;
    int next = 1;
    if (p->trend) {
        col[k] = next, val[k++] = ((double)t - p->tref) / YEAR_DAYS;
        next++;
    }
    weir_date day = start + (weir_date)t;
    int ph = weir_date_weekday(day) - 1;
    if (ph > 0)
        col[k] = next + ph - 1, val[k++] = 1.0;
    next += 6;
    if (p->K > 0) {
        double c1, s1;
        if (t < d->n_year) {
            c1 = d->year_cos[t];
            s1 = d->year_sin[t];
        } else {
            double th = 2 * M_PI * fmod((double)day, YEAR_DAYS) / YEAR_DAYS;
            c1 = cos(th);
            s1 = sin(th);
        }
        double ck = c1, sk = s1;
        for (int h = 0; h < p->K; h++) {
            col[k] = next++, val[k++] = ck;
            col[k] = next++, val[k++] = sk;
            double cn = ck * c1 - sk * s1;
            sk = sk * c1 + ck * s1;
            ck = cn;
        }
    }
    return k;
}

static double decomp_mean(const model_params *p, const model_data *d, size_t t)
{
    int col[MODEL_MAXP];
    double val[MODEL_MAXP];
    int k = decomp_row(p, d, t, col, val);
    double m = 0;
    for (int i = 0; i < k; i++)
        m += p->coef[col[i]] * val[i];
    return m;
}

/* Solves A x = b for symmetric positive definite A (n x n, row-major) by Cholesky. */
static int cholesky_solve(double *A, double *b, int n)
{
    for (int j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (int k = 0; k < j; k++)
            s -= A[j * n + k] * A[j * n + k];
        if (s <= 0)
            return -1;
        double l = sqrt(s);
        A[j * n + j] = l;
        for (int i = j + 1; i < n; i++) {
            double v = A[i * n + j];
            for (int k = 0; k < j; k++)
                v -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = v / l;
        }
    }
    for (int i = 0; i < n; i++) {
        double v = b[i];
        for (int k = 0; k < i; k++)
            v -= A[i * n + k] * b[k];
        b[i] = v / A[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double v = b[i];
        for (int k = i + 1; k < n; k++)
            v -= A[k * n + i] * b[k];
        b[i] = v / A[i * n + i];
    }
    return 0;
}

/* The k-th smallest of x[0..n) (Wirth's selection); x is reordered. */
static double select_kth(double *x, size_t n, size_t k)
{
    ptrdiff_t l = 0, m = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (l < m) {
        double pivot = x[kk];
        ptrdiff_t i = l, j = m;
        do {
            while (x[i] < pivot)
                i++;
            while (pivot < x[j])
                j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < kk)
            l = i;
        if (kk < i)
            m = j;
    }
    return x[kk];
}

double model_median(double *x, size_t n)
{
    if (!n)
        return NAN;
    double m = select_kth(x, n, n / 2);
    if (n % 2)
        return m;
    /* the lower middle is the largest of the lower half */
    double lower = x[0];
    for (size_t i = 1; i < n / 2; i++)
        if (x[i] > lower)
            lower = x[i];
    return 0.5 * (lower + m);
}

/* Median of |x[i]| (x is overwritten); 0 when n is 0. */
static double median_abs(double *x, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        x[i] = fabs(x[i]);
    return model_median(x, n);
}

/*
 * The regression's mean for every index in [from, to) into m (indexed from
 * from). One row each: the cos/sin are the costly part.
 */
static void decomp_means(const model_params *p, const model_data *d, size_t from, size_t to,
                         double *m)
{
    for (size_t t = from; t < to; t++)
        m[t - from] = decomp_mean(p, d, t);
}

/*
 * The local level pass over [from, o_to) on means m (m[t - from]); returns
 * the one-step SSE, forecasts as in model_run.
 */
static double decomp_filter(const model_params *p, const model_data *d, const double *m,
                            size_t from, size_t o_from, size_t o_to, size_t H, double *fc,
                            double *insample)
{
    double L = 0, sse = 0;
    const double c = CLIP * (p->rscale > 0 ? p->rscale : d->scale);
    const double la = p->lalpha;
    for (size_t t = from;; t++) {
        if (fc && t >= o_from && t <= o_to) {
            double *out = fc + (t - o_from) * H;
            for (size_t h = 0; h < H; h++)
                out[h] = m[t + h - from] + L;
        }
        if (t >= o_to)
            break;
        double z = d->z[t];
        if (insample)
            insample[t] = m[t - from] + L;
        if (!isfinite(z))
            continue;
        double e = clip(z - m[t - from] - L, c);
        sse += e * e;
        L += la * e;
    }
    return sse;
}

static int decomp_fit(const model_data *d, size_t end, model_params *p)
{
    size_t from = d->wstart, first = SIZE_MAX, nobs = 0;
    for (size_t t = from; t < end; t++)
        if (isfinite(d->z[t])) {
            if (first == SIZE_MAX)
                first = t;
            nobs++;
        }
    if (nobs < 14)
        return -1;
    size_t span = end - first;
    p->K = span >= 330 ? 4 : 0;
    p->trend = span >= 56;
    p->tref = (double)end;
    p->p = 1 + p->trend + 6 + 2 * p->K;
    const int np = p->p;

    /* the design rows, computed once: nonzero columns and values */
    size_t n = end - first;
    const int nz = MODEL_MAXP;
    double *w = weir_xmalloc(weir_size_mul(n, 2 * sizeof(double)));
    double *r = w + n;
    double *rv = weir_xmalloc(weir_size_mul(weir_size_mul(n, (size_t)nz), sizeof(double)));
    int *rc_ = weir_xmalloc(weir_size_mul(weir_size_mul(n, (size_t)nz), sizeof(int)));
    unsigned char *rk = weir_xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        w[i] = isfinite(d->z[first + i]) ? 1.0 : 0.0;
        rk[i] = w[i] > 0 ? (unsigned char)decomp_row(p, d, first + i, rc_ + i * nz, rv + i * nz) : 0;
    }

    double A[MODEL_MAXP * MODEL_MAXP], b[MODEL_MAXP];
    int rc = 0;
    memset(p->coef, 0, sizeof(p->coef));
    for (int iter = 0; iter < 3; iter++) {
        memset(A, 0, sizeof(double) * (size_t)(np * np));
        memset(b, 0, sizeof(double) * (size_t)np);
        double wsum = 0;
        for (size_t i = 0; i < n; i++) {
            if (w[i] <= 0)
                continue;
            double z = d->z[first + i], wi = w[i];
            const int *col = rc_ + i * nz;
            const double *val = rv + i * nz;
            int k = rk[i];
            for (int a = 0; a < k; a++) {
                double wa = wi * val[a];
                b[col[a]] += wa * z;
                double *Arow = A + col[a] * np;
                for (int c = 0; c <= a; c++)
                    Arow[col[c]] += wa * val[c];
            }
            wsum += wi;
        }
        /* mirror the lower triangle (columns come in increasing order per row) */
        for (int a = 0; a < np; a++)
            for (int c = 0; c < a; c++)
                A[c * np + a] = A[a * np + c];
        /* a light ridge on trend and Fourier terms; tiny on all for stability */
        for (int a = 0; a < np; a++)
            A[a * np + a] += 1e-9 * wsum + (a >= 7 + p->trend || (p->trend && a == 1) ? 1e-3 * wsum : 0);
        if (cholesky_solve(A, b, np) < 0) {
            rc = -1;
            break;
        }
        memcpy(p->coef, b, sizeof(double) * (size_t)np);
        /* Huber weights from the residuals' robust scale */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (w[i] <= 0)
                continue;
            double fit = 0;
            for (int a = 0; a < rk[i]; a++)
                fit += p->coef[rc_[i * nz + a]] * rv[i * nz + a];
            r[i] = d->z[first + i] - fit;
            m++;
        }
        double *tmp = weir_xmalloc(weir_size_mul(m + 1, sizeof(double)));
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (w[i] > 0)
                tmp[m++] = r[i];
        double s = 1.4826 * median_abs(tmp, m);
        free(tmp);
        p->rscale = s;
        if (s <= 0)
            break;
        double c = 1.345 * s;
        for (size_t i = 0; i < n; i++) {
            if (w[i] <= 0)
                continue;
            double e = fabs(r[i]);
            w[i] = e <= c ? 1.0 : c / e;
        }
    }
    free(w);
    free(rv);
    free(rc_);
    free(rk);
    if (rc < 0)
        return rc;
    /* the local level's smoothing: the best of a few by one-step error */
    static const double grid[] = { 0.0, 0.03, 0.1, 0.3 };
    double best = INFINITY;
    size_t lfrom = end > from + 365 ? end - 365 : from;
    double *m = weir_xmalloc(weir_size_mul(end - lfrom + 1, sizeof(double)));
    decomp_means(p, d, lfrom, end, m);
    p->lalpha = 0.1;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(grid); i++) {
        model_params q = *p;
        q.lalpha = grid[i];
        double sse = decomp_filter(&q, d, m, lfrom, 0, end, 0, NULL, NULL);
        if (sse < best) {
            best = sse;
            p->lalpha = grid[i];
        }
    }
    free(m);
    return 0;
}

/* --- dispatch ------------------------------------------------------------ */

int model_fit(const weir_model_spec *spec, const model_data *d, size_t end,
              model_params *p)
{
    memset(p, 0, sizeof(*p));
    p->phi = 1;
    switch (spec->kind) {
    case WEIR_MODEL_SNAIVE:
        return 0;
    case WEIR_MODEL_HOLT_WINTERS:
        return hw_fit(spec, d, end, p);
    case WEIR_MODEL_DECOMPOSITION:
        return decomp_fit(d, end, p);
    }
    return -1;
}

void model_run(const weir_model_spec *spec, const model_params *p, const model_data *d,
               size_t o_from, size_t o_to, size_t H, double *fc, double *insample)
{
    if (insample)
        for (size_t t = 0; t < o_to; t++)
            insample[t] = NAN;
    switch (spec->kind) {
    case WEIR_MODEL_SNAIVE:
        snaive_run(d, o_from, o_to, H, fc, insample);
        break;
    case WEIR_MODEL_HOLT_WINTERS:
        hw_filter(spec, p, d, d->wstart, o_from, o_to, H, fc, insample);
        break;
    case WEIR_MODEL_DECOMPOSITION: {
        double *m = weir_xmalloc(weir_size_mul(o_to + H - d->wstart + 1, sizeof(double)));
        decomp_means(p, d, d->wstart, o_to + H, m);
        decomp_filter(p, d, m, d->wstart, o_from, o_to, H, fc, insample);
        free(m);
        break;
    }
    }
}
