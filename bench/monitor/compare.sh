#!/usr/bin/env bash
# bench/monitor/compare.sh: runs statsforecast, and Prophet when it installs,
# beside weir's monitor on the same generated series (see compare.py), in a
# throwaway virtualenv outside the repository. Optional: nothing in the build
# or the tests needs it.
#
#   bench/monitor/compare.sh [N_SERIES]      (default 6: the Python models take
#                                             minutes a series with this protocol)
#
# Needs python3 with venv and network access to PyPI; a package that does not
# install is skipped with a message, and the script gives up quietly when
# neither does.
set -euo pipefail
n=${1:-6}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${TMPDIR:-/tmp}/weir-monitor-compare
venv=$work/venv
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "compare: cannot make a virtualenv; skipped"; exit 0; }
fi
have() { "$venv/bin/python" -c "import $1" 2>/dev/null; }
for pkg in statsforecast prophet; do
    if ! have "$pkg"; then
        echo "compare: installing $pkg into $venv"
        "$venv/bin/pip" install -q "$pkg" pandas || echo "compare: cannot install $pkg; skipped"
    fi
done
if ! have statsforecast && ! have prophet; then
    echo "compare: neither statsforecast nor prophet installed; skipped"
    exit 0
fi
make -C "$top" --no-print-directory build/bench/monitor-bench >/dev/null
echo "== weir"
"$top/build/bench/monitor-bench" --series "$n" --speed 0 --short 0 --csv "$work"
echo "== the same series in Python"
"$venv/bin/python" "$top/bench/monitor/compare.py" "$work/series.csv" --series "$n"
