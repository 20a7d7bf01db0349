#!/usr/bin/env bash
# Submits the pipeline of a pipeline YAML (what `fluxrecon run` does in one
# job) as a chain of SLURM jobs, each stage with its own shape and time limit:
#   synth (if `synthesize: true`) -> prepare -> train <model> (one job per
#   model, in parallel) -> reconstruct (a job ARRAY: one task per group of
#   years) [+ explain (if `explain.enabled`), beside reconstruct] -> analyze
# chained with --dependency=afterok (a failed stage cancels the jobs after
# it). Each stage runs the same subcommand with the same options as
# `fluxrecon run` gives it, so the outputs under OUT_DIR (data/, samples/,
# models/, caches/, explain/, analysis/index.html) equal those of
#   fluxrecon run --config PIPELINE.yaml --out OUT_DIR
# at the same rank counts (the `tune` block is not supported here: use
# jobscripts/run.sbatch for a tuned pipeline).
#
#   tools/submit-pipeline.sh PIPELINE.yaml OUT_DIR [options]
#     --partition P          partition of every job (default: the cluster's)
#     --time [STAGE=]LIMIT   time limit (sbatch --time), for every stage or one:
#                            synth, prepare, train, train.<model>, reconstruct,
#                            explain, analyze (defaults: 1:00:00, 2:00:00,
#                            12:00:00, 6:00:00, 2:00:00, 1:00:00)
#     --ranks [STAGE=]N      MPI ranks (sbatch --ntasks; default 2)
#     --cpus [STAGE=]N       cores per rank (OMP_NUM_THREADS; default 1)
#     --years-per-task N     years per reconstruct array task (default 1)
#     --array-limit N        at most N reconstruct tasks at once (default: no limit)
#     --max-requeues N       requeues of a job that reaches its time limit (default 3)
#     --requeue-lead S       seconds before the time limit that SLURM warns (default 300;
#                            a quarter of the limit where that is less)
#     --sbatch-args "ARGS"   more sbatch options for every job (e.g. "--account=X --qos=Y")
#     --job-prefix NAME      job names NAME-<stage> (default fluxrecon)
#     --bin PATH             the fluxrecon binary (default FLUXRECON_BIN, else build/fluxrecon)
#     --wait                 wait until the pipeline ends; exit 0 when the report exists
#     --dry-run              print the sbatch commands, submit and write nothing
#
# Time limits: every job gets `--signal=B:USR1@LEAD --requeue`. When SLURM's
# warning comes, the job (tools/slurm-stage.sh) requeues itself: the same job
# id runs again, skips the outputs that are complete and resumes training from
# its last checkpoint, while the jobs after it keep waiting. After
# --max-requeues requeues it ends TIMEOUT and the rest of the chain is
# cancelled; submitting the pipeline again goes on from what is complete.
# Logs: OUT_DIR/slurm/logs/<stage>-<jobid>.out (all attempts of a job in one
# file); job ids: OUT_DIR/slurm/jobs.tsv. Needs python3 with PyYAML (Debian's
# python3-yaml) on the submitting machine only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
me="submit-pipeline"
die() { echo "$me: error: $*" >&2; exit 1; }
usage() { sed -n '/^#   tools\/submit-pipeline.sh/,/^#     --dry-run/p' "$0" | sed 's/^# \{0,1\}//'; }

