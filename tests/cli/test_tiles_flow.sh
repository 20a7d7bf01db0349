#!/usr/bin/env bash
# `fluxrecon tiles flow` as a user runs it, at 2 ranks on the LES demo: the
# trajectories file and a frame per scene, the summary line, a rerun that
# skips, and bad input (too few corners, an unknown --flow-model) failing
# with a message, a non-zero exit and nothing written.
# Usage: test_tiles_flow.sh FLUXRECON MPIEXEC SOURCE_DIR
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/cli_lib.sh"
meta="$src/inputs/tiles/les_demo/meta.yaml"
out="$work/demo/rect/trajectories"

run2 tiles flow --meta "$meta" --data-path "$work/demo" --min-distance 10 --min-corners 20 \
  > "$work/flow.log" 2>&1
check "flow exits 0" test $? -eq 0
check "trajectories of the one day" test -f "$out/LES__20200202.flow_trajectories.nc"
check "a frame per scene" test "$(ls "$out"/LES__20200202.flow_trajectories.*.png | wc -l)" -eq 10
check "ncdump reads the trajectories" sh -c "ncdump -h '$out/LES__20200202.flow_trajectories.nc' | grep -q 'int i(scene_id, traj_id)'"
check "summary line" grep -q "tiles: flow done: 1 day(s) of 10 scene(s), 1 written, 0 already complete, 9 image pair(s), .* point(s) tracked" "$work/flow.log"
check "no temporary files left" test -z "$(find "$work/demo" -name '.*.part-*')"

run2 tiles flow --meta "$meta" --data-path "$work/demo" --min-distance 10 --min-corners 20 \
  > "$work/rerun.log" 2>&1
check "rerun exits 0" test $? -eq 0
check "rerun skips the complete day" grep -q "0 written, 1 already complete, 0 image pair(s)" "$work/rerun.log"

run2 tiles flow --meta "$meta" --data-path "$work/few" --min-corners 100 > "$work/few.log" 2>&1
check "too few corners: non-zero exit" test $? -ne 0
check "too few corners: message" grep -q "group LES__20200202: no image of its 10 scene(s) has 100 or more corners" "$work/few.log"
check "too few corners: no trajectories" test -z "$(ls "$work/few/rect/trajectories" 2>/dev/null)"

run2 tiles flow --meta "$meta" --data-path "$work/model" --flow-model rigid > "$work/model.log" 2>&1
check "bad --flow-model: non-zero exit" test $? -ne 0
check "bad --flow-model: message" grep -q "rigid not in {affine,translation}" "$work/model.log"

echo "tiles flow CLI: $passed passed, $failed failed"
test "$failed" -eq 0
