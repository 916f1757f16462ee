#!/usr/bin/env bash
# bench/transform/run.sh: how fast weir reads and renders big dbt projects.
#
# Generates projects of N models (default 10000 and 100000), each with a
# config() call, a Jinja for-loop, ref()s to 1-3 upstream models and two
# column tests in a property file, then times `weir compile` (load, render,
# DAG, manifest and compiled/ written; once into an empty target/, which
# creates 3 files a model, then again with target/ in place) and `weir ls`
# (load, render, DAG, select, print), wall clock and CPU time. Also times a
# whole `weir build` of examples/jaffle from process start to exit.
#
# dbt alongside: with BENCH_DBT=1 the script installs dbt-core and dbt-duckdb
# into a throwaway virtualenv (under the bench's temporary folder, removed at
# exit; set DBT_VENV=DIR to keep and reuse one) and times `dbt parse` and
# `dbt compile` on the same projects (up to DBT_MAX_MODELS models, default
# 10000: dbt takes minutes there) and `dbt build` of examples/jaffle, and
# prints the ratios. A `dbt` already on PATH is used as it is.
# Prints figures; asserts nothing.
#
#   bench/transform/run.sh [N ...]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
WEIR=${WEIR:-$top/build/weir}
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)

gen() { # gen DIR N
    local dir=$1 n=$2
    mkdir -p "$dir/models/a" "$dir/models/b"
    cat >"$dir/dbt_project.yml" <<YML
name: bench
profile: bench
models:
  bench:
    +materialized: view
    b:
      +materialized: table
      +tags: [heavy]
YML
    awk -v n="$n" -v dir="$dir" 'BEGIN {
        srand(42);
        for (i = 0; i < n; i++) {
            if (i % 1000 == 0) {
                # one property file per thousand models, as big projects split them
                if (i) close(yml);
                yml = dir "/models/schema_" int(i / 1000) ".yml";
                print "version: 2\nmodels:" > yml;
            }
            sub_ = (i % 2) ? "a" : "b";
            f = dir "/models/" sub_ "/m" i ".sql";
            printf "{{ config(tags=[\"t%d\"], alias=\"m%d\") }}\n", i % 10, i > f;
            if (i == 0) {
                print "select 1 as id, 0 as v" > f;
            } else {
                k = 1 + int(rand() * 3);
                printf "select a.id,\n" > f;
                printf "{%% for c in [\"x\", \"y\", \"z\"] %%}    a.v + {{ loop.index }} as v_{{ c }},\n{%% endfor %%}" > f;
                printf "    a.v as v\nfrom {{ ref(\"m%d\") }} a\n", i - 1 > f;
                for (j = 1; j < k; j++) {
                    up = int(rand() * i);
                    printf "join {{ ref(\"m%d\") }} r%d using (id)\n", up, j > f;
                }
            }
            close(f);
            printf "  - name: m%d\n    columns:\n      - name: id\n        tests: [not_null, unique]\n", i > yml;
        }
        close(yml);
    }'
}

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# measure CMD...: "WALL_MS CPU_MS" (cpu = user + sys, which a busy shared
# machine disturbs less than the wall clock)
measure() {
    local t
    t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 )
    awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' <<<"$t"
}
show() { printf '%6d ms (cpu %5d ms)' $1 $2; }

DBT=
if [ "${BENCH_DBT:-0}" = 1 ]; then
    if command -v dbt >/dev/null 2>&1; then
        DBT=$(command -v dbt)
    else
        venv=${DBT_VENV:-$work/venv}
        if [ ! -x "$venv/bin/dbt" ]; then
            echo "installing dbt-core and dbt-duckdb into $venv (throwaway virtualenv)..."
            python3 -m venv "$venv" && "$venv/bin/pip" install -q dbt-core dbt-duckdb >/dev/null 2>&1 ||
                echo "could not install dbt; timing weir alone"
        fi
        [ -x "$venv/bin/dbt" ] && DBT=$venv/bin/dbt
    fi
    [ -n "$DBT" ] && echo "dbt-core $("$DBT" --version 2>/dev/null | grep -m1 -i 'installed' | sed 's/.*installed: *//')"
