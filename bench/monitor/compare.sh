#!/usr/bin/env bash
# bench/monitor/compare.sh: runs statsforecast beside weir's monitor on the
# same generated series (see compare.py), in a throwaway virtualenv outside
# the repository. Optional: nothing in the build or the tests needs it.
#
#   bench/monitor/compare.sh [N_SERIES]      (default 6: statsforecast takes minutes a series)
#
# Needs python3 with venv and network access to PyPI; gives up quietly when
# the install fails.
set -euo pipefail
n=${1:-6}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${TMPDIR:-/tmp}/weir-monitor-compare
venv=$work/venv
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import statsforecast' 2>/dev/null; then
    echo "compare: installing statsforecast into $venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q statsforecast pandas ||
        { echo "compare: cannot install statsforecast; skipped"; exit 0; }
fi
make -C "$top" --no-print-directory build/bench/monitor-bench >/dev/null
echo "== weir"
"$top/build/bench/monitor-bench" --series "$n" --speed 0 --csv "$work"
echo "== statsforecast"
"$venv/bin/python" "$top/bench/monitor/compare.py" "$work/series.csv" --series "$n"
