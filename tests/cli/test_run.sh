#!/usr/bin/env bash
# fluxrecon run at 2 ranks on a small testbed with tiny models: the whole
# pipeline ends with a report that names its inputs, a rerun skips every
# stage, and bad pipelines (unknown key, unknown model key, missing dataset
# file, missing input file) fail with a message naming what is wrong and
# write nothing; a failing stage is named. Usage: test_run.sh FLUXRECON MPIEXEC SOURCE_DIR
# (KEEP=1 keeps the work folder for a look at the logs and the report).
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"; [ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT; echo "work: $work"
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=1

# A 6-year testbed on a coarse grid (as test_cli.sh), its test years 1962-1963.
small_testbed "$work/testbed.yaml" "global, North_Atlantic"
cat > "$work/pipeline.yaml" <<EOF
dataset: testbed.yaml
output: out
synthesize: true
models:
  mlp: {overrides: {hidden_dims: [16, 16], epochs: 2, batch_size: 64}}
  lstm: {overrides: {hidden_dim: 8, num_layers: 1, epochs: 1, batch_size: 64}}
  attention_lstm: {overrides: {hidden_dim: 8, epochs: 1, batch_size: 64}}
  gru: {overrides: {hidden_dim: 8, num_layers: 2, epochs: 1, batch_size: 64}}
  xgboost:
    params: $src/inputs/models/xgboost_gbtree.yaml
    overrides: {num_boost_round: 8, max_depth: 4}
reconstruct:
  experiments: [experiment_1]
analyze:
  map_months: [1]
explain: {enabled: true, instances: 4, background: 20, kmeans: 5}
EOF

run2 run --config "$work/pipeline.yaml" > "$work/run.log" 2>&1
rc=$?
check "run exits 0" test $rc -eq 0
out="$work/out"
check "synth wrote 12 files" test "$(ls "$out"/data/*.nc 2>/dev/null | wc -l)" -eq 12
check "prepare wrote train/validation" test -f "$out/samples/train.h5" -a -f "$out/samples/validation.h5"
check "train wrote the five models" test -f "$out/models/mlp.h5" -a -f "$out/models/lstm.h5" \
  -a -f "$out/models/attention_lstm.h5" -a -f "$out/models/gru.h5" -a -f "$out/models/xgboost.json"
check "overrides reached the trainer (2 epochs)" test "$(wc -l < "$out/models/mlp_losses.csv")" -eq 3
check "reconstruct wrote 5 models x 2 regions x 2 years" test "$(ls "$out"/caches/*.nc 2>/dev/null | wc -l)" -eq 20
check "the report exists" test -s "$out/analysis/index.html"
check "the report names the pipeline" grep -q "pipeline.yaml" "$out/analysis/index.html"
check "the report names the dataset" grep -q "testbed.yaml" "$out/analysis/index.html"
check "the report names the model files" grep -q "attention_lstm.h5" "$out/analysis/index.html"
check "the report's figures exist" sh -c "ls '$out'/analysis/figures/*.png > /dev/null"
check "every stage logged its summary line" sh -c "grep -q '^synth: wrote 12 file' '$work/run.log' &&
  grep -q '^prepare: wrote' '$work/run.log' && grep -q '^train xgboost: wrote' '$work/run.log' &&
  grep -q '^train attention_lstm: wrote' '$work/run.log' && grep -q '^reconstruct: wrote 20 cache' '$work/run.log' &&
  grep -q '^train gru: wrote' '$work/run.log' && grep -q '^analyze: read 20 cache' '$work/run.log'"
check "summary line with per-stage times" grep -q "^run: 10 of 10 stage(s) ran .*synth .* s, prepare .*, analyze .* s;" "$work/run.log"
check "the last line is the report's path" sh -c "tail -n 1 '$work/run.log' | grep -q 'run: report: /.*/out/analysis/index.html$'"
check "run_summary.json lists 10 stages" sh -c "grep -c '\"stage\"' '$out/run_summary.json' | grep -qx 10"
check "explain wrote every model's explanations" test -f "$out/explain/explain_mlp.nc" \
  -a -f "$out/explain/explain_lstm.nc" -a -f "$out/explain/explain_attention_lstm.nc" \
  -a -f "$out/explain/explain_gru.nc" -a -f "$out/explain/explain_xgboost.nc"
check "the report shows the explanations" sh -c "grep -q '<h2[^>]*>Explanations' '$out/analysis/index.html' &&
  grep -q 'mlp: kernel shap summary' '$out/analysis/index.html' &&
  grep -q 'xgboost: tree shap by variable leading driver map' '$out/analysis/index.html'"
check "resolved pipeline written" grep -q "map_months" "$out/run_config.yaml"

