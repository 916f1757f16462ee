#!/usr/bin/env bash
# Scenario: target/manifest.json and target/compiled/ as compile writes them
# on several threads: JSON escaping of configs and descriptions (quotes,
# backslashes, control characters, non-ASCII, numbers), every node once and
# in file order whatever the thread count, compiled files rewritten only
# when their SQL changes, and duplicate model names reported.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models/a p/models/b
cat >p/dbt_project.yml <<'YML'
name: mf
models:
  mf:
    +meta: {ratio: 0.5, neg: -3, s: "tab\there \"q\" back\\ \u001b é ✓"}
YML
printf '{{ config(tags=["t\\"1"], x=2.5, y=none, z=[1, "2", true]) }}\nselect 1 as id -- é "quoted" \\ back\n' >p/models/edge.sql
cat >p/models/edge.yml <<'YML'
version: 2
models:
  - name: edge
    description: "line1\nline2\ttab \u0007 bell é"
    columns:
      - name: id
        description: "x/y"
        tests:
          - accepted_values:
              values: [1, 2.5, "a"]
YML
# enough models that nodes are dealt to several threads (a chain, so the
# parent and child maps have something to say)
echo "select 1 as id" >p/models/a/m0.sql
for i in $(seq 1 299); do
    d=$([ $((i % 2)) -eq 0 ] && echo a || echo b)
    echo "select id from {{ ref('m$((i - 1))') }}" >p/models/$d/m$i.sql
done
# a model that moves itself with config(alias=...), and readers of it
# rendered on other threads: every reader must end up at the new place
echo "{{ config(alias='moved_here') }}select 1 as id" >p/models/a/mover.sql
for i in $(seq 1 40); do echo "select * from {{ ref('mover') }}" >p/models/b/reader$i.sql; done

run weir compile -C p
expect_rc 0 "compile succeeds"
expect_true "every reader of a moved model reads its new place" \
    test "$(grep -l '"main"."moved_here"' p/target/compiled/mf/models/b/reader*.sql | wc -l)" -eq 40
m=p/target/manifest.json
check() { # check DESCRIPTION PYTHON-EXPRESSION (m: the manifest)
    expect_true "$1" python3 -c "import json,sys; m=json.load(open('$m')); sys.exit(0 if ($2) else 1)"
}
check "the manifest parses as JSON" "True"
e="m['nodes']['model.mf.edge']"
check "a project-tree string keeps quotes, backslash, tab, control and non-ASCII characters" \
    "$e['config']['meta']['s'] == 'tab\there \"q\" back\\\\ \x1b é ✓'"
check "numbers keep their types" \
    "$e['config']['meta']['ratio'] == 0.5 and $e['config']['meta']['neg'] == -3 and $e['config']['x'] == 2.5"
check "config() lists and none come through" "$e['config']['z'] == [1, '2', True] and $e['config']['y'] is None"
check "a tag with a quote" "$e['tags'] == ['t\"1']"
check "a description with newline, tab and a control character" \
    "$e['description'] == 'line1\nline2\ttab \x07 bell é'"
check "raw code with a backslash" "'\\\\ back' in $e['raw_code']"
check "accepted_values arguments keep their types" \
    "[n for n in m['nodes'].values() if n.get('test_metadata', {}).get('name') == 'accepted_values'][0]['test_metadata']['kwargs']['values'] == [1, 2.5, 'a']"
check "every model and test is in the manifest once" \
    "len([k for k in m['nodes'] if k.startswith('model.')]) == 342 and len(m['nodes']) == 343"
check "nodes are in file order" \
    "list(m['nodes'])[:3] == ['model.mf.m0', 'model.mf.m10', 'model.mf.m100'] and list(m['nodes'])[-2] == 'model.mf.edge'"
check "the parent map follows the chain" "m['parent_map']['model.mf.m299'] == ['model.mf.m298']"
check "the child map follows the chain" "m['child_map']['model.mf.m0'] == ['model.mf.m1']"
expect_true "every model has its compiled file" \
    test "$(find p/target/compiled/mf/models -name 'm[0-9]*.sql' | wc -l)" -eq 300