[ $# -ge 2 ] || { usage >&2; exit 2; }
pipeline="$1" out="$2"
shift 2
[ -f "$pipeline" ] || die "pipeline YAML '$pipeline' does not exist"
partition="" years_per_task=1 array_limit="" max_requeues=3 lead=300 sbatch_extra="" prefix="fluxrecon"
bin="${FLUXRECON_BIN:-$root/build/fluxrecon}" wait=0 dry=0
declare -A time_of=([synth]=01:00:00 [prepare]=02:00:00 [train]=12:00:00 [reconstruct]=06:00:00
  [explain]=02:00:00 [analyze]=01:00:00)
declare -A ranks_of=([all]=2) cpus_of=([all]=1)
stages_re='^(synth|prepare|train|train\.[a-z_]+|reconstruct|explain|analyze)$'
set_per_stage() {  # set_per_stage ARRAY OPTION VALUE: VALUE is LIMIT or STAGE=LIMIT
  local -n map="$1"
  if [[ "$3" == *=* ]]; then
    [[ "${3%%=*}" =~ $stages_re ]] || die "$2 ${3}: unknown stage '${3%%=*}' (synth, prepare, train, train.<model>, reconstruct, explain, analyze)"
    map["${3%%=*}"]="${3#*=}"
  else
    for k in all synth prepare train reconstruct explain analyze; do map[$k]="$3"; done
    for k in "${!map[@]}"; do [[ "$k" == train.* ]] && unset "map[$k]"; done
  fi
  return 0
}
per_stage() {  # per_stage ARRAY STAGE [MODEL]: the value for train.MODEL, else STAGE, else all
  local -n map="$1"
  if [ -n "${3:-}" ] && [ -n "${map[$2.$3]:-}" ]; then echo "${map[$2.$3]}"
  elif [ -n "${map[$2]:-}" ]; then echo "${map[$2]}"
  else echo "${map[all]}"; fi
}
while [ $# -gt 0 ]; do
  case "$1" in
    --wait | --dry-run | -h | --help) ;;
    *) [ $# -ge 2 ] || die "option '$1' needs a value (see $0 --help)" ;;
  esac
  case "$1" in
    --partition) partition="$2"; shift 2 ;;
    --time) set_per_stage time_of --time "$2"; shift 2 ;;
    --ranks) set_per_stage ranks_of --ranks "$2"; shift 2 ;;
    --cpus) set_per_stage cpus_of --cpus "$2"; shift 2 ;;
    --years-per-task) years_per_task="$2"; shift 2 ;;
    --array-limit) array_limit="$2"; shift 2 ;;
    --max-requeues) max_requeues="$2"; shift 2 ;;
    --requeue-lead) lead="$2"; shift 2 ;;
    --sbatch-args) sbatch_extra="$2"; shift 2 ;;
    --job-prefix) prefix="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --wait) wait=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see $0 --help)" ;;
  esac
done
for v in years_per_task max_requeues lead; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "--${v//_/-} '${!v}': expected a whole number"
done
[ "$years_per_task" -ge 1 ] || die "--years-per-task must be at least 1"
for k in "${!ranks_of[@]}" "${!cpus_of[@]}"; do
  [[ "${ranks_of[$k]:-1}${cpus_of[$k]:-1}" =~ ^[0-9]+$ ]] || die "--ranks/--cpus $k: expected a whole number"
done
if [ ! -x "$bin" ]; then
  [ "$dry" = 1 ] || die "fluxrecon binary '$bin' not found or not executable (build it, or give --bin or FLUXRECON_BIN)"
  echo "$me: warning: fluxrecon binary '$bin' not found (dry run)" >&2
