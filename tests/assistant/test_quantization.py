"""Quantization and device selection logic (the GPU branches are checked as configuration, on any machine)."""

from __future__ import annotations

import importlib

import pytest
import torch

from assistant import model as model_module
from assistant.model import (
    _weights_kwargs,
    bitsandbytes_problem,
    build_quantization_config,
    choose_quantization,
    compute_dtype,
    cpu_int8_problem,
    needs_bitsandbytes,
)


@pytest.mark.parametrize(("requested", "device", "expected"), [
    ("auto", "cpu", "none"),
    ("int8", "cpu", "int8-dynamic"),  # torch's CPU kernels, not bitsandbytes
    ("auto", "cuda", "nf4"),
    ("auto", "cuda:1", "nf4"),
    ("int8", "cuda", "int8"),
    ("nf4", "cpu", "nf4"),  # bitsandbytes has CPU kernels: slower than fp32 here, but honoured
    ("none", "cuda", "none"),
])
def test_choice_with_working_bitsandbytes(requested, device, expected):
    assert choose_quantization(requested, device, None) == (expected, None)


def test_cpu_auto_never_touches_bitsandbytes():
    assert not needs_bitsandbytes("auto", "cpu") and not needs_bitsandbytes("int8", "cpu")
    assert needs_bitsandbytes("auto", "cuda") and needs_bitsandbytes("nf4", "cpu")


def test_cpu_without_int8_kernels_runs_unquantized():
    choice, notice = choose_quantization("int8", "cpu", None, "no int8 CPU kernels")
    assert choice == "none" and "int8 quantization unavailable: no int8 CPU kernels" in notice


def test_this_machine_has_int8_cpu_kernels():
    assert cpu_int8_problem() is None


def test_int8_dynamic_model_streams_and_reports_its_real_size(small_settings):
    """The real SmolLM2 with torch int8 weights: smaller footprint, same tokenizer, generates text."""
    from assistant.model import load_offline_fallback

    fp32 = load_offline_fallback(small_settings.model_copy(update={"quantization": "none"}), "test")
    int8 = load_offline_fallback(small_settings.model_copy(update={"quantization": "int8"}), "test")
    assert (fp32.info.quantization, int8.info.quantization) == ("none", "int8-dynamic")
    assert int8.info.footprint_bytes < 0.75 * fp32.info.footprint_bytes
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in int8.model.modules())
    prompt = int8.encode(int8.render_prompt([{"role": "user", "content": "Name a colour."}]))
    batch, first = int8.prefill([prompt], [0.0], [1.0])
    tokens = first + [t for _ in range(8) for t in int8.decode_step(batch)]
    assert int8.decode(tokens).strip()


def test_missing_bitsandbytes_falls_back_with_a_message():
    choice, notice = choose_quantization("auto", "cuda", "bitsandbytes is unusable (boom)")
    assert choice == "none"
    assert "nf4 quantization unavailable" in notice and "boom" in notice


def test_bitsandbytes_problem_says_what_to_install(monkeypatch):
    real = importlib.import_module

    def fake(name, *args):
        if name == "bitsandbytes":
            raise ImportError("libbitsandbytes_cuda124.so: cannot open shared object file")
        return real(name, *args)

    monkeypatch.setattr(model_module.importlib, "import_module", fake)
    assert "pip install bitsandbytes" in bitsandbytes_problem("cuda")


def test_nf4_config_uses_bf16_compute_and_double_quant():
    config = build_quantization_config("nf4")
    assert config.load_in_4bit and not config.load_in_8bit
    assert config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert config.bnb_4bit_use_double_quant


def test_int8_and_none_configs():
    assert build_quantization_config("int8").load_in_8bit
    assert build_quantization_config("none") is None and build_quantization_config("int8-dynamic") is None


def test_gpu_weights_are_resident_on_one_device():
    kwargs = _weights_kwargs("cuda:0", "nf4", torch.bfloat16)
    assert kwargs["device_map"] == {"": "cuda:0"} and kwargs["quantization_config"].load_in_4bit
    assert _weights_kwargs("cpu", "none", torch.float32) == {"dtype": torch.float32}


def test_cpu_dtype():
    assert compute_dtype("cpu", "none", "float32") == torch.float32
    assert compute_dtype("cpu", "none", "bfloat16") == torch.bfloat16
    assert compute_dtype("cpu", "nf4", "float32") == torch.bfloat16
    assert compute_dtype("cpu", "int8-dynamic", "bfloat16") == torch.float32  # quantized from fp32
