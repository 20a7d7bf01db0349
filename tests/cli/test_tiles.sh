#!/usr/bin/env bash
# `fluxrecon tiles` as a user runs it, at 2 ranks: the LES demo from a fresh
# output directory (synthetic sources, scene IDs, triplets in the convml_tt
# layout), a rerun that skips, a run killed part-way and resumed, and bad
# meta.yaml files failing with a message naming the key, a non-zero exit and
# nothing written. Usage: test_tiles.sh FLUXRECON MPIEXEC SOURCE_DIR
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/cli_lib.sh"
meta="$src/inputs/tiles/les_demo/meta.yaml"

run2 tiles GenerateTiles --meta "$meta" --data-path "$work/demo" > "$work/tiles.log" 2>&1
check "GenerateTiles exits 0" test $? -eq 0
check "10 scene IDs" test "$(grep -c '^LES__' "$work/demo/source_data/LES/singlechannel__rlut/scene_ids.yml")" -eq 10
check "12 train triplets" test "$(ls "$work"/demo/triplets/train/*_{anchor,neighbor,distant}.png | wc -l)" -eq 36
check "4 study triplets" test "$(ls "$work"/demo/triplets/study/*.png | wc -l)" -eq 12
check "nc, png and yml per tile" test "$(ls "$work"/demo/triplets/{train,study}/* | wc -l)" -eq 144
check "tile yml names its scene" grep -q "scene_id: LES__2020020212" "$work/demo/triplets/train/00000_anchor.yml"
check "ncdump reads a tile" sh -c "ncdump -h '$work/demo/triplets/train/00000_anchor.nc' | grep -q 'float rlut(y, x)'"
check "summary line" grep -q "tiles: GenerateTiles done: 10 scene(s), .*48 tile(s)" "$work/tiles.log"
check "no temporary files left" test -z "$(find "$work/demo" -name '.*.part-*')"

run2 tiles GenerateTiles --meta "$meta" --data-path "$work/demo" > "$work/rerun.log" 2>&1
check "rerun exits 0" test $? -eq 0
check "rerun skips complete outputs" grep -q "0 written, 10 already complete, 0 tile(s)" "$work/rerun.log"

# Killed part-way (while the synthetic source files are being written), then
# resumed: the same dataset as the uninterrupted run, sources included.
run2 tiles GenerateTiles --meta "$meta" --data-path "$work/killed" > "$work/killed.log" 2>&1 &
pid=$!
# Kill as soon as the first source file is being written (a fixed sleep
# races with fast machines, where the whole run can end first).
for _ in $(seq 1 600); do
  [ -n "$(find "$work/killed" -type f 2>/dev/null | head -1)" ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
check "the kill interrupted the run" test -z "$(ls "$work"/killed/triplets/train/*.png 2>/dev/null)"
run2 tiles GenerateTiles --meta "$meta" --data-path "$work/killed" > "$work/resumed.log" 2>&1
check "resumed run exits 0" test $? -eq 0
check "resumed dataset equals the uninterrupted one" diff -r -q -x '.*.part-*' "$work/demo" "$work/killed"

# Aux product and sliding-window tiles.
run2 tiles GenerateTiles --meta "$meta" --data-path "$work/demo" --aux-name lwp > "$work/aux.log" 2>&1
check "aux tiles" test "$(ls "$work"/demo/triplets/lwp/train/*.png | wc -l)" -eq 36
run2 tiles GenerateTiles --tiles-kind rect-slidingwindow --meta "$meta" --data-path "$work/demo" > "$work/sw.log" 2>&1
check "sliding-window tiles (4 x 4 per scene)" test "$(ls "$work"/demo/rect-slidingwindow/*.png | wc -l)" -eq 160

# Embedding model (issue 17): a tiny encoder trained on the demo's triplets,
# then sliding-window embeddings of every regridded scene; reruns skip.
printf 'base_width: 4\nblocks: [1, 1]\nhead_hidden: 8\nembedding_dims: 5\nbatch_size: 4\nepochs: 2\n' > "$work/enc.yaml"
run2 tiles train-embedding --meta "$meta" --data-path "$work/demo" --params "$work/enc.yaml" > "$work/train.log" 2>&1
check "train-embedding exits 0" test $? -eq 0
check "train-embedding summary" grep -q "tiles: train-embedding done: .*triplet_encoder.h5" "$work/train.log"
run2 tiles embed --meta "$meta" --data-path "$work/demo" --model "$work/demo/embedding_models/triplet_encoder.h5" --step-size 48 > "$work/embed.log" 2>&1
check "embed exits 0" test $? -eq 0
check "one embedding file per scene" test "$(ls "$work"/demo/embeddings/rect/triplet_encoder/*.embeddings.48_step.nc | wc -l)" -eq 10
check "ncdump reads an embedding" sh -c "ncdump -h '$(ls "$work"/demo/embeddings/rect/triplet_encoder/*.nc | head -1)' | grep -q 'float emb(emb_dim, y, x)'"
run2 tiles embed --meta "$meta" --data-path "$work/demo" --model "$work/demo/embedding_models/triplet_encoder.h5" --step-size 48 > "$work/embed2.log" 2>&1
check "embed rerun skips" grep -q "0 written, 10 already complete" "$work/embed2.log"
printf 'base_widht: 4\n' > "$work/bad_enc.yaml"
run2 tiles train-embedding --meta "$meta" --data-path "$work/demo" --params "$work/bad_enc.yaml" --out "$work/bad.h5" > "$work/bad_enc.log" 2>&1
check "unknown params key: non-zero exit" test $? -ne 0
check "unknown params key: message" grep -q "base_widht" "$work/bad_enc.log"
check "unknown params key: no model" test ! -e "$work/bad.h5"

# Bad meta.yaml files.
bad() {  # bad NAME EXPECTED-TEXT YAML: fails before anything is written
  mkdir -p "$work/$1"
  printf '%s\n' "$3" > "$work/$1/meta.yaml"
  run2 tiles GenerateTiles --meta "$work/$1/meta.yaml" > "$work/$1.log" 2>&1
  local rc=$?
  check "$1: non-zero exit" test $rc -ne 0
  check "$1: message" grep -q "$2" "$work/$1.log"
  if [ "$1" = big_tile ]; then  # known only from the (as_source) data: no tile written
    check "$1: no tile written" test -z "$(find "$work/$1" -name '*_anchor*')"
  else
    check "$1: nothing written" test "$(ls "$work/$1")" = "meta.yaml"
  fi
}
bad unknown_key "key 'tile_size': unknown key; allowed keys here: N_triplets, tile_N" \
  "$(sed 's/    tile_N: 64/    tile_size: 64/' "$meta")"
bad bad_source "value 'LES2' is not allowed; expected one of: goes16, LES" "$(sed 's/^source: LES/source: LES2/' "$meta")"
bad inverted_time "the interval is inverted" "$(sed 's/t_end: 2020-02-02T13:30/t_end: 2020-02-02T11:30/' "$meta")"
bad big_tile "larger than the domain" "$(sed 's/    tile_N: 64/    tile_N: 400/' "$meta")"

echo "tiles CLI: $passed passed, $failed failed"
test "$failed" -eq 0
