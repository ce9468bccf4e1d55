#!/usr/bin/python3
"""Reference tensors from PIL + torchvision.transforms for every image of a corpus and every config.

Usage: /usr/bin/python3 torch_reference.py OUT_DIR [--no-torch]   (OUT_DIR as given to make_corpus.py)
--no-torch: use the PIL + numpy equivalent even where torchvision is installed (to check that equivalence).

Writes OUT_DIR/ref/<config>.npy (float32 [N, 3, crop, crop], corpus order) and OUT_DIR/ref/reference.json
(configs, torch/torchvision/PIL versions, per image: md5 of the decoded full-size RGB bytes).
Images are loaded as torchvision's default loader does: Image.open(path).convert('RGB').
"""
import hashlib
import json
import os
import sys

import numpy as np
from PIL import Image

try:
    import torch
    import torchvision
    from torchvision import transforms as T
    HAVE_TORCH = True
except ImportError:  # PIL + numpy reproduce Resize/CenterCrop/ToTensor/Normalize exactly for PIL inputs.
    HAVE_TORCH = False

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
CLIP = ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])
HALF = ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
# name -> (fcprobe preset, resize, crop, interpolation, (mean, std), border crop, model)
CONFIGS = {
    'torchvision': ('torchvision', 256, 224, 'bilinear', IMAGENET, 0, 'mobilenet_v2_1.0_224_int8.onnx'),
    'clip': ('clip', 224, 224, 'bicubic', CLIP, 0, 'mobilenet_v2_1.0_224_int8.onnx'),
    'inception224': ('inception', 256, 224, 'bilinear', HALF, 0, 'mobilenet_v2_1.0_224_int8.onnx'),
    'inception128': ('inception', 146, 128, 'bilinear', HALF, 0, 'mobilenet_v1_0.25_128_int8.onnx'),
    'torchvision-border2': ('torchvision', 256, 224, 'bilinear', IMAGENET, 2, 'mobilenet_v2_1.0_224_int8.onnx'),
}
PIL_FILTER = {'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}


def load(path, border):
    img = Image.open(path).convert('RGB')
    if border:
        img = img.crop((border, border, img.width - border, img.height - border))
    return img


def transform_fallback(img, resize, crop, interp, mean, std):
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    ns, nl = resize, int(resize * long / short)
    size = (ns, nl) if w <= h else (nl, ns)
    img = img.resize(size, PIL_FILTER[interp])
    left, top = int(round((size[0] - crop) / 2.0)), int(round((size[1] - crop) / 2.0))
    img = img.crop((left, top, left + crop, top + crop))
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / np.float32(255)
    m = np.asarray(mean, dtype=np.float32)[:, None, None]
    s = np.asarray(std, dtype=np.float32)[:, None, None]
    return (x - m) / s


def main():
    global HAVE_TORCH
    if '--no-torch' in sys.argv:
        sys.argv.remove('--no-torch')
        HAVE_TORCH = False
    out = os.path.abspath(sys.argv[1])
    with open(os.path.join(out, 'corpus.json')) as f:
        corpus = json.load(f)
    ref = os.path.join(out, 'ref')
    os.makedirs(ref, exist_ok=True)
    md5 = [hashlib.md5(load(c['path'], 0).tobytes()).hexdigest() for c in corpus]
    for name, (preset, resize, crop, interp, (mean, std), border, model) in CONFIGS.items():
        arr = np.empty((len(corpus), 3, crop, crop), dtype=np.float32)
        if HAVE_TORCH:
            tf = T.Compose([
                T.Resize(resize, interpolation=getattr(T.InterpolationMode, interp.upper())),
                T.CenterCrop(crop), T.ToTensor(), T.Normalize(mean, std)])
        for i, c in enumerate(corpus):
            img = load(c['path'], border)
            arr[i] = tf(img).numpy() if HAVE_TORCH else transform_fallback(img, resize, crop, interp, mean, std)
        np.save(os.path.join(ref, f'{name}.npy'), arr)
        print(f'{name}: {arr.shape}')
    meta = {
        'backend': 'torchvision' if HAVE_TORCH else 'PIL+numpy',
        'versions': {'PIL': Image.__version__, 'numpy': np.__version__,
                     **({'torch': torch.__version__, 'torchvision': torchvision.__version__} if HAVE_TORCH else {})},
        'configs': {n: {'preset': p, 'resize': r, 'crop': c, 'interpolation': i, 'mean': ms[0], 'std': ms[1],
                        'borderCrop': b, 'model': m} for n, (p, r, c, i, ms, b, m) in CONFIGS.items()},
        'decodedMd5': md5,
    }
    with open(os.path.join(ref, 'reference.json'), 'w') as f:
        json.dump(meta, f, indent=1)


if __name__ == '__main__':
    main()
