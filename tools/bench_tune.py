#!/usr/bin/python3
"""Optuna's TPESampler on the functions of tools/bench_tune.cpp, and the table.

  bench_tune.py optuna [--trials 50,100] [--seeds 20]   CSV lines on stdout
  bench_tune.py table FILE...                          markdown table of CSV files

CSV lines: sampler,function,seed,trials,best. For the noisy function, "best"
is the noise-free value of the trial with the best observed (noisy) value.
"""
import math
import statistics
import sys

BASE = {"linear": 0.5, "quadratic": 0.0, "sine": 1.0}
MINIMA = {"branin": 0.397887, "hartmann6": -3.32237, "noisy": 0.0}


def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
     [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
     [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6)))
                for i in range(4))


def run_optuna(checkpoints, seeds):
    import numpy as np
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = max(checkpoints)
    for function in ("branin", "hartmann6", "noisy"):
        for seed in range(seeds):
            noise = np.random.RandomState(1000003 * seed + 17)
            state = {"seen": math.inf, "true": math.inf}

            def objective(trial):
                if function == "branin":
                    truth = branin(trial.suggest_float("x1", -5, 10),
                                   trial.suggest_float("x2", 0, 15))
                elif function == "hartmann6":
                    truth = hartmann6([trial.suggest_float(f"x{j}", 0, 1) for j in range(6)])
                else:
                    # Same order of suggestions as the C++ search space.
                    model = trial.suggest_categorical("model", ["linear", "quadratic", "sine"])
                    x = trial.suggest_float("x", -5, 5)
                    layers = trial.suggest_int("layers", 1, 4)
                    truth = BASE[model] + 0.5 * (x - 1.3) ** 2
                    if layers > 1:
                        d = trial.suggest_categorical("dropout", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
                        extra = 5 * (d - 0.2) ** 2 + 0.1 * (layers - 3) ** 2
                    else:
                        extra = 0.4
                    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
                    truth += 0.3 * (math.log10(lr) + 3) ** 2 + extra
                observed = truth + noise.normal(0, 0.1) if function == "noisy" else truth
                if observed < state["seen"]:
                    state["seen"], state["true"] = observed, truth
                return observed

            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
            for n in range(1, budget + 1):
                study.optimize(objective, n_trials=1)
                if n in checkpoints:
                    print(f"optuna-3.1-tpe,{function},{seed},{n},{state['true']:.9g}", flush=True)


def table(paths):
    rows = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                sampler, function, seed, n, best = line.strip().split(",")
                rows.setdefault((function, int(n)), {}).setdefault(sampler, []).append(float(best))
    samplers = sorted({s for v in rows.values() for s in v},
                      key=lambda s: (not s.startswith("optuna"), s))
    head = "| function (minimum) | trials | seeds | " + " | ".join(
        f"{s} mean ± s.e. / median" for s in samplers) + " |"
    print(head)
    print("|" + "---|" * (3 + len(samplers)))
    for function, n in sorted(rows, key=lambda k: (list(MINIMA).index(k[0]), k[1])):
        cells = []
        for s in samplers:
            v = rows[(function, n)].get(s, [])
            sem = statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else math.nan
            cells.append(f"{statistics.mean(v):.4f} ± {sem:.4f} / {statistics.median(v):.4f}"
                         if v else "")
        seeds = len(rows[(function, n)][samplers[0]])
        print(f"| {function} ({MINIMA[function]}) | {n} | {seeds} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "optuna":
        args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
        run_optuna([int(x) for x in args.get("--trials", "50,100").split(",")],
                   int(args.get("--seeds", "20")))
    elif len(sys.argv) >= 3 and sys.argv[1] == "table":
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)
