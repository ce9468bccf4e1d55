"""open_clip image tower -> ONNX with a `features` output = encode_image (the projected embedding the paper
distils and probes: 1024-d for RN50, 512-d for ViT-B/16), un-normalised.

  python models/export/export_open_clip.py --model RN50 --pretrained openai --out clip-rn50.onnx \
      --images imgs --reference clip-rn50-ref.npy
"""
import argparse

import open_clip
import torch

from common import add_common_args, finish, make_preset


class ImageTower(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, x):
        return self.clip.encode_image(x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="open_clip model name, e.g. RN50, ViT-B-16")
    p.add_argument("--pretrained", default="openai")
    add_common_args(p)
    args = p.parse_args()
    clip, _, _ = open_clip.create_model_and_transforms(args.model, pretrained=args.pretrained)
    size = clip.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    # OpenAI CLIP: Resize(size, bicubic) -> CenterCrop(size), CLIP statistics (the clip preset).
    preset = make_preset("clip", resize=size, crop=size)
    finish(ImageTower(clip), args, preset)


if __name__ == "__main__":
    main()
