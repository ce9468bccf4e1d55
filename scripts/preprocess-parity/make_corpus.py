#!/usr/bin/python3
"""Builds the image corpus for the preprocessing parity check.

Usage: /usr/bin/python3 make_corpus.py OUT_DIR [PACS_DIR]

Writes OUT_DIR/images/... and OUT_DIR/corpus.json (a list of {"path", "kind"}). Real photos are referenced in
place (PACS_DIR, default /work/shared/realdata/pacs-mini); derived and synthetic images are written here.
Deterministic: the same inputs give the same files.
"""
import io
import json
import os
import struct
import sys

import numpy as np
from PIL import Image, ImageCms

out = os.path.abspath(sys.argv[1])
pacs = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else '/work/shared/realdata/pacs-mini')
img_dir = os.path.join(out, 'images')
os.makedirs(img_dir, exist_ok=True)
rng = np.random.default_rng(20240607)
corpus = []


def add(path, kind):
    corpus.append({'path': path, 'kind': kind})


def save(im, name, kind, **kw):
    path = os.path.join(img_dir, name)
    im.save(path, **kw)
    add(path, kind)
    return path


# 1. Real images, as they are: 227x227 JPEG photos/paintings/cartoons and PNG sketches.
for domain in ['photo', 'art_painting', 'cartoon', 'sketch']:
    for cls in sorted(os.listdir(os.path.join(pacs, domain))):
        for f in sorted(os.listdir(os.path.join(pacs, domain, cls))):
            add(os.path.join(pacs, domain, cls, f), f'pacs-{domain}')

# 2. Larger photo-derived images (two per class): downscale factors of ~1.5 and ~3.5 for Resize(256).
photos = [c for c in corpus if c['kind'] == 'pacs-photo']
picked = [p for i, p in enumerate(photos) if i % 10 < 2]
for i, p in enumerate(picked):
    src = Image.open(p['path']).convert('RGB')
    save(src.resize((500, 375), Image.BICUBIC), f'photo500_{i:02d}.jpg', 'photo-500x375-jpg', quality=92)
    save(src.resize((1200, 900), Image.BICUBIC), f'photo1200_{i:02d}.jpg', 'photo-1200x900-jpg', quality=92)
    # Portrait orientation and an odd size: exercises the other branch of resizedSize and odd crop offsets.
    save(src.resize((333, 501), Image.BILINEAR), f'photo333x501_{i:02d}.jpg', 'photo-333x501-jpg', quality=90)


# 3. Synthetic high-frequency images at 1024x768 (factor 3 for 256, 5.3 for 146): where box pre-shrinking,
#    shrink-on-load or a kernel that is not widened with the factor shows up.
def synthetic(seed_shift):
    h, w = 768, 1024
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([x / w * 255, y / h * 255, (x + y) / (w + h) * 255], axis=-1)
    stripes = 60 * np.sin(x * (0.9 + 0.1 * seed_shift)) * np.cos(y * 0.37)
    checker = 50 * (((x // (3 + seed_shift)) + (y // 5)) % 2 * 2 - 1)
    noise = rng.normal(0, 35, (h, w, 3))
    img = base + stripes[..., None] + checker[..., None] + noise
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), 'RGB')


for i in range(4):
    im = synthetic(i)
    save(im, f'synth1024_{i}.png', 'synthetic-1024x768-png')
    save(im, f'synth1024_{i}.jpg', 'synthetic-1024x768-jpg', quality=95)
# Factor 7.8 for Resize(256) and 13.7 for Resize(146): where libvips would shrink JPEGs by 8 on load.
big = np.asarray(synthetic(1).resize((3000, 2000), Image.NEAREST)).astype(np.float64)
big += rng.normal(0, 20, big.shape)
save(Image.fromarray(np.clip(big, 0, 255).astype(np.uint8), 'RGB'), 'synth3000x2000.jpg', 'synthetic-3000x2000-jpg', quality=90)

# JPEG variants: progressive, 4:4:4 (no chroma subsampling), 4:2:2 (other upsampling code paths).
for i, p in enumerate(picked[:6]):
    src = Image.open(p['path']).convert('RGB').resize((480, 360), Image.BICUBIC)
    save(src, f'progressive_{i}.jpg', 'photo-progressive-jpg', quality=90, progressive=True)
    save(src, f'sub444_{i}.jpg', 'photo-444-jpg', quality=90, subsampling=0)
    save(src, f'sub422_{i}.jpg', 'photo-422-jpg', quality=90, subsampling=1)

# 4. Mode conversions (PIL's convert('RGB') is the reference): grey JPEG, palette PNG (with a transparent
#    index), RGBA PNG, grey+alpha PNG, CMYK JPEG, an RGB JPEG with an embedded non-sRGB ICC profile.
for i, p in enumerate(picked[:6]):
    src = Image.open(p['path']).convert('RGB').resize((400, 300), Image.BICUBIC)
    save(src.convert('L'), f'grey_{i}.jpg', 'grey-jpg', quality=92)
    pal = src.convert('P', palette=Image.ADAPTIVE, colors=64)
    save(pal, f'palette_{i}.png', 'palette-png', transparency=0)
    rgba = src.copy()
    alpha = Image.fromarray((np.arange(400)[None, :].repeat(300, 0) * 255 // 399).astype(np.uint8), 'L')
    rgba.putalpha(alpha)
    save(rgba, f'rgba_{i}.png', 'rgba-png')
    la = src.convert('L')
    la.putalpha(alpha)
    save(la, f'grey_alpha_{i}.png', 'grey-alpha-png')
    # PIL's own RGB->CMYK leaves K at 0; give K real values so the black-channel arithmetic is exercised.
    a = np.asarray(src).astype(np.float64) / 255
    k = 1 - a.max(axis=2)
    cmy = (1 - a - k[..., None]) / np.maximum(1 - k[..., None], 1e-6)
    cmyk = np.concatenate([cmy, k[..., None]], axis=2)
    save(Image.fromarray(np.round(cmyk * 255).astype(np.uint8), 'CMYK'), f'cmyk_{i}.jpg', 'cmyk-jpg', quality=92)
    # sRGB profile with the red and blue primaries swapped: a valid profile that a colour-managed decoder
    # would honour (changing the pixels) and PIL ignores.
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes())
    count = struct.unpack('>I', icc[128:132])[0]
    tags = {bytes(icc[132 + 12 * t:136 + 12 * t]): 132 + 12 * t for t in range(count)}
    r, b = tags[b'rXYZ'], tags[b'bXYZ']
    icc[r + 4:r + 12], icc[b + 4:b + 12] = icc[b + 4:b + 12], icc[r + 4:r + 12]
    save(src, f'icc_swapped_{i}.jpg', 'rgb-jpg-icc', quality=92, icc_profile=bytes(icc))

with open(os.path.join(out, 'corpus.json'), 'w') as f:
    json.dump(corpus, f, indent=0)
print(f'{len(corpus)} images listed in {os.path.join(out, "corpus.json")}')
