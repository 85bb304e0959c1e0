#!/usr/bin/env python3
"""Top-5 classes of images with an AlexNet exported to ONNX by AlexNet GUI.

Needs only onnxruntime, numpy and pillow:

    pip install onnxruntime numpy pillow
    python predict.py model.onnx photo.jpg [more.jpg ...] [--json]

The class names and the preprocessing come from the model's metadata. The
preprocessing is torchvision's for AlexNet, done with Pillow and NumPy: the
shorter side resized to 256 (Pillow's bilinear filter, which is antialiased;
the longer side rounded down), a centre crop of 224 (offsets rounded), scaled
to [0, 1] and normalised with the ImageNet mean and std in float32.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps


def read_metadata(session: ort.InferenceSession) -> tuple[list[str], dict]:
    meta = session.get_modelmeta().custom_metadata_map
    return json.loads(meta["class_names"]), json.loads(meta["preprocessing"])


def open_rgb(path: str) -> Image.Image:
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)  # as a camera meant it to be seen
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))  # transparent parts on white
        return flat
    return img.convert("RGB")


def resized_crop(img: Image.Image, resize: int, crop: int) -> np.ndarray:
    """(crop, crop, 3) uint8: shorter side to ``resize`` (bilinear, antialiased), centre crop."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = resize, int(resize * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((new_w, new_h), Image.BILINEAR)
    top = int(round((new_h - crop) / 2.0))
    left = int(round((new_w - crop) / 2.0))
    return np.asarray(img.crop((left, top, left + crop, top + crop)))


def normalized(crops: list[np.ndarray], mean, std) -> np.ndarray:
    """crops -> (B, 3, crop, crop) float32, the same float32 steps as torchvision."""
    x = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32, order="C")
    x /= np.float32(255)
    x -= np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    x /= np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    return x


def top_k(logits: np.ndarray, class_names: list[str], k: int = 5) -> list[dict]:
    z = logits.astype(np.float32) - logits.max()
    probs = np.exp(z) / np.exp(z).sum()
    order = np.argsort(-probs, kind="stable")[:k]
    return [{"label": class_names[i] if i < len(class_names) else f"class {i}", "index": int(i),
             "probability": float(probs[i])} for i in order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="top-5 classes of images with an exported AlexNet")
    parser.add_argument("model", help="the exported .onnx file")
    parser.add_argument("images", nargs="+", help="image files")
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    args = parser.parse_args(argv)

    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    class_names, pre = read_metadata(session)
    input_name = session.get_inputs()[0].name
    results, failed = [], False
    for path in args.images:
        try:
            crop = resized_crop(open_rgb(path), pre["resize"], pre["crop"])
        except OSError as exc:
            results.append({"path": path, "error": str(exc)})
            failed = True
            continue
        logits = session.run(None, {input_name: normalized([crop], pre["mean"], pre["std"])})[0][0]
        results.append({"path": path, "top": top_k(logits, class_names)})
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['path']}: error: {r['error']}")
            else:
                print(f"{r['path']}: " + ", ".join(f"{s['label']} {s['probability'] * 100:.1f}%" for s in r["top"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
