"""Shared by the export scripts: ONNX export with a `features` output and a dynamic batch, fcprobe's
preprocessing metadata (metadata_props key `fcprobe.preprocess`), and a PyTorch reference .npy that
`fcprobe check-export` compares against.

The reference rows follow the images under --images in sorted relative-path order (byte order), the order
fcprobe check-export uses. Preprocessing is PIL + torchvision transforms, which fcprobe reproduces exactly
(docs/preprocessing.md), so any difference check-export reports comes from the export itself.
"""
import json
import os

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
PRESETS = {
    "torchvision": dict(resize=256, crop=224, interpolation="bilinear", mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    "clip": dict(resize=224, crop=224, interpolation="bicubic",
                 mean=[0.48145466, 0.4578275, 0.40821073], std=[0.26862954, 0.26130258, 0.27577711]),
    "inception": dict(resize=256, crop=224, interpolation="bilinear", mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
}


def make_preset(name, **overrides):
    """fcprobe's preset fields: {preset, resize, crop, interpolation, mean, std} (None overrides are ignored)."""
    p = dict(PRESETS[name], preset=name)
    p.update({k: v for k, v in overrides.items() if v is not None})
    if p["resize"] < p["crop"]:
        raise SystemExit(f"resize {p['resize']} is smaller than crop {p['crop']}")
    return p


def transform(preset):
    interp = {"bilinear": transforms.InterpolationMode.BILINEAR, "bicubic": transforms.InterpolationMode.BICUBIC}
    return transforms.Compose([
        transforms.Resize(preset["resize"], interpolation=interp[preset["interpolation"]]),
        transforms.CenterCrop(preset["crop"]),
        transforms.ToTensor(),
        transforms.Normalize(preset["mean"], preset["std"]),
    ])


def image_files(folder):
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS:
                out.append(os.path.relpath(os.path.join(dirpath, f), folder).replace(os.sep, "/"))
    return sorted(out, key=lambda s: s.encode("utf-8"))


def export(module, out, preset, input_name="input", opset=17):
    """Writes `out` with input `input_name` [batch, 3, crop, crop] and output `features` [batch, D]."""
    module.eval()
    dummy = torch.zeros(2, 3, preset["crop"], preset["crop"])
    with torch.no_grad():
        torch.onnx.export(
            module, dummy, out, input_names=[input_name], output_names=["features"],
            dynamic_axes={input_name: {0: "batch"}, "features": {0: "batch"}}, opset_version=opset,
            do_constant_folding=True,
        )
    import onnx  # imported late: only needed once the graph exists

    model = onnx.load(out)
    entry = model.metadata_props.add()
    entry.key = "fcprobe.preprocess"
    entry.value = json.dumps({k: preset[k] for k in ("preset", "resize", "crop", "interpolation", "mean", "std")})
    onnx.save(model, out)
    print(f"wrote {out}: input {input_name} [batch, 3, {preset['crop']}, {preset['crop']}], output features")


def write_reference(module, images, out, preset, batch=16):
    """Features of every image under `images` (sorted relative paths) computed in PyTorch, float32 [N, D]."""
    files = image_files(images)
    if not files:
        raise SystemExit(f"no images under {images}")
    tf = transform(preset)
    rows = []
    module.eval()
    with torch.no_grad():
        for i in range(0, len(files), batch):
            x = torch.stack([tf(Image.open(os.path.join(images, f)).convert("RGB")) for f in files[i:i + batch]])
            rows.append(module(x).reshape(len(x), -1).float().numpy())
    feats = np.concatenate(rows).astype(np.float32)
    np.save(out, feats)
    print(f"wrote {out}: {feats.shape[0]} images x {feats.shape[1]} features (order: sorted paths under {images})")


def add_common_args(parser):
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.add_argument("--images", help="folder of a few images for the reference features")
    parser.add_argument("--reference", help=".npy to write the PyTorch features of --images to")
    parser.add_argument("--opset", type=int, default=17)


def finish(module, args, preset, input_name="input"):
    export(module, args.out, preset, input_name, args.opset)
    if args.images and args.reference:
        write_reference(module, args.images, args.reference, preset)
        print(f"check it: fcprobe check-export --model {args.out} --data {args.images} --reference {args.reference} "
              f"--preset {preset['preset']} --resize {preset['resize']} --crop {preset['crop']} "
              f"--interpolation {preset['interpolation']} --mean {','.join(map(str, preset['mean']))} "
              f"--std {','.join(map(str, preset['std']))}")