run2 run --config "$work/pipeline.yaml" > "$work/rerun.log" 2>&1
rc=$?
check "rerun exits 0" test $rc -eq 0
check "rerun skips every stage" grep -q "^run: 0 of 10 stage(s) ran" "$work/rerun.log"
check "rerun names each stage complete" test "$(grep -c '^run: .*: complete from an earlier run ([0-9.]* s)$' "$work/rerun.log")" -eq 10

# A removed model is trained again, its caches (only) are redone, and the
# analysis with them.
rm "$out/models/mlp.h5"
run2 run --config "$work/pipeline.yaml" > "$work/retrain.log" 2>&1
rc=$?
check "run after removing a model exits 0" test $rc -eq 0
check "only that model and what depends on it ran" grep -q "^run: 4 of 10 stage(s) ran" "$work/retrain.log"
check "its caches are redone, the others kept" sh -c "grep -q '^reconstruct: wrote 4 cache(s) (0 already complete) for mlp ' '$work/retrain.log' &&
  grep -q '^reconstruct: wrote 0 cache(s) (16 already complete) for lstm,attention_lstm,gru,xgboost ' '$work/retrain.log'"
check "the analysis is redone" grep -q "^analyze: read 20 cache" "$work/retrain.log"

# Changed parameters of one model: that model is trained again.
sed 's/num_boost_round: 8,/num_boost_round: 6,/' "$work/pipeline.yaml" > "$work/changed.yaml"
run2 run --config "$work/changed.yaml" --out "$out" > "$work/changed.log" 2>&1
rc=$?
check "run with changed parameters exits 0" test $rc -eq 0
check "the changed model is named" grep -q "^run: train xgboost: .*xgboost.json was trained with other parameters" "$work/changed.log"
check "it is trained again with them" test "$(wc -l < "$out/models/xgboost_eval.csv")" -eq 7
check "its caches are redone" grep -q "^reconstruct: wrote 4 cache(s) (0 already complete) for xgboost " "$work/changed.log"

# Bad pipelines: nothing written, the file and key named.
bad() {  # bad NAME: runs $work/NAME.yaml into $work/NAME.out, output in $work/NAME.log
  run2 run --config "$work/$1.yaml" --out "$work/$1.out" > "$work/$1.log" 2>&1
}
sed 's/^  map_months:/  map_month:/' "$work/pipeline.yaml" > "$work/typo.yaml"
bad typo; rc=$?
check "unknown key exits non-zero" test $rc -ne 0
check "unknown key names file and key" grep -q "typo.yaml: key 'analyze.map_month': unknown key" "$work/typo.log"
check "unknown key writes nothing" test ! -e "$work/typo.out"

sed 's/epochs: 2,/epoch: 2,/' "$work/pipeline.yaml" > "$work/model_typo.yaml"
bad model_typo; rc=$?
check "unknown model key exits non-zero" test $rc -ne 0
check "unknown model key is named" grep -q "model_typo.yaml (models.mlp.overrides): key 'epoch': unknown key" "$work/model_typo.log"
check "unknown model key writes nothing" test ! -e "$work/model_typo.out"

sed 's/^dataset: testbed.yaml/dataset: no_such_dataset.yaml/' "$work/pipeline.yaml" > "$work/no_dataset.yaml"
bad no_dataset; rc=$?
check "missing dataset file exits non-zero" test $rc -ne 0
check "missing dataset file is named" grep -q "key 'dataset': the dataset description '.*no_such_dataset.yaml' does not exist" "$work/no_dataset.log"
check "missing dataset file writes nothing" test ! -e "$work/no_dataset.out"

# Without synthesize: the inputs come from data_directory; a missing year
# file is named before any stage runs; a corrupt one fails its stage by name.
mkdir -p "$work/partial" && cp "$out"/data/*.nc "$work/partial/" && rm "$work/partial/testbed_experiment_1_1962.nc"
sed -e 's/^synthesize: true/synthesize: false/' -e '/^synthesize/a data_directory: partial' \
    "$work/pipeline.yaml" > "$work/missing_year.yaml"
bad missing_year; rc=$?
check "missing input file exits non-zero" test $rc -ne 0
check "missing input file is named" grep -q "testbed_experiment_1_1962.nc (test sets)" "$work/missing_year.log"
check "missing input file writes nothing" test ! -e "$work/missing_year.out"
head -c 2000 "$out/data/testbed_experiment_1_1962.nc" > "$work/partial/testbed_experiment_1_1962.nc"
cp "$work/missing_year.yaml" "$work/corrupt.yaml"
bad corrupt; rc=$?
check "corrupt input exits non-zero" test $rc -ne 0
check "the failing stage is named" grep -q "run: stage 'prepare' failed: " "$work/corrupt.log"

run2 run --describe-config > "$work/describe.log" 2>&1
check "describe-config lists the keys" sh -c "grep -q 'reconstruct.years' '$work/describe.log' && grep -q 'synthesize' '$work/describe.log'"

echo "$passed passed, $failed failed"
test "$failed" -eq 0