fi
[ -x "$bin" ] && bin="$(realpath "$bin")"
out="$(realpath -m "$out")"  # the jobs run elsewhere: absolute paths everywhere
mkdir_out() { [ "$dry" = 1 ] || mkdir -p "$@"; }
# seconds LIMIT: a SLURM time limit (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S) in seconds.
seconds() {
  local t="$1" d=0 h=0 m=0 s=0 IFS=:
  case "$t" in UNLIMITED | INFINITE | infinite | unlimited) echo 999999999; return ;; esac
  [[ "$t" =~ ^[0-9:-]+$ ]] || die "time limit '$t': expected minutes, M:S, H:M:S or D-H[:M[:S]]"
  if [[ "$t" == *-* ]]; then
    d="${t%%-*}"; t="${t#*-}"
    read -r h m s <<< "$t"
  else
    local f
    read -r -a f <<< "$t"
    case ${#f[@]} in 1) m="${f[0]}" ;; 2) m="${f[0]}" s="${f[1]}" ;; *) h="${f[0]}" m="${f[1]}" s="${f[2]}" ;; esac
  fi
  echo $(( 10#${d:-0} * 86400 + 10#${h:-0} * 3600 + 10#${m:-0} * 60 + 10#${s:-0} ))
}
for k in "${!time_of[@]}"; do
  seconds "${time_of[$k]}" > /dev/null || exit 1  # a bad limit, named before anything is submitted
done
exec 3>&1  # the dry run's commands; stdout of submit() is the job id
stage_script="$root/tools/slurm-stage.sh"
[ -f "$stage_script" ] || die "$stage_script is missing"
if [ "$dry" = 0 ]; then
  command -v sbatch >/dev/null || die "sbatch not found: run this on a SLURM login node (or start tools/slurm-local)"
fi
python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c "import yaml" 2>/dev/null; then python="$p"; break; fi
done
[ -n "$python" ] || die "python3 with PyYAML is needed to read $pipeline (Debian: apt-get install python3-yaml)"

# The plan: what each stage gets, from the pipeline and its dataset YAML
# (defaults as fluxrecon's schemas), as shell assignments. Models with
# `overrides` get a parameter file of their own under OUT_DIR/slurm/params:
# the params file's YAML nodes with the overridden keys replaced (values kept
# as written, so the trainer reads what `fluxrecon run` would give it).
plan="$("$python" - "$pipeline" "$out" "$bin" "$dry" <<'PY'
import os, shlex, subprocess, sys
import yaml
from yaml.nodes import MappingNode, ScalarNode

pipeline, out, binary, dry = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
def fail(msg):
    print(f"submit-pipeline: error: {msg}", file=sys.stderr)
    sys.exit(1)
def compose(path):
    try:
        with open(path) as f:
            return yaml.compose(f)
    except (OSError, yaml.YAMLError) as e:
        fail(f"cannot read {path}: {e}")
def load(path):
    try:
        with open(path) as f:
            return yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        fail(f"cannot read {path}: {e}")
def node_get(node, key):
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None

p = load(pipeline)
if not isinstance(p, dict):
    fail(f"{pipeline}: expected a mapping of pipeline keys")
known = {"dataset", "output", "synthesize", "data_directory", "models", "reconstruct", "analyze",
         "explain", "tune"}
for k in p:
    if k not in known:
        fail(f"{pipeline}: key '{k}': unknown key (fluxrecon run --describe-config lists them)")
base = os.path.dirname(os.path.abspath(pipeline))
def resolve(f):
    if not f:
        return ""
    return os.path.normpath(f if os.path.isabs(f) else os.path.join(base, f))

tune = p.get("tune") or {}
if tune.get("enabled"):
    fail(f"{pipeline}: key 'tune.enabled' is true: tuned pipelines are not split into jobs here; "
         "submit jobscripts/run.sbatch (fluxrecon run) instead, or train with the studies' best_params.yaml")
dataset = resolve(p.get("dataset") or "")
if not dataset or not os.path.isfile(dataset):
    fail(f"{pipeline}: key 'dataset': the dataset description '{dataset}' does not exist")
d = load(dataset)
synthesize = bool(p.get("synthesize", False))
data_dir = resolve(p.get("data_directory") or "")
if not data_dir and synthesize:
    data_dir = os.path.join(out, "data")

models = p.get("models") or {}
if not isinstance(models, dict) or not models:
    fail(f"{pipeline}: key 'models': name at least one model")
names = ["mlp", "lstm", "attention_lstm", "gru", "xgboost", "random_forest"]
pnode = compose(pipeline)
lines = []
def emit(name, value):
    if isinstance(value, list):
        lines.append(f"{name}=(" + " ".join(shlex.quote(str(v)) for v in value) + ")")
    else:
        lines.append(f"{name}={shlex.quote(str(value))}")

def normal(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    if isinstance(v, list):
        return [normal(x) for x in v]
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items()}
    return v
def defaults(model):  # the schema's defaults, from the binary's own table
    try:
        text = subprocess.run([binary, "train", "--model", model, "--describe-config"],
                              capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].startswith("`"):
            try:
                table[cells[1].strip("`")] = yaml.safe_load(cells[3])
            except yaml.YAMLError:
                table[cells[1].strip("`")] = cells[3]
    return table or None

params_dir = os.path.join(out, "slurm", "params")
emit("models", list(models))
for name, spec in models.items():
    if name not in names:
        fail(f"{pipeline}: key 'models.{name}': unknown model; expected one of: {', '.join(names)}")
    spec = spec or {}
    params = resolve(spec.get("params") or "")
    if params and not os.path.isfile(params):
        fail(f"{pipeline}: key 'models.{name}.params': '{params}' does not exist")
    over = node_get(node_get(node_get(pnode, "models"), name), "overrides")
    if over is not None and not (isinstance(over, MappingNode) or
                                 (isinstance(over, ScalarNode) and over.tag.endswith(":null"))):
        fail(f"{pipeline}: key 'models.{name}.overrides': expected a block of model keys, e.g. {{epochs: 5}}")
    path, text = params, None
    if isinstance(over, MappingNode) and over.value:
        node = compose(params) if params else None
        if node is None:
            node = MappingNode("tag:yaml.org,2002:map", [])
        if not isinstance(node, MappingNode):
            fail(f"{params}: expected a mapping of model keys")
        for k, v in over.value:
            node.value = [(a, b) for a, b in node.value if a.value != k.value] + [(k, v)]
        text = (f"# {name}: {params or 'the seed values'} with the overrides of {os.path.abspath(pipeline)}\n"
                f"# (written by tools/submit-pipeline.sh)\n" + yaml.serialize(node))
        path = os.path.join(params_dir, f"{name}.yaml")
        if not dry:
            os.makedirs(params_dir, exist_ok=True)
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
    emit(f"params_{name}", path)
    emit(f"params_text_{name}", text or "")
    # A complete model trained with other parameters is trained afresh, as
    # `fluxrecon run` does (its _config.yaml says which parameters it had).
    fresh = 0
    models_dir = os.path.join(out, "models")
    model_file = os.path.join(models_dir, name + (".json" if name in ("xgboost", "random_forest") else ".h5"))
    config = os.path.join(models_dir, name + "_config.yaml")
    if os.path.isfile(model_file) and os.path.isfile(config):
        want = dict(defaults(name) or {})
        want.update(yaml.safe_load(text) if text else (load(params) if params else {}))
        had = load(config)
        keys = set(want) | set(had) if want else set(had)
        if any(normal(want.get(k)) != normal(had.get(k)) for k in keys if k in want):
            fresh = 1
    emit(f"fresh_{name}", fresh)

# Reconstruct and analyze: the pipeline's lists, else the dataset's test ones.
r = p.get("reconstruct") or {}
experiments = r.get("experiments") or (d.get("domain") or {}).get("test_experiments") or list(d.get("experiments") or {})
regions = r.get("regions") or (d.get("domain") or {}).get("test_regions") or ["global"]
years = r.get("years") or (d.get("time") or {}).get("test") or [2009, 2018]
if len(years) != 2 or years[0] > years[1]:
    fail(f"{pipeline}: key 'reconstruct.years': expected [] or [first, last] with first <= last")
emit("experiments", experiments)
emit("regions", regions)
emit("first_year", int(years[0]))
emit("last_year", int(years[1]))
emit("start_april", 1 if r.get("start_april") else 0)
emit("map_months", (p.get("analyze") or {}).get("map_months") or [1, 7])
e = p.get("explain") or {}
emit("explain", 1 if e.get("enabled") else 0)
emit("explain_args", ["--instances", e.get("instances", 100), "--background", e.get("background", 2000),
                      "--kmeans", e.get("kmeans", 0)] + (["--months"] + list(e["months"]) if e.get("months") else []))
pco2 = bool((d.get("pco2_route") or {}).get("enabled"))
emit("analyze_models", [m + "_pco2" for m in models] + ["simulated_pco2"] if pco2 else list(models))
emit("pco2", 1 if pco2 else 0)
emit("dataset", dataset)
emit("synthesize", 1 if synthesize else 0)
emit("data_dir", data_dir)
emit("pipeline_abs", os.path.abspath(pipeline))
print("\n".join(lines))
PY
)" || exit 1
eval "$plan"

mkdir_out "$out/slurm/logs"
logs="$out/slurm/logs"
declare -a submitted=()  # "stage<TAB>jobid"
# submit NAME STAGE DEPENDENCIES [sbatch options...] -- [slurm-stage.sh options] -- fluxrecon args:
# prints the job id (a placeholder in a dry run).
submit() {
  local name="$1" stage="$2" deps="$3" model=""
  shift 3
  [[ "$name" == train-* ]] && model="${name#train-}"
  local limit limit_s job_lead="$lead"
  limit="$(per_stage time_of "$stage" "$model")"
  limit_s="$(seconds "$limit")"
  # SLURM warns up to 30 s before the lead: a lead near the limit would warn
  # the job as it starts, so short limits get a quarter of the limit.
  if [ $((limit_s / 4)) -lt "$lead" ]; then
    job_lead=$((limit_s / 4))
    echo "$me: $name: time limit $limit is short for a ${lead} s warning: warned $job_lead s before" >&2
  fi
  local sb=(sbatch --parsable --job-name="$prefix-$name" --time="$limit"
    --ntasks="$(per_stage ranks_of "$stage" "$model")" --cpus-per-task="$(per_stage cpus_of "$stage" "$model")"
    --requeue --signal="B:USR1@$job_lead" --open-mode=append
    --export="ALL,FLUXRECON_BIN=$bin")
  [ -n "$partition" ] && sb+=(--partition="$partition")
  [ -n "$deps" ] && sb+=(--dependency="afterok:$deps" --kill-on-invalid-dep=yes)
  while [ "$1" != -- ]; do sb+=("$1"); shift; done
  shift
  local logname="$logs/$name-%j.out"
  for a in "${sb[@]}"; do [[ "$a" == --array=* ]] && logname="$logs/$name-%A_%a.out"; done
  sb+=(--output="$logname")
  # shellcheck disable=SC2206  # the user's extra options, split as a shell would
  [ -n "$sbatch_extra" ] && sb+=($sbatch_extra)
  sb+=("$stage_script" --max-requeues "$max_requeues" "$@")
  if [ "$dry" = 1 ]; then
    printf '%q ' "${sb[@]}" | sed 's/ $//' >&3
    echo >&3
    echo "JOB_${name//-/_}"  # a placeholder for the job id
  else
    local id
    id="$("${sb[@]}")" || die "sbatch for stage $name failed: $(printf '%q ' "${sb[@]}")"
    echo "${id%%;*}"
  fi
}
record() { submitted+=("$1	$2"); echo "$me: $1: job $2" >&2; }
# A chain cut short (an sbatch refused) is cancelled, not left half-queued.
all_submitted=0
cancel_partial() {
  [ "$dry" = 0 ] && [ "$all_submitted" = 0 ] && [ ${#submitted[@]} -gt 0 ] || return 0
  local ids
  ids="$(printf '%s\n' "${submitted[@]}" | cut -f2 | paste -sd' ')"
  echo "$me: cancelling the jobs submitted so far: $ids" >&2
  # shellcheck disable=SC2086
  scancel $ids || true
}
trap cancel_partial EXIT

[ "$dry" = 1 ] && echo "$me: dry run: the sbatch commands (nothing is submitted or written):" >&2
data_opt=()
[ -n "$data_dir" ] && data_opt=(--data-dir "$data_dir")
dep=""
if [ "$synthesize" = 1 ]; then
  id="$(submit synth synth "" -- -- synth --config "$dataset" --out "$out/data")"
  record synth "$id"; dep="$id"
fi
id="$(submit prepare prepare "$dep" -- -- prepare --config "$dataset" --out "$out/samples" "${data_opt[@]}")"
record prepare "$id"; prepare_id="$id"

train_ids=""
for m in "${models[@]}"; do
  p="params_$m" f="fresh_$m" t="params_text_$m"
  args=(train --model "$m" --samples "$out/samples" --out "$out/models")
  [ -n "${!p}" ] && args+=(--params "${!p}")
  case "$m" in xgboost | random_forest) ;; *) args+=(--resume) ;; esac  # as fluxrecon run
  stage_opts=()
  if [ "${!f}" = 1 ]; then
    echo "$me: $out/models/$m was trained with other parameters: it is trained afresh" >&2
    stage_opts=(--fresh-start "$out/models" "$m")
  fi
  if [ "$dry" = 1 ] && [ -n "${!t}" ]; then
    echo "$me: would write ${!p}:" >&2
    sed 's/^/    /' <<< "${!t}" >&2
  fi
  id="$(submit "train-$m" train "$prepare_id" -- "${stage_opts[@]}" -- "${args[@]}")"
  record "train $m" "$id"
  train_ids="${train_ids:+$train_ids:}$id"
done

# Reconstruct: one array task per group of --years-per-task years.
groups=()
for ((y = first_year; y <= last_year; y += years_per_task)); do
  groups+=("$y:$((y + years_per_task - 1 > last_year ? last_year : y + years_per_task - 1))")
done
array="0-$((${#groups[@]} - 1))${array_limit:+%$array_limit}"
recon_args=(reconstruct --config "$dataset" --models "$out/models" --model "${models[@]}"
  --experiment "${experiments[@]}" --region "${regions[@]}" --years @YEARS@ --out "$out/caches"
  "${data_opt[@]}")
[ "$start_april" = 1 ] && recon_args+=(--start-april)
model_list="$(IFS=,; echo "${models[*]}")"
groups_list="$(IFS=,; echo "${groups[*]}")"
id="$(submit reconstruct reconstruct "$train_ids" --array="$array" -- \
  --year-groups "$groups_list" --stale-caches "$out/models" "$out/caches" "$model_list" -- "${recon_args[@]}")"
record "reconstruct (${#groups[@]} task(s): ${groups[*]})" "$id"
analyze_deps="$id"

if [ "$explain" = 1 ]; then
  id="$(submit explain explain "$train_ids" -- --force-if-stale "$out/models" "$out/explain" "$model_list" -- \
    explain --models "$out/models" --samples "$out/samples" --out "$out/explain" --model "${models[@]}" \
    "${explain_args[@]}")"
  record explain "$id"
  analyze_deps="$analyze_deps:$id"
fi

# Analyze as fluxrecon run does: absolute paths, the same selections and
# the pipeline's inputs as provenance.
an_args=(analyze --caches "$out/caches" --out "$out/analysis" --models "$out/models")
[ "$pco2" = 1 ] || an_args+=(--samples "$out/samples")
[ "$explain" = 1 ] && an_args+=(--explain "$out/explain")
an_args+=(--model "${analyze_models[@]}" --region "${regions[@]}" --experiment "${experiments[@]}"
  --years "$first_year:$last_year" --months "${map_months[@]}"
  --provenance "pipeline=$pipeline_abs" "dataset=$dataset" "samples=$out/samples")
[ -n "$data_dir" ] && an_args+=("input files=$data_dir")
for m in "${models[@]}"; do
  p="params_$m"
  [ -n "${!p}" ] && an_args+=("$m parameters=${!p}")
done
id="$(submit analyze analyze "$analyze_deps" -- -- "${an_args[@]}")"
record analyze "$id"
analyze_id="$id"

all_submitted=1
if [ "$dry" = 1 ]; then
  exit 0
fi
printf '%s\n' "${submitted[@]}" > "$out/slurm/jobs.tsv"
echo "$me: ${#submitted[@]} job(s) submitted; ids in $out/slurm/jobs.tsv, logs in $logs; report (when done): $out/analysis/index.html" >&2
[ "$wait" = 1 ] || exit 0

# --wait: until no job of the chain is queued or running, then the states
# (scontrol knows a finished job for MinJobAge seconds, sacct afterwards).
ids="$(cut -f2 "$out/slurm/jobs.tsv" | paste -sd,)"
echo "$me: waiting for jobs $ids" >&2
while [ -n "$(squeue -h -j "$ids" -o %i 2>/dev/null)" ]; do sleep 5; done
state_of() {
  local s
  s="$(scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort | uniq -c |
    awk '{printf "%s%s", (NR > 1 ? "," : ""), ($1 > 1 ? $1 "x" : "") $2}')"
  [ -n "$s" ] || s="$(sacct -n -X -P -j "$1" -o State 2>/dev/null | sort -u | paste -sd, || true)"
  echo "${s:-unknown}"
}
if [ "$(state_of "$analyze_id")" = COMPLETED ] && [ -s "$out/analysis/index.html" ]; then
  echo "$me: done: $out/analysis/index.html"
  exit 0
fi
echo "$me: the pipeline did not complete; job states:" >&2
while IFS=$'\t' read -r stage id; do
  echo "  $stage (job $id): $(state_of "$id")" >&2
done < "$out/slurm/jobs.tsv"
die "see the logs in $logs"
