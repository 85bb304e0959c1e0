"""Export a model to take away: ONNX (class names and preprocessing in its metadata,
a standalone ``predict.py`` beside it) or TorchScript, each checked by the parity
gate before it is reported written. Int8 (dynamic quantisation of the fully
connected layers) only when asked, with its agreement with float measured on the
user's images.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch

from ..files import write_atomically
from ..preprocess import CROP_SIZE, IMAGENET_MEAN, IMAGENET_STD, RESIZE_SIZE
from .parity import ParityReport, check_parity, parity_inputs, top5
from .runners import CPU_PROVIDER, OrtRunner, TorchRunner

FORMATS = ("onnx", "torchscript")
PREDICT_SCRIPT = "predict.py"
PREPROCESSING = {"resize": RESIZE_SIZE, "crop": CROP_SIZE, "interpolation": "bilinear", "antialias": True,
                 "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "scale": "1/255", "layout": "NCHW"}
Progress = Callable[[str, float], None]  # (what, fraction done)


class ExportError(Exception):
    pass


@dataclass
class ExportReport:
    path: str
    format: str
    parity: dict  # ParityReport.as_dict() of the float graph against torch
    predict_script: str | None = None
    int8: dict | None = None  # top1_agreement, top5_agreement, images, float_bytes, int8_bytes
    seconds: float = 0.0
    bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        p = self.parity
        lines = [f"wrote {self.path} ({self.format}, {self.bytes / 1e6:.1f} MB) in {self.seconds:.1f} s",
                 f"checked against torch on {p['inputs']} inputs: max |dlogit| {p['max_abs_diff']:.3g} "
                 f"(allowed {p['tolerance']:.3g}), top-5 identical: {'yes' if p['top5_identical'] else 'no'}"]
        if self.int8:
            q = self.int8
            lines.append(f"int8 against float on {q['images']} images: top-1 agrees on {q['top1_agreement'] * 100:.1f}%, "
                         f"top-5 (the same five classes) on {q['top5_agreement'] * 100:.1f}%; "
                         f"{q['float_bytes'] / 1e6:.0f} MB -> {q['int8_bytes'] / 1e6:.0f} MB")
        if self.predict_script:
            lines.append(f"standalone predictor: python {self.predict_script} {self.path} IMAGE...")
        return "\n".join(lines + self.notes)


def metadata_for(class_names: Sequence[str], description: str = "") -> dict[str, str]:
    return {"class_names": json.dumps(list(class_names), ensure_ascii=False),
            "preprocessing": json.dumps(PREPROCESSING), "description": description,
            "producer": "alexnet-gui", "input": "input: (batch, 3, 224, 224) float32", "output": "logits (no softmax)"}


def export_model(model, class_names: Sequence[str], fmt: str, out: str | os.PathLike, *, int8: bool = False,
                 images: Sequence | None = None, description: str = "",
                 progress: Progress | None = None) -> ExportReport:
    """Write ``model`` to ``out`` as ``fmt`` and check it; raises ExportError (nothing left at
    ``out`` then). ``images``: the int8 agreement's images (default: the bundled samples)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if int8 and fmt != "onnx":
        raise ExportError("int8 is offered for ONNX only")
    progress = progress or (lambda what, fraction: None)
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent} is not a folder")
    t0 = time.perf_counter()
    twin = copy.deepcopy(model).cpu().eval()  # the caller's model keeps classifying meanwhile
    inputs = parity_inputs()
    try:
        if fmt == "torchscript":
            report = _torchscript(twin, class_names, description, out, inputs, progress)
        else:
            report = _onnx(twin, class_names, description, out, inputs, int8, images, progress)
    except ExportError:
        raise
    except Exception as exc:  # a failed export is a message, never a crash
        raise ExportError(f"could not export to {out}: {exc}") from exc
    report.seconds = time.perf_counter() - t0
    report.bytes = out.stat().st_size
    progress("done", 1.0)
    return report


def _gate(reference, candidate, inputs: np.ndarray, out: Path, what: str) -> ParityReport:
    report = check_parity(reference, candidate, inputs)
    if not report.ok:
        raise ExportError(f"{what} failed its check against torch, nothing written: {report.reason()}")
    return report


