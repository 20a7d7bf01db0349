#!/usr/bin/env bash
# fluxrecon run with its tune stage at 2 ranks on a small testbed: xgboost
# and random_forest are tuned (3 trials, rounds capped), trained with their
# studies' best parameters, reconstructed, explained (TreeSHAP) and analysed,
# with a "Hyperparameter search" section per study in the report; a rerun
# skips every stage; more trials continue the studies. A tune model that is
# not a model of the pipeline is refused by name.
# Usage: test_run_tune.sh FLUXRECON MPIEXEC SOURCE_DIR (KEEP=1 keeps the work folder).
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"; [ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT; echo "work: $work"
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=1

# A 6-year testbed on a coarse grid (as test_run.sh), its test years 1962-1963.
small_testbed "$work/testbed.yaml" "global"
# Small forests, for time.
cat > "$work/rf_space.yaml" <<EOF
model: random_forest
study: {name: rf_small, n_trials: 30, seed: 3}
pruner: {kind: none}
parameters:
  - {name: num_parallel_tree, type: int, low: 4, high: 12, step: 4}
  - {name: max_depth, type: int, low: 3, high: 6}
  - {name: subsample, type: float, low: 0.5, high: 0.9}
EOF
cat > "$work/pipeline.yaml" <<EOF
dataset: testbed.yaml
output: out
synthesize: true
models:
  xgboost:
    overrides: {num_boost_round: 5, booster: gbtree}
  random_forest: {}
reconstruct:
  experiments: [experiment_1]
analyze:
  map_months: [1]
explain: {enabled: true, instances: 4, background: 20}
tune:
  enabled: true
  trials: 3
  epochs: 2
  group_size: 2
  models:
    xgboost: {space: $src/inputs/tune/xgboost.yaml}
    random_forest: {space: rf_space.yaml}
EOF

run2 run --config "$work/pipeline.yaml" > "$work/run.log" 2>&1
rc=$?
check "run with tune exits 0" test $rc -eq 0
out="$work/out"
for m in xgboost random_forest; do
  check "$m: 3 trials in its study" test "$(grep -c '"event":"finish"' "$out/tune/$m/journal.jsonl")" -eq 3
  check "$m: best parameters written" test -s "$out/tune/$m/best_params.yaml"
  check "$m: trained" test -f "$out/models/$m.json"
  check "$m: explained" test -f "$out/explain/explain_$m.nc"
  check "$m: hyperparameter section in the report" grep -q "<h2[^>]*>Hyperparameter search: $m</h2>" "$out/analysis/index.html"
done
check "xgboost rounds capped in the trials" test "$(wc -l < "$out/tune/xgboost/trials/0/xgboost_eval.csv")" -eq 3
best_trees="$(grep '^num_parallel_tree:' "$out/tune/random_forest/best_params.yaml")"
check "the forest is trained with the best parameters" grep -qx "$best_trees" "$out/models/random_forest_config.yaml"
check "the pipeline's overrides apply to tuned parameters" grep -qx "num_boost_round: 5" "$out/models/xgboost_config.yaml"
check "the report's trials tables" test "$(grep -c '<td>complete</td>' "$out/analysis/index.html")" -eq 6
check "reconstruct wrote the forest's caches" test "$(ls "$out"/caches/random_forest_*.nc 2>/dev/null | wc -l)" -eq 2
check "9 stages ran" grep -q "^run: 9 of 9 stage(s) ran" "$work/run.log"
check "the report names the search spaces" grep -q "rf_space.yaml" "$out/analysis/index.html"

run2 run --config "$work/pipeline.yaml" > "$work/rerun.log" 2>&1
check "rerun exits 0" test $? -eq 0
check "rerun skips every stage" grep -q "^run: 0 of 9 stage(s) ran" "$work/rerun.log"
check "rerun names the tune stages complete" test "$(grep -c '^run: tune [a-z_]*: complete from an earlier run' "$work/rerun.log")" -eq 2

# More trials continue the studies; what depends on them is redone.
sed 's/^  trials: 3/  trials: 4/' "$work/pipeline.yaml" > "$work/more.yaml"
run2 run --config "$work/more.yaml" --out "$out" > "$work/more.log" 2>&1
check "more trials exits 0" test $? -eq 0
check "one more trial per study" test "$(grep -c '"event":"finish"' "$out/tune/random_forest/journal.jsonl")" -eq 4
check "the report shows 4 trials" grep -q "4 trial(s) of the study" "$out/analysis/index.html"

# A tuned model must be a model of the pipeline.
sed 's/^  random_forest: {}$/  mlp: {}/' "$work/pipeline.yaml" > "$work/not_a_model.yaml"
run2 run --config "$work/not_a_model.yaml" --out "$work/bad.out" > "$work/bad.log" 2>&1
check "unknown tune model exits non-zero" test $? -ne 0
check "unknown tune model is named" grep -q "key 'tune.models.random_forest': not a model of this pipeline" "$work/bad.log"
check "nothing written" test ! -e "$work/bad.out"

echo "$passed passed, $failed failed"
test "$failed" -eq 0
