#!/usr/bin/env bash
# bench/transform/run.sh: how fast weir reads and renders big dbt projects.
#
# Generates projects of N models (default 10000 and 100000), each with a
# config() call, a Jinja for-loop, ref()s to 1-3 upstream models and two
# column tests in a property file, then times `weir compile` (load, render,
# DAG, manifest and compiled/ written) and `weir ls` (load, render, DAG,
# select, print). Where `dbt` is on PATH (with dbt-duckdb), times
# `dbt parse` on the same project and prints the ratio. Also times a whole
# `weir build` of examples/jaffle from process start to exit.
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

for n in "${sizes[@]}"; do
    dir=$work/p$n
    gen "$dir" "$n"
    t=$(date +%s%N); "$WEIR" compile --project-dir "$dir" >/dev/null; compile_ms=$(ms "$t")
    t=$(date +%s%N); "$WEIR" ls --project-dir "$dir" >/dev/null; ls_ms=$(ms "$t")
    t=$(date +%s%N); "$WEIR" ls --project-dir "$dir" -s "+m$((n / 2))" >/dev/null; sel_ms=$(ms "$t")
    printf '%7d models, %6d tests: weir compile %6d ms   weir ls %6d ms   weir ls -s +m%d %6d ms\n' \
        "$n" $((2 * n)) "$compile_ms" "$ls_ms" $((n / 2)) "$sel_ms"
    if command -v dbt >/dev/null 2>&1 && [ "$n" -le 10000 ]; then
        mkdir -p "$work/profiles"
        printf 'bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: %s/dbt.duckdb\n' "$dir" >"$work/profiles/profiles.yml"
        t=$(date +%s%N)
        if dbt parse --project-dir "$dir" --profiles-dir "$work/profiles" >/dev/null 2>&1; then
            dbt_ms=$(ms "$t")
            printf '         dbt parse %d ms (%.1fx weir compile)\n' "$dbt_ms" "$(echo "$dbt_ms / ($compile_ms + 0.001)" | bc -l)"
        else
            echo "         dbt parse failed; see dbt's log"
        fi
    fi
    rm -rf "$dir"
done

ex=$work/jaffle
cp -r "$top/examples/jaffle" "$ex"
rm -rf "$ex/target" "$ex"/warehouse.duckdb*
t=$(date +%s%N); "$WEIR" build --project-dir "$ex" >/dev/null; first=$(ms "$t")
t=$(date +%s%N); "$WEIR" build --project-dir "$ex" >/dev/null; second=$(ms "$t")
printf 'examples/jaffle (22 nodes): weir build %d ms from start to exit (first), %d ms (second)\n' "$first" "$second"
