"""torchvision classifier -> ONNX encoder (head removed) with a `features` output.

  python models/export/export_torchvision.py --arch resnet50 --weights IMAGENET1K_V1 --out resnet50-tv.onnx \
      --images imgs --reference resnet50-tv-ref.npy
  --weights none builds a randomly initialised network (no download; for testing the script path).
"""
import argparse

import torch
import torchvision.models as tvm

from common import add_common_args, finish, make_preset


def headless(arch, weights):
    w = None if weights.lower() == "none" else weights
    model = getattr(tvm, arch)(weights=w)
    if hasattr(model, "fc"):  # ResNets: global-average-pooled penultimate layer
        model.fc = torch.nn.Identity()
    elif hasattr(model, "heads"):  # ViTs: class token after the final layer norm
        model.heads = torch.nn.Identity()
    elif hasattr(model, "classifier"):
        model.classifier = torch.nn.Identity()
    else:
        raise SystemExit(f"do not know where the head of {arch} is")
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, help="torchvision.models function, e.g. resnet50, vit_b_16")
    p.add_argument("--weights", default="IMAGENET1K_V1", help="weights enum name, or none")
    p.add_argument("--resize", type=int)
    p.add_argument("--crop", type=int)
    p.add_argument("--interpolation", choices=["bilinear", "bicubic"])
    add_common_args(p)
    args = p.parse_args()
    torch.manual_seed(0)
    preset = make_preset("torchvision", resize=args.resize, crop=args.crop, interpolation=args.interpolation)
    finish(headless(args.arch, args.weights), args, preset)


if __name__ == "__main__":
    main()