fi
dbt_profile() { # dbt_profile DIR: a profiles.yml for the project in DIR
    mkdir -p "$work/profiles"
    printf 'bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: %s/dbt.duckdb\n      threads: 2\n' "$1" >"$work/profiles/profiles.yml"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / (b + 0.001) }'; }

for n in "${sizes[@]}"; do
    dir=$work/p$n
    gen "$dir" "$n"
    read -r c1 c1cpu <<<"$(measure "$WEIR" compile --project-dir "$dir")"
    read -r c2 c2cpu <<<"$(measure "$WEIR" compile --project-dir "$dir")"
    read -r l1 l1cpu <<<"$(measure "$WEIR" ls --project-dir "$dir")"
    read -r s1 s1cpu <<<"$(measure "$WEIR" ls --project-dir "$dir" -s "+m$((n / 2))")"
    compile_ms=$c2
    printf '%7d models, %6d tests:\n' "$n" $((2 * n))
    printf '    weir compile, target/ empty    %s  (writes %d compiled files)\n' "$(show $c1 $c1cpu)" $((3 * n))
    printf '    weir compile, target/ present  %s\n' "$(show $c2 $c2cpu)"
    printf '    weir ls                        %s\n' "$(show $l1 $l1cpu)"
    printf '    weir ls -s +m%-6d             %s\n' $((n / 2)) "$(show $s1 $s1cpu)"
    if [ -n "$DBT" ] && [ "$n" -le "${DBT_MAX_MODELS:-10000}" ]; then
        dbt_profile "$dir"
        for what in parse compile; do
            t=$(date +%s%N)
            if "$DBT" "$what" --project-dir "$dir" --profiles-dir "$work/profiles" >"$work/dbt.log" 2>&1; then
                d=$(ms "$t")
                if [ $what = parse ]; then
                    printf '    dbt parse                      %6d ms  (%sx weir compile, %sx weir ls)\n' "$d" "$(ratio "$d" "$compile_ms")" "$(ratio "$d" "$l1")"
                else
                    printf '    dbt compile                    %6d ms  (%sx weir compile)\n' "$d" "$(ratio "$d" "$compile_ms")"
                fi
            else
                echo "    dbt $what failed: $(tail -n 3 "$work/dbt.log" | tr '\n' ' ')"
            fi
        done
    fi
    rm -rf "$dir"
done

ex=$work/jaffle
cp -r "$top/examples/jaffle" "$ex"
rm -rf "$ex/target" "$ex"/warehouse.duckdb*
t=$(date +%s%N); "$WEIR" build --project-dir "$ex" >/dev/null; first=$(ms "$t")
t=$(date +%s%N); "$WEIR" build --project-dir "$ex" >/dev/null; second=$(ms "$t")
printf 'examples/jaffle (22 nodes): weir build %d ms from start to exit (first), %d ms (second)\n' "$first" "$second"
if [ -n "$DBT" ]; then
    dx=$work/jaffle-dbt
    cp -r "$top/examples/jaffle" "$dx"
    rm -rf "$dx/target" "$dx"/warehouse.duckdb*
    dbt_profile "$dx"
    sed -i "s/^profile:.*/profile: bench/" "$dx/dbt_project.yml"
    t=$(date +%s%N)
    if "$DBT" build --project-dir "$dx" --profiles-dir "$work/profiles" >"$work/dbt.log" 2>&1; then
        d=$(ms "$t")
        printf 'examples/jaffle: dbt build %d ms from start to exit (%sx weir build)\n' "$d" "$(ratio "$d" "$first")"
    else
        echo "examples/jaffle: dbt build failed: $(tail -n 3 "$work/dbt.log" | tr '\n' ' ')"
    fi
fi
