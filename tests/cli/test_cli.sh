#!/usr/bin/env bash
# The fluxrecon binary as a user runs it, at 2 ranks: synth + prepare on a
# small testbed, rerun skipping, and bad input failing with a clear message,
# a non-zero exit and nothing written. Usage: test_cli.sh FLUXRECON MPIEXEC SOURCE_DIR
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/cli_lib.sh"

# A 2-experiment, 6-year testbed on a coarse grid.
small_testbed "$work/testbed.yaml"

run2 synth --config "$work/testbed.yaml" --out "$work/data" > "$work/synth.log" 2>&1
check "synth exits 0" test $? -eq 0
check "synth wrote 12 files" test "$(ls "$work"/data/*.nc | wc -l)" -eq 12
check "synth ends with a summary" grep -q "synth: wrote 12 file(s)" "$work/synth.log"

run2 prepare --config "$work/testbed.yaml" --data-dir "$work/data" --out "$work/samples" > "$work/prepare.log" 2>&1
check "prepare exits 0" test $? -eq 0
check "prepare wrote train/validation" test -f "$work/samples/train.h5" -a -f "$work/samples/validation.h5"
check "prepare wrote 16 test sets" test "$(ls "$work"/samples/test_*.h5 | wc -l)" -eq 16
check "prepare summary line" grep -q "prepare: wrote 18 set(s)" "$work/prepare.log"
check "h5dump reads the store" sh -c "h5dump -H '$work/samples/train.h5' | grep -q 'features'"

run2 prepare --config "$work/testbed.yaml" --data-dir "$work/data" --out "$work/samples" > "$work/rerun.log" 2>&1
check "rerun skips complete outputs" grep -q "wrote 0 set(s) (18 already complete)" "$work/rerun.log"

# Train XGBoost on the prepared samples, at 2 ranks.
printf 'num_boost_round: 20\nmax_depth: 6\nbooster: gbtree\n' > "$work/xgb.yaml"
run2 train --model xgboost --samples "$work/samples" --params "$work/xgb.yaml" --out "$work/models" > "$work/train.log" 2>&1
check "train exits 0" test $? -eq 0
check "train wrote the model file" test -f "$work/models/xgboost.json"
check "train wrote the evaluation log" test "$(wc -l < "$work/models/xgboost_eval.csv")" -eq 21
check "train summary line in the target's units with R^2" grep -q "train xgboost: wrote .* validation RMSE [0-9.e+-]* mol m-2 yr-1, R^2 0\.[0-9]" "$work/train.log"
printf 'num_boost_round: 20\ncolsample_by_tree: 0.5\n' > "$work/xgb_typo.yaml"
run2 train --model xgboost --samples "$work/samples" --params "$work/xgb_typo.yaml" --out "$work/models_typo" > "$work/train_typo.log" 2>&1
rc=$?
check "misspelt XGBoost parameter exits non-zero" test $rc -ne 0
check "misspelt XGBoost parameter is named" grep -q "colsample_by_tree': unknown key" "$work/train_typo.log"

# The random forest (XGBoost's random-forest mode) at 2 ranks: one round;
# a subsample of 1 (a forest of identical trees) is refused by name.
printf 'num_parallel_tree: 10\nmax_depth: 6\n' > "$work/rf.yaml"
run2 train --model random_forest --samples "$work/samples" --params "$work/rf.yaml" --out "$work/models" > "$work/rf.log" 2>&1
check "random forest train exits 0" test $? -eq 0
check "random forest model file says so" grep -Fq '\"model\":\"random_forest\"' "$work/models/random_forest.json"
check "random forest summary line: one round" grep -q "train random_forest: wrote .*random_forest.json (1 rounds" "$work/rf.log"
printf 'subsample: 1\n' > "$work/rf_bad.yaml"
run2 train --model random_forest --samples "$work/samples" --params "$work/rf_bad.yaml" --out "$work/models_rf_bad" > "$work/rf_bad.log" 2>&1
check "random forest without subsampling exits non-zero" test $? -ne 0
check "random forest subsample is named" grep -q "rf_bad.yaml: key 'subsample': 1 is not a number in (0, 1)" "$work/rf_bad.log"

