#!/usr/bin/env bash
# Scenario: help, unknown commands and options, exit codes, `weir init`.
. "$(dirname "$0")/../lib.sh"

run weir --help
expect_rc 0 "weir --help exits 0"
expect_out_contains "usage: weir" "weir --help shows usage"
expect_out_contains "exit status: 0 success, 1 the work failed, 2 bad usage" "help documents exit codes"
for c in init check query version; do
    run weir "$c" --help
    expect_rc 0 "weir $c --help exits 0"
    expect_out_contains "usage: weir $c" "weir $c --help shows its usage"
    run weir help "$c"
    expect_out_contains "usage: weir $c" "weir help $c equals weir $c --help"
done

# every command that `weir --help` lists answers --help with its usage
cmds=$("$WEIR" --help | sed -n '/^commands:/,/^$/p' | awk 'NF && $1 != "commands:" && $1 != "help" {print $1}')
expect_true "weir --help lists more than the first four commands" test "$(wc -w <<<"$cmds")" -gt 4
for c in $cmds; do
    run weir "$c" --help
    expect_rc 0 "weir $c --help exits 0"
    expect_out_contains "usage: weir $c" "weir $c --help shows its usage"
done

run weir
expect_rc 2 "no command is a usage error"
expect_err_contains "usage: weir" "no command prints usage"

run weir chekc
expect_rc 2 "an unknown command exits 2"
expect_err_contains "unknown command 'chekc' (did you mean 'check'?)" "unknown command suggests the nearest"

run weir init --nmae x
expect_rc 2 "an unknown option exits 2"
expect_err_contains "unknown option '--nmae' for 'weir init' (did you mean '--name'?)" "unknown option suggests the nearest"

run weir --log-format xml version
expect_rc 2 "a bad --log-format exits 2"

run weir init my-project
expect_rc 0 "weir init creates a project"
expect_out_contains "created project 'my_project' in my-project" "init names the project after the folder"
expect_true "init writes weir.yml" test -f my-project/weir.yml
expect_true "init makes the models folder" test -d my-project/models
expect_true "init makes the pipelines folder" test -d my-project/pipelines

run weir init my-project
expect_rc 2 "init refuses an existing project"
expect_err_contains "already exists" "init says why it refuses"

run weir init --name 9bad other
expect_rc 2 "init refuses a bad project name"
expect_true "a refused init creates nothing" test ! -e other

run weir init --format json --name demo_x json-project
expect_rc 0 "init --format json"
expect_out_contains '"project": "demo_x"' "init's JSON names the project"

done_testing
