"""Contact sheet of the classical masker on real flat-lay marketplace photos.

Usage::

    python benchmarks/make_mask_sheet.py [--data /work/shared/data/clothing-small]
        [--split validation] [--n 24] [--out docs/cloth_masks_flatlay.png] [--masker classical]

Real catalog photos are not studio cut-outs: garments lie on beds, floors, rugs and tables,
or hang on hangers against doors and walls. There is no ground truth for them here, so the
sheet is for people: each tile shows a photo with the backdrop dimmed and tinted, the mask
outline in green, and the masker's confidence (red and marked ``LOW`` below
`LOW_CONFIDENCE`, where the index gets a ``low-confidence-mask`` note). A good masker has
most tiles right and its wrong tiles marked LOW.

The photos are picked deterministically (sorted file names, spread over the classes), so a
re-run after a masker change shows the same photos. The sheet is saved as a palette PNG to
stay small enough to commit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vton.cloth.masking import LOW_CONFIDENCE, make_masker
from vton.errors import InvalidInputError
from vton.imageio import decode_image

TILE_H, TILE_W = 240, 180


def pick_photos(root: Path, n: int) -> list[Path]:
    """`n` photos spread over the class folders: round-robin over the classes, taking every
    k-th file of each (sorted) so that a class's photos are not all from one shoot."""
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    files = {c: sorted(c.glob("*.jpg")) for c in classes}
    per = {c: [] for c in classes}
    i = 0
    while sum(len(v) for v in per.values()) < n:
        c = classes[i % len(classes)]
        k = len(per[c])
        step = max(1, len(files[c]) // 4)
        if k * step < len(files[c]):
            per[c].append(files[c][(k * step + 3) % len(files[c])])
        i += 1
        if i > 100 * n:
            break
    return [p for c in classes for p in per[c]]


def tile(rgb: np.ndarray, mask: np.ndarray | None, label: str, conf: float | None) -> np.ndarray:
    """(TILE_H, TILE_W, 3) uint8: the photo letterboxed, backdrop dimmed, outline, caption."""
    h, w = rgb.shape[:2]
    s = min(TILE_H / h, (TILE_W) / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.full((TILE_H, TILE_W, 3), 40, np.uint8)
    if mask is not None:
        m = cv2.resize(mask, (nw, nh), interpolation=cv2.INTER_NEAREST) > 0
        grey = small.astype(np.float32).mean(axis=2, keepdims=True)
        dim = (grey * 0.3 + np.float32([0, 0, 70])).astype(np.uint8)  # backdrop: dark blue
        small = np.where(m[..., None], small, dim)
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(small, contours, -1, (0, 255, 0), 2)
    y0, x0 = (TILE_H - nh) // 2, (TILE_W - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    img = Image.fromarray(out)
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=13)
    if conf is None:
        text, colour = "refused", (255, 80, 80)
    elif conf < LOW_CONFIDENCE:
        text, colour = f"LOW {conf:.2f}", (255, 70, 70)
    else:
        text, colour = f"conf {conf:.2f}", (120, 255, 120)
    d.rectangle((0, TILE_H - 17, TILE_W, TILE_H), fill=(0, 0, 0))
    d.text((3, TILE_H - 16), f"{label}  {text}", fill=colour, font=font)
    return np.asarray(img)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/shared/data/clothing-small")
    ap.add_argument("--split", default="validation")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--cols", type=int, default=6)
    ap.add_argument("--masker", default="classical", help="make_masker spec")
    ap.add_argument("--out", default="docs/cloth_masks_flatlay.png")
    args = ap.parse_args()

    masker = make_masker(args.masker)
    photos = pick_photos(Path(args.data) / args.split, args.n)
    tiles, confs, t_cpu = [], [], 0.0
    for p in photos:
        rgb = decode_image(p.read_bytes(), p.name).rgb
        c0 = time.process_time()
        try:
            r = masker.segment(rgb, None, p.name)
            mask, conf = r.mask, r.confidence
        except InvalidInputError:
            mask, conf = None, None
        t_cpu += time.process_time() - c0
        confs.append(conf)
        tiles.append(tile(rgb, mask, p.parent.name, conf))
        print(f"{p.parent.name:>10} {p.name}  conf {conf if conf is None else round(conf, 2)}")
    while len(tiles) % args.cols:
        tiles.append(np.full((TILE_H, TILE_W, 3), 40, np.uint8))
    rows = [np.concatenate(tiles[i : i + args.cols], 1) for i in range(0, len(tiles), args.cols)]
    sheet = np.concatenate(rows, 0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
        out, optimize=True
    )
    low = sum(c is None or c < LOW_CONFIDENCE for c in confs)
    print(
        f"{out}: {len(photos)} photos, {low} low-confidence or refused, "
        f"{len(photos) / max(t_cpu, 1e-9):.1f} photos/s per core, {out.stat().st_size // 1024} KB"
    )


if __name__ == "__main__":
    main()