expect_true "a compiled file holds the rendered SQL" \
    grep -qF 'from "main"."m41"' p/target/compiled/mf/models/a/m42.sql
expect_true "a generic test's SQL is under its property file" \
    test -n "$(find p/target/compiled/mf/models/edge.yml -name 'accepted_values_*.sql')"

# unchanged SQL leaves the file alone; changed SQL replaces it
touch -d '2001-01-01' p/target/compiled/mf/models/a/m42.sql p/target/compiled/mf/models/b/m43.sql
echo "select id, 2 as two from {{ ref('m42') }}" >p/models/b/m43.sql
run weir compile -C p
expect_rc 0 "second compile succeeds"
expect_true "an unchanged compiled file is not rewritten" \
    test "$(date -r p/target/compiled/mf/models/a/m42.sql +%Y)" = 2001
expect_true "a changed compiled file is rewritten" \
    grep -qF '2 as two' p/target/compiled/mf/models/b/m43.sql
expect_true "no temporary file is left next to the manifest" \
    test "$(ls p/target | grep -c tmp)" -eq 0

# a removed compiled/ folder is made again
rm -rf p/target/compiled
run weir compile -C p
expect_true "a removed compiled/ is made again" test -f p/target/compiled/mf/models/a/m42.sql

# generic tests made ahead on the property-file thread and linked in file
# order: repeated names numbered, disabled and named tests, entries for
# missing models skipped, tests of sources, a package's test
mkdir -p q/models q/macros
printf 'name: q\n' >q/dbt_project.yml
echo "select 1 as id" >q/models/a.sql
echo "select 1 as id, 2 as other from {{ ref('a') }}" >q/models/b.sql
echo "{% test expression_is_true(model, expression) %}select * from {{ model }} where not ({{ expression }}){% endtest %}" >q/macros/t.sql
cat >q/models/s1.yml <<'YML'
version: 2
models:
  - name: ghost
    columns:
      - name: id
        tests: [not_null, unique]
  - name: a
    columns:
      - name: id
        tests:
          - not_null
          - not_null
          - unique:
              config: {enabled: false}
          - accepted_values:
              values: [1, 2]
              name: my_named_test
          - relationships:
              to: ref('b')
              field: id
    tests:
      - unique:
          column_name: id
sources:
  - name: raw
    tables:
      - name: t1
        columns:
          - name: id
            tests: [not_null]
      - name: t2
        tests: [unique]
YML
cat >q/models/s2.yml <<'YML'
version: 2
models:
  - name: b
    data_tests:
      - dbt_utils.expression_is_true:
          expression: "id > 0"
    columns:
      - name: id
        tests: [not_null]
      - name: other
        tests: [not_null, {unique: {config: {where: "id > 0"}}}]
YML
run weir ls -C q
expect_rc 0 "ls of property-file tests succeeds"
expect_err_contains "models/s1.yml:3:5: warning: model 'ghost' is described here but does not exist" "a missing model's entry warns"
expect_out_eq "q.a
q.b
q.not_null_a_id
q.not_null_a_id
q.my_named_test
q.relationships_a_id__id__ref_b_
q.unique_a__id
source:q.raw.t1
q.not_null_source_raw_t1_id
source:q.raw.t2
q.unique_source_raw_t2
q.not_null_b_id
q.not_null_b_other
q.unique_b_other
q.expression_is_true_b__id_0" "tests in file order, skipped and disabled ones left out"
run weir ls -C q -o json -s test_type:generic
expect_out_contains '"unique_id":"test.q.not_null_a_id_2"' "a repeated test name gets a number"

echo "select 2 as id" >p/models/a/edge.sql
run weir ls -C p
expect_rc 2 "two models with one name are refused"
expect_err_contains "error: two models are named 'edge'" "the duplicate is named"

done_testing