# Train the attention LSTM (small) at 2 ranks; a rerun skips; --resume of a
# finished model skips too; an impossible value is refused by name.
printf 'hidden_dim: 16\nepochs: 2\nbatch_size: 64\n' > "$work/att.yaml"
run2 train --model attention_lstm --samples "$work/samples" --params "$work/att.yaml" --out "$work/models" > "$work/att.log" 2>&1
check "neural train exits 0" test $? -eq 0
check "neural train wrote the model file" sh -c "h5dump -H '$work/models/attention_lstm.h5' > /dev/null"
check "model file holds PyTorch names" sh -c "h5dump -H '$work/models/attention_lstm.h5' | grep -q 'lstm_cell.weight_hh'"
check "loss history has 2 epochs" test "$(wc -l < "$work/models/attention_lstm_losses.csv")" -eq 3
check "loss curve PNG" sh -c "head -c 8 '$work/models/attention_lstm_loss.png' | grep -q PNG"
check "neural train summary line" grep -q "train attention_lstm: wrote .* R^2" "$work/att.log"
check "per-epoch log with compute/communication" grep -q "epoch 2/2 train MSE .* samples/s, compute .* communication" "$work/att.log"
run2 train --model attention_lstm --samples "$work/samples" --params "$work/att.yaml" --out "$work/models" --resume > "$work/att2.log" 2>&1
check "rerun of a complete model skips" grep -q "is complete from an earlier run" "$work/att2.log"
printf 'hidden_dim: 16\nnum_layers: 2\n' > "$work/att_bad.yaml"
run2 train --model attention_lstm --samples "$work/samples" --params "$work/att_bad.yaml" --out "$work/models_bad" > "$work/att_bad.log" 2>&1
rc=$?
check "key of another model exits non-zero" test $rc -ne 0
check "key of another model is named" grep -q "num_layers': unknown key" "$work/att_bad.log"
check "refused config writes nothing" test ! -e "$work/models_bad/attention_lstm.h5"

# Train the GRU (small, 2 layers) at 2 ranks: PyTorch's nn.GRU names.
printf 'hidden_dim: 8\nnum_layers: 2\ndropout: 0.1\nepochs: 2\nbatch_size: 64\n' > "$work/gru.yaml"
run2 train --model gru --samples "$work/samples" --params "$work/gru.yaml" --out "$work/models" > "$work/gru.log" 2>&1
check "gru train exits 0" test $? -eq 0
check "gru model file holds nn.GRU names" sh -c "h5dump -H '$work/models/gru.h5' | grep -q 'gru.weight_hh_l1'"
check "gru train summary line" grep -q "train gru: wrote .* R^2" "$work/gru.log"

# Bad input: a typo in a key.
sed 's/^  fraction: 0.5/  fracton: 0.5/' "$work/testbed.yaml" > "$work/typo.yaml"
run2 prepare --config "$work/typo.yaml" --data-dir "$work/data" --out "$work/typo" > "$work/typo.log" 2>&1
rc=$?
check "typo exits non-zero" test $rc -ne 0
check "typo names file and key" grep -q "typo.yaml: key 'sampling.fracton': unknown key" "$work/typo.log"
check "typo writes nothing" test ! -e "$work/typo/train.h5"

# Bad input: a missing year file.
mkdir -p "$work/partial" && cp "$work"/data/*.nc "$work/partial/" && rm "$work/partial/testbed_experiment_2_1963.nc"
run2 prepare --config "$work/testbed.yaml" --data-dir "$work/partial" --out "$work/partial_out" > "$work/missing.log" 2>&1
rc=$?
check "missing file exits non-zero" test $rc -ne 0
check "missing file is named" grep -q "testbed_experiment_2_1963.nc" "$work/missing.log"
check "missing file writes nothing" sh -c "! ls '$work/partial_out/'*.h5 >/dev/null 2>&1"

echo "$passed passed, $failed failed"
test $failed -eq 0
