#!/usr/bin/env bash
# fluxrecon tune at 2 ranks on a small testbed: the shipped MLP space with two
# groups of one rank (both train trials), a rerun that continues the study to
# more trials, best_params.yaml that `train --params` takes, the XGBoost space
# with one group of 2 ranks, and a bad space file refused by name.
# Usage: test_tune.sh FLUXRECON MPIEXEC SOURCE_DIR (KEEP=1 keeps the work folder).
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"; [ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT; echo "work: $work"
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=1

# Training and validation stores of a 4-year testbed on a coarse grid (as test_cli.sh).
small_testbed "$work/testbed.yaml"
run2 synth --config "$work/testbed.yaml" --out "$work/data" > "$work/synth.log" 2>&1
check "synth exits 0" test $? -eq 0
run2 prepare --config "$work/testbed.yaml" --data-dir "$work/data" --out "$work/samples" > "$work/prepare.log" 2>&1
check "prepare exits 0" test $? -eq 0

study="$work/mlp_study"
run2 tune --space "$src/inputs/tune/mlp.yaml" --samples "$work/samples" --out "$study" \
     --trials 4 --epochs 1 --seed 5 > "$work/tune.log" 2>&1
check "tune exits 0" test $? -eq 0
check "tune summary line" grep -q "tune mlp: 4 trial(s) finished .* 4 run by this job .* 2 group(s) of 1 rank(s)); best trial" "$work/tune.log"
check "progress line per trial" test "$(grep -c '^tune: trial [0-9]* ' "$work/tune.log")" -eq 4
check "journal has 4 trials" test "$(grep -c '"event":"start"' "$study/journal.jsonl")" -eq 4
check "4 trials finished" test "$(grep -c '"event":"finish"' "$study/journal.jsonl")" -eq 4
check "both groups trained trials" test "$(grep -o '"pid":[0-9]*' "$study/journal.jsonl" | sort -u | wc -l)" -eq 2
check "trials.csv has 4 rows" test "$(wc -l < "$study/trials.csv")" -eq 5
check "trials.csv header" grep -q "^number,state,value,last_step,n_layers,hidden_dim_0" "$study/trials.csv"
check "optimisation history PNG" sh -c "head -c 8 '$study/optimisation_history.png' | grep -q PNG"
check "parameter importance PNG" sh -c "head -c 8 '$study/param_importance.png' | grep -q PNG"
check "per-epoch reports" grep -q '"event":"report"' "$study/journal.jsonl"

# The same command with more trials continues the study.
run2 tune --space "$src/inputs/tune/mlp.yaml" --samples "$work/samples" --out "$study" \
     --trials 6 --epochs 1 --seed 5 > "$work/tune2.log" 2>&1
check "continued study exits 0" test $? -eq 0
check "continued study ran 2 more" grep -q "tune mlp: 6 trial(s) finished .* 2 run by this job" "$work/tune2.log"
check "journal has 6 trials" test "$(grep -c '"event":"start"' "$study/journal.jsonl")" -eq 6

# best_params.yaml is a parameter file of train --params (1 epoch here for time).
check "best_params.yaml names the trial" grep -q "^# trial [0-9]*, validation MSE" "$study/best_params.yaml"
sed 's/^epochs: .*/epochs: 1/' "$study/best_params.yaml" > "$work/best_1epoch.yaml"
run2 train --model mlp --samples "$work/samples" --params "$work/best_1epoch.yaml" --out "$work/best_model" > "$work/train.log" 2>&1
check "train --params best_params.yaml exits 0" test $? -eq 0
check "train wrote the model" test -f "$work/best_model/mlp.h5"

# XGBoost: one group of both ranks (data-parallel trials over the collective).
run2 tune --space "$src/inputs/tune/xgboost.yaml" --samples "$work/samples" --out "$work/xgb_study" \
     --trials 3 --epochs 5 --group-size 2 > "$work/xgb.log" 2>&1
check "xgboost tune exits 0" test $? -eq 0
check "xgboost summary line" grep -q "tune xgboost: 3 trial(s) finished (3 complete.* 1 group(s) of 2 rank(s)); best trial" "$work/xgb.log"
check "xgboost rounds capped" test "$(wc -l < "$work/xgb_study/trials/0/xgboost_eval.csv")" -eq 6
check "xgboost best params" grep -q "^num_boost_round: " "$work/xgb_study/best_params.yaml"

# Bad input: a misspelt key of the space file, named; --describe-config.
sed 's/^  n_trials: 50/  n_trial: 50/' "$src/inputs/tune/mlp.yaml" > "$work/typo.yaml"
run2 tune --space "$work/typo.yaml" --samples "$work/samples" --out "$work/typo_study" > "$work/typo.log" 2>&1
rc=$?
check "misspelt space key exits non-zero" test $rc -ne 0
check "misspelt space key is named" grep -q "typo.yaml: key 'study.n_trial': unknown key" "$work/typo.log"
check "nothing written for a bad space" test ! -e "$work/typo_study/journal.jsonl"
"$bin" tune --describe-config > "$work/describe.log" 2>&1
check "describe-config lists the keys" grep -q "pruner.n_warmup_steps" "$work/describe.log"

echo "$passed passed, $failed failed"
test $failed -eq 0
