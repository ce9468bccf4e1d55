"""timm model -> ONNX encoder (num_classes=0: pooled features) with a `features` output; the preset comes
from timm's own data config, so the export and fcprobe preprocess as timm evaluates.

  python models/export/export_timm.py --model vit_base_patch16_224.augreg_in21k_ft_in1k --out vit.onnx \
      --images imgs --reference vit-ref.npy
"""
import argparse
import math

import timm
import torch

from common import add_common_args, finish, make_preset


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="timm model name (with its pretrained tag)")
    add_common_args(p)
    args = p.parse_args()
    model = timm.create_model(args.model, pretrained=True, num_classes=0)
    cfg = timm.data.resolve_data_config({}, model=model)
    crop = cfg["input_size"][-1]
    interp = cfg["interpolation"]
    if interp not in ("bilinear", "bicubic"):
        raise SystemExit(f"timm asks for {interp} interpolation; fcprobe has bilinear and bicubic")
    if cfg.get("crop_mode", "center") != "center":
        raise SystemExit(f"timm asks for crop mode {cfg['crop_mode']}; fcprobe center-crops")
    # timm: Resize(floor(size / crop_pct)) then CenterCrop(size).
    preset = make_preset("torchvision", resize=math.floor(crop / cfg["crop_pct"]), crop=crop, interpolation=interp,
                         mean=list(cfg["mean"]), std=list(cfg["std"]))
    torch.manual_seed(0)
    finish(model, args, preset)


if __name__ == "__main__":
    main()