def _onnx(model, class_names, description, out: Path, inputs, int8: bool, images, progress: Progress) -> ExportReport:
    from .graphs import export_onnx_proto

    progress("exporting", 0.05)
    proto = export_onnx_proto(model, "logits")
    for key, value in metadata_for(class_names, description).items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    data = proto.SerializeToString()
    with tempfile.TemporaryDirectory(prefix="alexnet-export-") as tmp:
        float_path = Path(tmp) / "float.onnx"
        float_path.write_bytes(data)
        progress("checking", 0.5)
        report = _gate(TorchRunner(model), OrtRunner(float_path, [CPU_PROVIDER], torch.get_num_threads()), inputs, out,
                       "the ONNX graph")
        quantized = None
        if int8:
            progress("quantising", 0.7)
            quantized = _quantize(float_path, Path(tmp) / "int8.onnx", proto)
            agreement = _agreement(float_path, quantized, images)
            final = quantized.read_bytes()
        else:
            final = data
        write_atomically(out, lambda f: f.write(final))
    script = out.parent / PREDICT_SCRIPT
    source = files("alexnet_gui.core.engine").joinpath("standalone_predict.py").read_text(encoding="utf-8")
    write_atomically(script, lambda f: f.write(source.encode("utf-8")))
    result = ExportReport(str(out), "onnx", report.as_dict(), str(script))
    if int8:
        result.int8 = {**agreement, "float_bytes": len(data), "int8_bytes": len(final)}
    return result


def _quantize(float_path: Path, int8_path: Path, proto) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(float_path), str(int8_path), op_types_to_quantize=["MatMul", "Gemm"],
                     weight_type=QuantType.QInt8)
    quantized = onnx.load(str(int8_path))
    if not quantized.metadata_props:
        quantized.metadata_props.extend(proto.metadata_props)
    onnx.save(quantized, str(int8_path))
    return int8_path


def _agreement(float_path: Path, int8_path: Path, images) -> dict:
    """How often int8's top-1 and top-5 agree with float's, on ``images`` (default: the samples)."""
    x = parity_inputs(noise=0, images=images)
    if not len(x):
        raise ExportError("no images to measure int8 against float")
    threads = torch.get_num_threads()
    a = np.concatenate([OrtRunner(float_path, [CPU_PROVIDER], threads)(x[s : s + 16]) for s in range(0, len(x), 16)])
    b = np.concatenate([OrtRunner(int8_path, [CPU_PROVIDER], threads)(x[s : s + 16]) for s in range(0, len(x), 16)])
    if not np.all(np.isfinite(b)):
        raise ExportError("the int8 model gives non-finite logits")
    ta, tb = top5(a), top5(b)
    return {"images": len(x), "top1_agreement": float(np.mean(ta[:, 0] == tb[:, 0])),
            "top5_agreement": float(np.mean([set(r) == set(s) for r, s in zip(ta, tb)]))}


def _torchscript(model, class_names, description, out: Path, inputs, progress: Progress) -> ExportReport:
    progress("tracing", 0.05)
    example = torch.zeros(1, 3, CROP_SIZE, CROP_SIZE)
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated since torch 2.9, still what TorchScript users load
        traced = torch.jit.trace(model, example, check_trace=False)
    extra = {"class_names.json": json.dumps(list(class_names), ensure_ascii=False),
             "preprocessing.json": json.dumps(PREPROCESSING), "description.txt": description}
    with tempfile.TemporaryDirectory(prefix="alexnet-export-") as tmp:
        tmp_path = Path(tmp) / "model.pt"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.save(traced, str(tmp_path), _extra_files=extra)
            progress("checking", 0.5)
            loaded = torch.jit.load(str(tmp_path), map_location="cpu").eval()

        def run(x):
            with torch.no_grad():
                return loaded(torch.from_numpy(np.ascontiguousarray(x))).numpy()

        report = _gate(TorchRunner(model), run, inputs, out, "the TorchScript model")
        data = tmp_path.read_bytes()
    write_atomically(out, lambda f: f.write(data))
    return ExportReport(str(out), "torchscript", report.as_dict(),
                        notes=["TorchScript needs torch to run: torch.jit.load(path); class names and "
                               "preprocessing are in its extra files (class_names.json, preprocessing.json)"])
