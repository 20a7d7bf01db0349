#!/usr/bin/python3
"""Debian's python3-xgboost on the same sample store and parameters as
`fluxrecon train --model xgboost`, for tools/bench-xgboost.sh.

  /usr/bin/python3 tools/bench_xgboost_py.py SAMPLES_DIR ROUNDS THREADS

Reads train.h5 / validation.h5 (h5py), flattens windows to the seed's
44-vector, trains with the parameters of inputs/models/xgboost_gbtree.yaml
and prints one JSON line with the boosting and prediction times (predict on
a new DMatrix, and inplace_predict on the array as fluxrecon does).
"""
import json
import sys
import time

import h5py
import numpy as np
import xgboost as xgb


def flat(path):
    with h5py.File(path, "r") as f:
        x = f["features"][:]
        y = f["target"][:]
    w = x.shape[1]
    return np.concatenate([x[:, :, :10].reshape(len(x), w * 10), x[:, 0, 10:14]], axis=1), y


def main():
    samples, rounds, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    xt, yt = flat(f"{samples}/train.h5")
    xv, yv = flat(f"{samples}/validation.h5")
    params = {"booster": "gbtree", "eta": 0.04292980473318146, "max_depth": 14,
              "subsample": 0.5459662212041141, "colsample_bytree": 0.5336910753872645,
              "gamma": 0.016137253371362736, "lambda": 0.00023498796241233066,
              "alpha": 0.010524060361037127, "min_child_weight": 4, "tree_method": "hist",
              "seed": 42, "nthread": threads, "objective": "reg:squarederror",
              "base_score": 0.0, "eval_metric": "rmse"}
    dtrain, dvalid = xgb.DMatrix(xt, label=yt), xgb.DMatrix(xv, label=yv)
    t0 = time.perf_counter()
    booster = xgb.train(params, dtrain, rounds, evals=[(dtrain, "train"), (dvalid, "validation")],
                        verbose_eval=False)
    t1 = time.perf_counter()
    pred = booster.predict(xgb.DMatrix(xv, nthread=threads))
    t2 = time.perf_counter()
    # Inplace prediction from the array, as fluxrecon predicts (no DMatrix copy).
    inplace = booster.inplace_predict(xv)
    t3 = time.perf_counter()
    assert np.allclose(inplace, pred, atol=1e-6)
    print(json.dumps({"train_samples": len(yt), "validation_samples": len(yv), "rounds": rounds,
                      "boosting_s": round(t1 - t0, 3), "predict_s": round(t2 - t1, 4),
                      "inplace_predict_s": round(t3 - t2, 4),
                      "validation_mse": float(np.mean((pred - yv) ** 2))}))


if __name__ == "__main__":
    main()
