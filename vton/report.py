"""What a person looks at after a run: a contact sheet PNG and an HTML report.

The contact sheet shows person | garment | result for the first pairs rendered, so a
glance tells whether tonight's images are right. The report lists the counts, every failed
or invalid pair with its reason, and the shards; it is a single self-contained HTML file
next to the manifest, linking the contact sheet and the published images.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vton.imageio import decode_image, encode_image
from vton.storage import Store

__all__ = ["contact_sheet", "html_report"]

THUMB_H = 256


def _thumb(rgb: np.ndarray, height: int = THUMB_H) -> Image.Image:
    img = Image.fromarray(rgb)
    w = max(1, round(img.width * height / img.height))
    return img.resize((w, height), Image.Resampling.LANCZOS)


def contact_sheet(store: Store, pairs: Sequence[dict], max_rows: int = 36) -> bytes | None:
    """PNG of person | garment | try-on rows for `pairs` (dicts with person_key, cloth_key,
    output key `output_key`, product_id, person_id). None when there is nothing to show."""
    font = ImageFont.load_default(size=14)
    rows: list[Image.Image] = []
    for p in pairs[:max_rows]:
        try:
            person = decode_image(store.read_bytes(f"{p['person_key']}/image.jpg"), "person").rgb
            cloth = decode_image(store.read_bytes(f"{p['cloth_key']}/cloth.png"), "cloth").rgb
            result = decode_image(store.read_bytes(p["output_key"]), "result").rgb
        except Exception:  # a missing image must not lose the report
            continue
        tiles = [_thumb(person), _thumb(cloth), _thumb(result)]
        width = sum(t.width for t in tiles) + 8 * (len(tiles) + 1)
        row = Image.new("RGB", (width, THUMB_H + 28), "white")
        x = 8
        for t in tiles:
            row.paste(t, (x, 4))
            x += t.width + 8
        ImageDraw.Draw(row).text(
            (8, THUMB_H + 7), f"{p['product_id']} on {p['person_id']}", fill="black", font=font
        )
        rows.append(row)
    if not rows:
        return None
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    return encode_image(np.asarray(sheet), "png")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def html_report(
    manifest: dict,
    problems: Sequence[dict],
    sheet_name: str | None,
    outputs: Sequence[dict],
    max_problems: int = 500,
) -> str:
    """A self-contained HTML page for one run (`manifest` as written by `vton.runs`)."""
    counts = manifest["counts"]
    title = f"vton run {manifest['run_id']}"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>run date {manifest['run_date']} &middot; renderer <b>"
        f"{html.escape(manifest['renderer'])}</b> ({html.escape(manifest['model_digest'])})"
        f" &middot; masker {html.escape(manifest['masker'])} &middot; "
        f"{manifest.get('elapsed_s', 0):.1f} s</p>",
        _table(
            ["planned", "ok", "skipped", "failed", "invalid"],
            [
                [
                    manifest["planned"],
                    counts["ok"],
                    counts["skipped"],
                    counts["failed"],
                    counts["invalid"],
                ]
            ],
        ),
    ]
    if sheet_name:
        parts.append(
            f"<h2>Contact sheet</h2><p>person | garment | try-on</p>"
            f"<img src='{html.escape(sheet_name)}' alt='contact sheet'>"
        )
    if problems:
        parts.append(f"<h2>Failed and invalid pairs ({len(problems)})</h2>")
        parts.append(
            _table(
                ["status", "product", "person", "shard", "reason"],
                [
                    [p["status"], p["product_id"], p["person_id"], p["shard"], p["error"]]
                    for p in problems[:max_problems]
                ],
            )
        )
    if outputs:
        parts.append(f"<h2>Published images ({len(outputs)})</h2>")
        parts.append(
            _table(
                ["product", "person", "status", "image"],
                [
                    [o["product_id"], o["person_id"], o["status"], o["output_uri"]]
                    for o in outputs[:max_problems]
                ],
            )
        )
    parts.append("<h2>Shards</h2>")
    parts.append(
        _table(
            ["shard", "ok", "skipped", "failed", "invalid", "seconds"],
            [
                [
                    s["shard"],
                    s["counts"]["ok"],
                    s["counts"]["skipped"],
                    s["counts"]["failed"],
                    s["counts"]["invalid"],
                    f"{s.get('elapsed_s', 0):.2f}",
                ]
                for s in manifest["shards"]
            ],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts)
