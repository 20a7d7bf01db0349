#!/usr/bin/env bash
# `fluxrecon tiles transform` (PCA) as a user runs it, at 2 ranks, on
# synthetic embedding files (tiles_make_embeddings stands in for `tiles
# embed`): fit and apply, a rerun that skips, a saved model applied to other
# files, and bad inputs failing with a message and a non-zero exit.
# Usage: test_tiles_transform.sh FLUXRECON MPIEXEC SOURCE_DIR MAKE_EMBEDDINGS
set -u
bin="$1"; mpiexec="$2"; src="$3"; make_embeddings="$4"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/cli_lib.sh"
meta="$src/inputs/tiles/les_demo/meta.yaml"
emb="$work/demo/embeddings/rect/demo"
"$make_embeddings" "$emb" 6 8 5 7 48
check "6 synthetic embedding files" test "$(ls "$emb"/*.embeddings.48_step.nc | wc -l)" -eq 6

transform_any() { run2 tiles transform --meta "$meta" --data-path "$work/demo" "$@"; }
transform() { transform_any --transform-type pca "$@"; }
transform --model "$work/demo/embedding_models/demo.h5" > "$work/fit.log" 2>&1
check "transform exits 0" test $? -eq 0
check "one transform per scene" test "$(ls "$emb"/*.embeddings.48_step.pca_transform.nc | wc -l)" -eq 6
check "one RGB map per scene" test "$(ls "$emb"/*.embeddings.48_step.pca_transform.png | wc -l)" -eq 6
check "the fitted model" test -s "$emb/pca_transform.48_step.model.nc"
out="$emb/LES__202002021200.embeddings.48_step.pca_transform.nc"
check "ncdump: emb(pca_dim, y, x)" sh -c "ncdump -h '$out' | grep -q 'float emb(pca_dim, y, x)'"
check "ncdump: explained_variance" sh -c "ncdump -h '$out' | grep -q 'double explained_variance(pca_dim)'"
check "ncdump: transform_type" sh -c "ncdump -h '$out' | grep -q 'transform_type = \"pca\"'"
check "summary line" grep -q "tiles: transform pca done: 6 scene(s), 6 written, 0 already complete, 210 window(s) of 8 dims to 8 components" "$work/fit.log"
check "no temporary files left" test -z "$(find "$work/demo" -name '.*.part-*')"

transform --model "$work/demo/embedding_models/demo.h5" > "$work/rerun.log" 2>&1
check "rerun exits 0" test $? -eq 0
check "rerun skips complete outputs" grep -q "0 written, 6 already complete" "$work/rerun.log"

# The saved model applied to a copy of the inputs: the same transforms.
mkdir -p "$work/copy" && cp "$emb"/*.embeddings.48_step.nc "$work/copy/"
transform --embeddings "$work/copy" --pretrained-transform-model "$emb/pca_transform.48_step.model.nc" > "$work/apply.log" 2>&1
check "pretrained exits 0" test $? -eq 0
check "pretrained fits nothing" test ! -e "$work/copy/pca_transform.48_step.model.nc"
check "pretrained = fitted values" sh -c "ncdump -v emb '$out' | sed -n '/^data:/,\$p' > '$work/a.txt'; \
  ncdump -v emb '$work/copy/LES__202002021200.embeddings.48_step.pca_transform.nc' | sed -n '/^data:/,\$p' > '$work/b.txt'; \
  test -s '$work/a.txt' && cmp -s '$work/a.txt' '$work/b.txt'"

bad() {  # bad NAME EXPECTED-TEXT ARGS...: non-zero exit, the message
  local name="$1" text="$2"; shift 2
  transform_any "$@" > "$work/$name.log" 2>&1
  check "$name: non-zero exit" test $? -ne 0
  check "$name: message" grep -qF -- "$text" "$work/$name.log"
}
mkdir -p "$work/empty"
bad no_files "no embedding files *.embeddings.48_step.nc in $work/empty" --transform-type pca --embeddings "$work/empty"
bad unknown_type "unknown --transform-type 'kmeans' (known: pca)" --transform-type kmeans --embeddings "$emb"
"$make_embeddings" "$work/wide" 2 9 3 3 48
bad dims_mismatch "has embeddings of 9 dims but the PCA model $emb/pca_transform.48_step.model.nc was fitted on 8 dims" \
  --transform-type pca --embeddings "$work/wide" --pretrained-transform-model "$emb/pca_transform.48_step.model.nc"
check "dims_mismatch: nothing written" test -z "$(ls "$work/wide" | grep pca_transform)"

echo "tiles transform CLI: $passed passed, $failed failed"
test "$failed" -eq 0
