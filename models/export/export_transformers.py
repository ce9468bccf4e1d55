"""Hugging Face transformers vision model -> ONNX with a `features` output.

  --output image_embeds   CLIP (CLIPVisionModelWithProjection): the projected embedding = CLIP's
                          encode_image, what the paper uses. pooler_output is the pre-projection token.
  --output pooler_output  e.g. DINOv2 (the layer-normed class token)
  --output cls            last_hidden_state[:, 0]

  python models/export/export_transformers.py --model openai/clip-vit-base-patch16 --output image_embeds \
      --out clip-vit-b16.onnx --images imgs --reference clip-vit-b16-ref.npy
  python models/export/export_transformers.py --model facebook/dinov2-small --output pooler_output --out d.onnx
"""
import argparse

import torch
from transformers import AutoImageProcessor, AutoModel, CLIPVisionModelWithProjection

from common import add_common_args, finish, make_preset

PIL_RESAMPLE = {2: "bilinear", 3: "bicubic"}


class Features(torch.nn.Module):
    def __init__(self, model, output):
        super().__init__()
        self.model = model
        self.output = output

    def forward(self, x):
        out = self.model(pixel_values=x)
        if self.output == "cls":
            return out.last_hidden_state[:, 0]
        return getattr(out, self.output)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="Hugging Face model id")
    p.add_argument("--output", required=True, choices=["image_embeds", "pooler_output", "cls"])
    add_common_args(p)
    args = p.parse_args()
    proc = AutoImageProcessor.from_pretrained(args.model)
    if args.output == "image_embeds":
        model = CLIPVisionModelWithProjection.from_pretrained(args.model)
    else:
        model = AutoModel.from_pretrained(args.model)
    size = proc.size.get("shortest_edge") or proc.size.get("height")
    crop = proc.crop_size["height"] if getattr(proc, "do_center_crop", False) else size
    interp = PIL_RESAMPLE.get(int(proc.resample))
    if interp is None:
        raise SystemExit(f"resample {proc.resample} is neither bilinear (2) nor bicubic (3)")
    clip_stats = [round(m, 6) for m in proc.image_mean] == [0.481455, 0.457828, 0.408211]
    preset = make_preset("clip" if clip_stats else "torchvision", resize=size, crop=crop, interpolation=interp,
                         mean=list(proc.image_mean), std=list(proc.image_std))
    finish(Features(model, args.output), args, preset, input_name="pixel_values")


if __name__ == "__main__":
    main()
