#!/usr/bin/env python3
"""Reference for fluxrecon's triplet embedding encoder (models/conv_encoder.*).

A pure-torch (no torchvision, no numpy) definition of convml_tt's
TripletTrainerModel encoder: backbone = nn.Sequential(conv1, bn1, relu,
maxpool, layer1, ...) of torchvision-style BasicBlocks, head = orig_fastai or
linear, so its state_dict keys are convml_tt's.

  torch_encoder.py fixture OUT.json   small configurations with random weights
                                      and BatchNorm statistics, input images
                                      (bytes) and the expected embeddings
                                      (tests/data/encoder_fixture.json)
  torch_encoder.py bench [N] [BATCH] [REPEATS]
                                      tiles per second of the seed's resnet18 +
                                      orig_fastai encoder's forward (eval, 1 thread),
                                      as tools/bench_encoder
  torch_encoder.py embed IN.json OUT.json
                                      loads IN's hyperparameters and weights
                                      (strict: every key and shape must match)
                                      and writes the embeddings of IN's images
"""
import json
import sys

import torch
from torch import nn

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class AdaptiveConcatPool2d(nn.Module):
    def __init__(self):
        super().__init__()
        self.ap = nn.AdaptiveAvgPool2d(1)
        self.mp = nn.AdaptiveMaxPool2d(1)

    def forward(self, x):
        return torch.cat([self.mp(x), self.ap(x)], 1)


class Encoder(nn.Module):
    def __init__(self, h):
        super().__init__()
        w = h["base_width"]
        layers = [
            nn.Conv2d(h["input_channels"], w, 7, 2, 3, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        ]
        inplanes = w
        for s, n in enumerate(h["blocks"]):
            planes = w << s
            stage = []
            for b in range(n):
                stage.append(BasicBlock(inplanes, planes, 2 if (s > 0 and b == 0) else 1))
                inplanes = planes
            layers.append(nn.Sequential(*stage))
        self.backbone = nn.Sequential(*layers)
        f = inplanes
        if h["head"] == "orig_fastai":
            self.head = nn.Sequential(
                AdaptiveConcatPool2d(),
                nn.Flatten(),
                nn.BatchNorm1d(2 * f),
                nn.Dropout(0.25),
                nn.Linear(2 * f, h["head_hidden"]),
                nn.ReLU(inplace=True),
                nn.BatchNorm1d(h["head_hidden"]),
                nn.Dropout(0.5),
                nn.Linear(h["head_hidden"], h["embedding_dims"]),
            )
        else:
            self.head = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(f, h["embedding_dims"])
            )

    def forward(self, x):
        return self.head(self.backbone(x))


def to_input(images):
    """images: {"count", "height", "width", "bytes"} (count, height, width, 3) row-major RGB."""
    n, hgt, wid = images["count"], images["height"], images["width"]
    x = torch.tensor(images["bytes"], dtype=torch.float32).reshape(n, hgt, wid, 3)
    x = x.permute(0, 3, 1, 2) / 255.0
    mean = torch.tensor(MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(STD).reshape(1, 3, 1, 1)
    return (x - mean) / std


def embed(model, images):
    model.eval()
    with torch.no_grad():
        return model(to_input(images)).reshape(-1).tolist()


def weights_json(model):
    return {
        k: {"shape": list(v.shape), "values": v.detach().reshape(-1).double().tolist()}
        for k, v in model.state_dict().items()
    }


def randomise(model, gen):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(7)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.2)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


def fixture(out_path):
    gen = torch.Generator().manual_seed(17)
    torch.manual_seed(17)
    configs = [
        (dict(input_channels=3, base_width=4, blocks=[1, 2], head="orig_fastai",
              head_hidden=16, embedding_dims=8), 36, 40),
        (dict(input_channels=3, base_width=2, blocks=[1, 1, 1], head="linear",
              head_hidden=512, embedding_dims=5), 32, 32),
    ]
    cases = []
    for h, hgt, wid in configs:
        model = Encoder(h)
        randomise(model, gen)
        n = 2
        images = {"count": n, "height": hgt, "width": wid,
                  "bytes": torch.randint(0, 256, (n * hgt * wid * 3,), generator=gen).tolist()}
        cases.append({"hyperparameters": h, "weights": weights_json(model), "images": images,
                      "embeddings": embed(model, images)})
    with open(out_path, "w") as f:
        json.dump({"generator": "tests/support/torch_encoder.py fixture", "cases": cases}, f)


def embed_file(in_path, out_path):
    with open(in_path) as f:
        case = json.load(f)
    model = Encoder(case["hyperparameters"])
    state = {}
    for k, t in case["weights"].items():
        v = torch.tensor(t["values"], dtype=torch.float64).reshape(t["shape"])
        state[k] = v.long() if k.endswith("num_batches_tracked") else v.float()
    model.load_state_dict(state, strict=True)
    with open(out_path, "w") as f:
        json.dump({"embeddings": embed(model, case["images"])}, f)


def bench(n_pixels, batch, repeats):
    import time

    h = dict(input_channels=3, base_width=64, blocks=[2, 2, 2, 2], head="orig_fastai",
             head_hidden=512, embedding_dims=100)
    model = Encoder(h).eval()
    x = torch.randn(batch, 3, n_pixels, n_pixels)
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        for _ in range(repeats):
            model(x)
        seconds = time.perf_counter() - t0
    print(f"torch {torch.__version__} resnet18 + orig_fastai, {n_pixels} x {n_pixels} tiles, "
          f"batch {batch}, 1 thread: {batch * repeats / seconds:.2f} tiles/s")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1] == "bench":
        args = [int(a) for a in sys.argv[2:]] + [256, 32, 3][len(sys.argv) - 2:]
        bench(*args[:3])
    elif sys.argv[1] == "fixture":
        fixture(sys.argv[2])
    elif sys.argv[1] == "embed":
        embed_file(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
