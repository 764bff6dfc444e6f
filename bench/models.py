"""Architecture-faithful stand-ins for the published DWPose models, for benchmarks.

Timing a network needs its layers, not its trained weights. This file rebuilds, layer for layer,
YOLOX-l (Megvii YOLOX: CSPDarknet + PAFPN + decoupled head), DWPose-l (RTMPose-l whole-body 384x288:
CSPNeXt-l + RTMCC head) and RTMPose-m whole-body 256x192, gives them seeded random weights, and exports
them to ONNX with the published files' input/output names and shapes, batch norm folded into the
convolutions, as a static batch-1 file and a dynamic-batch file each. Parameters and multiply-accumulates
are counted and checked against the published figures (within 2 %).

    python -m bench.models OUT_DIR        # or bench.models.build_all(OUT_DIR) -> {name: path}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

SEED = 0
OPSET = 17
MAX_IR_VERSION = 9  # onnxruntime 1.31 refuses newer IR versions than it knows
TOLERANCE = 0.02
CALIBRATION_IMAGES = 4
# Files record the hash of this source: any change here (architecture, weights, export) rebuilds them.
SOURCE_SHA256 = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
MEAN_RGB = (123.675, 116.28, 103.53)  # RTMPose input normalisation
STD_RGB = (58.395, 57.12, 57.375)


# --------------------------------------------------------------------------------------------------
# Layers shared by both families


class ConvBNSiLU(nn.Module):
    """Conv (no bias) + BatchNorm + SiLU: YOLOX's BaseConv, mmcv's ConvModule as CSPNeXt uses it."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    @torch.no_grad()
    def fold_batch_norm(self) -> None:
        """Merge the (eval-mode) BatchNorm into the conv, as in the published ONNX files."""
        if isinstance(self.bn, nn.Identity):
            return
        conv, bn = self.conv, self.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                          groups=conv.groups, bias=True)
        fused.weight.copy_(conv.weight * scale[:, None, None, None])
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
        self.conv, self.bn = fused, nn.Identity()


class SPPBottleneck(nn.Module):
    """1x1 conv to half the channels, max pools 5/9/13 (stride 1) beside it, concat, 1x1 conv."""

    def __init__(self, in_ch: int, out_ch: int, pool_sizes=(5, 9, 13)):
        super().__init__()
        hidden = in_ch // 2
        self.conv1 = ConvBNSiLU(in_ch, hidden, 1)
        self.pools = nn.ModuleList(nn.MaxPool2d(k, stride=1, padding=k // 2) for k in pool_sizes)
        self.conv2 = ConvBNSiLU(hidden * (len(pool_sizes) + 1), out_ch, 1)

    def forward(self, x):
        x = self.conv1(x)
        return self.conv2(torch.cat([x] + [pool(x) for pool in self.pools], 1))


# --------------------------------------------------------------------------------------------------
# YOLOX (Megvii YOLOX: yolox/models/darknet.py, yolo_pafpn.py, yolo_head.py)


class DarknetBottleneck(nn.Module):
    def __init__(self, ch: int, shortcut: bool):
        super().__init__()
        self.conv1 = ConvBNSiLU(ch, ch, 1)
        self.conv2 = ConvBNSiLU(ch, ch, 3)
        self.shortcut = shortcut

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return x + y if self.shortcut else y


class DarknetCSPLayer(nn.Module):
    """CSP: half the channels through n bottlenecks, half through a 1x1 conv, concat, 1x1 conv."""

    def __init__(self, in_ch: int, out_ch: int, num_blocks: int, shortcut: bool = True):
        super().__init__()
        hidden = out_ch // 2
        self.main_conv = ConvBNSiLU(in_ch, hidden, 1)
        self.short_conv = ConvBNSiLU(in_ch, hidden, 1)
        self.blocks = nn.Sequential(*(DarknetBottleneck(hidden, shortcut) for _ in range(num_blocks)))
        self.final_conv = ConvBNSiLU(2 * hidden, out_ch, 1)

    def forward(self, x):
        return self.final_conv(torch.cat([self.blocks(self.main_conv(x)), self.short_conv(x)], 1))


class Focus(nn.Module):
    """Space-to-depth (2x2 pixel phases stacked as channels) then a conv."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int):
        super().__init__()
        self.conv = ConvBNSiLU(in_ch * 4, out_ch, kernel)

    def forward(self, x):
        top_left, top_right = x[..., ::2, ::2], x[..., ::2, 1::2]
        bottom_left, bottom_right = x[..., 1::2, ::2], x[..., 1::2, 1::2]
        return self.conv(torch.cat((top_left, bottom_left, top_right, bottom_right), 1))


class CSPDarknet(nn.Module):
    def __init__(self, depth: float, width: float):
        super().__init__()
        c = int(64 * width)
        n = max(round(3 * depth), 1)
        self.stem = Focus(3, c, 3)
        self.dark2 = nn.Sequential(ConvBNSiLU(c, 2 * c, 3, 2), DarknetCSPLayer(2 * c, 2 * c, n))
        self.dark3 = nn.Sequential(ConvBNSiLU(2 * c, 4 * c, 3, 2), DarknetCSPLayer(4 * c, 4 * c, 3 * n))
        self.dark4 = nn.Sequential(ConvBNSiLU(4 * c, 8 * c, 3, 2), DarknetCSPLayer(8 * c, 8 * c, 3 * n))
        self.dark5 = nn.Sequential(ConvBNSiLU(8 * c, 16 * c, 3, 2), SPPBottleneck(16 * c, 16 * c),
                                   DarknetCSPLayer(16 * c, 16 * c, n, shortcut=False))

    def forward(self, x):
        c3 = self.dark3(self.dark2(self.stem(x)))
        c4 = self.dark4(c3)
        return c3, c4, self.dark5(c4)


class YOLOPAFPN(nn.Module):
    """Top-down (upsample + concat) then bottom-up (stride-2 conv + concat) path over strides 8/16/32."""

    def __init__(self, depth: float, width: float):
        super().__init__()
        c3, c4, c5 = int(256 * width), int(512 * width), int(1024 * width)
        n = round(3 * depth)
        self.lateral_conv5 = ConvBNSiLU(c5, c4, 1)
        self.top_down_p4 = DarknetCSPLayer(2 * c4, c4, n, shortcut=False)
        self.lateral_conv4 = ConvBNSiLU(c4, c3, 1)
        self.top_down_p3 = DarknetCSPLayer(2 * c3, c3, n, shortcut=False)
        self.downsample_p3 = ConvBNSiLU(c3, c3, 3, 2)
        self.bottom_up_p4 = DarknetCSPLayer(2 * c3, c4, n, shortcut=False)
        self.downsample_p4 = ConvBNSiLU(c4, c4, 3, 2)
        self.bottom_up_p5 = DarknetCSPLayer(2 * c4, c5, n, shortcut=False)

    def forward(self, c3, c4, c5):
        def upsample(t):
            return F.interpolate(t, scale_factor=2.0, mode="nearest")

        lateral5 = self.lateral_conv5(c5)
        lateral4 = self.lateral_conv4(self.top_down_p4(torch.cat([upsample(lateral5), c4], 1)))
        out3 = self.top_down_p3(torch.cat([upsample(lateral4), c3], 1))
        out4 = self.bottom_up_p4(torch.cat([self.downsample_p3(out3), lateral4], 1))
        out5 = self.bottom_up_p5(torch.cat([self.downsample_p4(out4), lateral5], 1))
        return out3, out4, out5


class YOLOXHeadLevel(nn.Module):
    """Decoupled head of one stride: 1x1 stem, two 3x3 convs each for classes and for box + objectness."""

    def __init__(self, in_ch: int, ch: int, num_classes: int):
        super().__init__()
        self.stem = ConvBNSiLU(in_ch, ch, 1)
        self.cls_convs = nn.Sequential(ConvBNSiLU(ch, ch, 3), ConvBNSiLU(ch, ch, 3))
        self.reg_convs = nn.Sequential(ConvBNSiLU(ch, ch, 3), ConvBNSiLU(ch, ch, 3))
        self.cls_pred = nn.Conv2d(ch, num_classes, 1)
        self.reg_pred = nn.Conv2d(ch, 4, 1)
        self.obj_pred = nn.Conv2d(ch, 1, 1)

    def forward(self, x):
        x = self.stem(x)
        cls_logits = self.cls_pred(self.cls_convs(x))
        reg_features = self.reg_convs(x)
        return torch.cat([self.reg_pred(reg_features), self.obj_pred(reg_features).sigmoid(),
                          cls_logits.sigmoid()], 1)


class YOLOX(nn.Module):
    """Output [N, anchors, 5 + classes]: raw x, y, w, h, sigmoid objectness, sigmoid classes
    (YOLOX's export with decode_in_inference=False)."""

    def __init__(self, depth: float = 1.0, width: float = 1.0, num_classes: int = 80, prior_prob: float = 0.01):
        super().__init__()
        self.backbone = CSPDarknet(depth, width)
        self.neck = YOLOPAFPN(depth, width)
        self.heads = nn.ModuleList(YOLOXHeadLevel(int(c * width), int(256 * width), num_classes)
                                   for c in (256, 512, 1024))
        prior_bias = -math.log((1 - prior_prob) / prior_prob)  # YOLOX's initialize_biases
        for head in self.heads:
            for score_pred in (head.cls_pred, head.obj_pred):
                # Tiny weights keep random-weight scores near prior_prob**2 (1e-4) on any image, far below the
                # detector's 0.1 / 0.3 thresholds: the benchmark injects its own person boxes.
                nn.init.normal_(score_pred.weight, std=1e-3)
                nn.init.constant_(score_pred.bias, prior_bias)
            # Box regressions of a few units, as trained ones are (w, h go through exp() in the decoder).
            nn.init.normal_(head.reg_pred.weight, std=0.01)

    def forward(self, images):
        levels = self.neck(*self.backbone(images))
        outputs = [head(level).flatten(2) for head, level in zip(self.heads, levels)]
        return torch.cat(outputs, 2).permute(0, 2, 1)


# --------------------------------------------------------------------------------------------------
# RTMPose (mmdet CSPNeXt backbone, mmpose RTMCCHead with its RTMCCBlock gated attention unit)


class ChannelAttention(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(ch, ch, 1)
        self.act = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.act(self.fc(self.pool(x)))


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel: int):
        super().__init__()
        self.depthwise = ConvBNSiLU(in_ch, in_ch, kernel, groups=in_ch)
        self.pointwise = ConvBNSiLU(in_ch, out_ch, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class CSPNeXtBlock(nn.Module):
    """3x3 conv then a 5x5 depthwise-separable conv, with an identity shortcut where asked."""

    def __init__(self, ch: int, add_identity: bool):
        super().__init__()
        self.conv1 = ConvBNSiLU(ch, ch, 3)
        self.conv2 = DepthwiseSeparableConv(ch, ch, 5)
        self.add_identity = add_identity

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return x + y if self.add_identity else y


class CSPNeXtLayer(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, num_blocks: int, add_identity: bool):
        super().__init__()
        mid = int(out_ch * 0.5)
        self.main_conv = ConvBNSiLU(in_ch, mid, 1)
        self.short_conv = ConvBNSiLU(in_ch, mid, 1)
        self.blocks = nn.Sequential(*(CSPNeXtBlock(mid, add_identity) for _ in range(num_blocks)))
        self.attention = ChannelAttention(2 * mid)
        self.final_conv = ConvBNSiLU(2 * mid, out_ch, 1)

    def forward(self, x):
        x = torch.cat([self.blocks(self.main_conv(x)), self.short_conv(x)], 1)
        return self.final_conv(self.attention(x))


class CSPNeXt(nn.Module):
    """The P5 arch; returns only the stride-32 map (out_indices (4,))."""

    # (in channels, out channels, blocks, identity shortcut, SPP) per stage, before widen/deepen.
    STAGES = ((64, 128, 3, True, False), (128, 256, 6, True, False), (256, 512, 6, True, False),
              (512, 1024, 3, False, True))

    def __init__(self, deepen: float, widen: float):
        super().__init__()
        stem_ch = int(64 * widen)
        self.stem = nn.Sequential(ConvBNSiLU(3, stem_ch // 2, 3, 2), ConvBNSiLU(stem_ch // 2, stem_ch // 2, 3),
                                  ConvBNSiLU(stem_ch // 2, stem_ch, 3))
        stages = []
        for in_ch, out_ch, blocks, add_identity, use_spp in self.STAGES:
            in_ch, out_ch = int(in_ch * widen), int(out_ch * widen)
            layers = [ConvBNSiLU(in_ch, out_ch, 3, 2)]
            if use_spp:
                layers.append(SPPBottleneck(out_ch, out_ch))
            layers.append(CSPNeXtLayer(out_ch, out_ch, max(round(blocks * deepen), 1), add_identity))
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.out_channels = int(1024 * widen)

    def forward(self, x):
        return self.stages(self.stem(x))


class ScaleNorm(nn.Module):
    """x / (||x|| / sqrt(dim)) * g over the last axis (one learned scalar g)."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.scale = dim ** -0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x):
        norm = torch.norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class GatedAttentionUnit(nn.Module):
    """mmpose's RTMCCBlock as RTMPose configures it: self-attention over the keypoint tokens,
    squared-ReLU kernel, no relative position bias, no rotary encoding, dropout 0, scaled residual."""

    def __init__(self, dim: int, expansion: float = 2.0, s: int = 128):
        super().__init__()
        self.e, self.s = int(dim * expansion), s
        self.norm = ScaleNorm(dim)
        self.uv = nn.Linear(dim, 2 * self.e + s, bias=False)
        nn.init.xavier_uniform_(self.uv.weight)
        self.gamma = nn.Parameter(torch.rand(2, s))  # per-dim scale and offset making q and k from one base
        self.beta = nn.Parameter(torch.rand(2, s))
        self.o = nn.Linear(self.e, dim, bias=False)
        self.res_scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        uv = F.silu(self.uv(self.norm(x)))
        u, v, base = torch.split(uv, [self.e, self.e, self.s], dim=2)
        q, k = torch.unbind(base.unsqueeze(2) * self.gamma + self.beta, dim=2)
        kernel = torch.square(F.relu(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(self.s)))
        return x * self.res_scale + self.o(u * torch.bmm(kernel, v))


class RTMCCHead(nn.Module):
    """7x7 conv to one map per keypoint, flatten, ScaleNorm + linear to tokens, GAU, SimCC x/y linears."""

    def __init__(self, in_ch: int, num_keypoints: int, input_hw: tuple[int, int], split_ratio: float = 2.0,
                 hidden: int = 256):
        super().__init__()
        feature_pixels = (input_hw[0] // 32) * (input_hw[1] // 32)
        self.final_layer = nn.Conv2d(in_ch, num_keypoints, 7, padding=3)
        self.mlp = nn.Sequential(ScaleNorm(feature_pixels), nn.Linear(feature_pixels, hidden, bias=False))
        self.gau = GatedAttentionUnit(hidden)
        self.cls_x = nn.Linear(hidden, int(input_hw[1] * split_ratio), bias=False)
        self.cls_y = nn.Linear(hidden, int(input_hw[0] * split_ratio), bias=False)

    def forward(self, features):
        tokens = self.gau(self.mlp(self.final_layer(features).flatten(2)))
        return self.cls_x(tokens), self.cls_y(tokens)


class RTMPose(nn.Module):
    def __init__(self, deepen: float, widen: float, input_hw: tuple[int, int], num_keypoints: int = 133):
        super().__init__()
        self.backbone = CSPNeXt(deepen, widen)
        self.head = RTMCCHead(self.backbone.out_channels, num_keypoints, input_hw)

    def forward(self, x):
        return self.head(self.backbone(x))


# --------------------------------------------------------------------------------------------------
# The models, their published figures, counting


@dataclass(frozen=True)
class ModelSpec:
    name: str  # file stem of the published file
    title: str
    build: Callable[[], nn.Module]
    input_name: str
    input_chw: tuple[int, int, int]
    output_names: tuple[str, ...]
    published_params_m: float | None
    published_macs_g: float
    normalised_input: bool  # pose models see mean/std-normalised crops, YOLOX raw 0..255 pixels
    export: bool = True  # False: counted only, as a check of the architecture against a published figure


MODELS = (
    # YOLOX README: yolox_l 54.2 M params, 155.6 GFLOPs (thop, FLOPs = 2 x MACs) at 640.
    ModelSpec("yolox_l", "YOLOX-l 640", lambda: YOLOX(1.0, 1.0), "images", (3, 640, 640), ("output",),
              54.2, 155.6 / 2, normalised_input=False),
    # mmpose RTMPose whole-body table: rtmpose-l 384x288 10.07 GFLOPs, rtmpose-m 256x192 2.22 (mmpose's
    # "FLOPs" are MACs); no parameter counts are published for them, but the real dw-ll_ucoco_384.onnx is
    # about 134 MB, i.e. ~33.6 M float32 parameters.
    ModelSpec("dw-ll_ucoco_384", "DWPose-l 384x288", lambda: RTMPose(1.0, 1.0, (384, 288)), "input",
              (3, 384, 288), ("simcc_x", "simcc_y"), None, 10.07, normalised_input=True),
    ModelSpec("rtmpose-m_ucoco_256", "RTMPose-m wb 256x192", lambda: RTMPose(0.67, 0.75, (256, 192)), "input",
              (3, 256, 192), ("simcc_x", "simcc_y"), None, 2.22, normalised_input=True),
    # Checks only: figures published with parameter counts (mmpose RTMPose tables).
    ModelSpec("check:rtmpose-l_wb_256", "RTMPose-l wb 256x192", lambda: RTMPose(1.0, 1.0, (256, 192)), "input",
              (3, 256, 192), ("simcc_x", "simcc_y"), None, 4.52, normalised_input=True, export=False),
    ModelSpec("check:rtmpose-m_body_256", "RTMPose-m body17 256x192",
              lambda: RTMPose(0.67, 0.75, (256, 192), num_keypoints=17), "input", (3, 256, 192),
              ("simcc_x", "simcc_y"), 13.59, 1.93, normalised_input=True, export=False),
    ModelSpec("check:rtmpose-l_body_256", "RTMPose-l body17 256x192",
              lambda: RTMPose(1.0, 1.0, (256, 192), num_keypoints=17), "input", (3, 256, 192),
              ("simcc_x", "simcc_y"), 27.66, 4.16, normalised_input=True, export=False),
)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_chw: tuple[int, int, int]) -> dict[str, int]:
    """Multiply-accumulates of one batch-1 forward pass, by kind, on the meta device (no arithmetic).

    conv / linear / attention (the GAU's two bmm) come from torch's FlopCounterMode (FLOPs / 2, biases not
    counted); batchnorm is the number of BatchNorm output elements, counted by hooks.
    """
    bn_elements = 0

    def count_bn(module, inputs, output):
        nonlocal bn_elements
        bn_elements += output.numel()

    hooks = [m.register_forward_hook(count_bn) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.zeros(1, *input_chw, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    by_op = {str(op): flops // 2 for op, flops in counter.get_flop_counts()["Global"].items()}
    macs = {"conv": by_op.pop("aten.convolution", 0), "attention": by_op.pop("aten.bmm", 0),
            "linear": by_op.pop("aten.mm", 0) + by_op.pop("aten.addmm", 0), "batchnorm": bn_elements}
    if by_op:
        raise RuntimeError(f"uncategorised ops in the MAC count: {by_op}")
    return macs


def published_convention_macs(macs: dict[str, int]) -> int:
    """The sum the published figures use: mmengine's counter (mmpose's get_flops.py; fvcore's rules) and thop
    (YOLOX's get_model_info) count convs, linears and matmuls (the GAU's bmm included) without biases, and an
    eval-mode affine BatchNorm as 2 per element; activations and element-wise ops are not counted."""
    return macs["conv"] + macs["linear"] + macs["attention"] + 2 * macs["batchnorm"]


def complexity(spec: ModelSpec) -> tuple[int, dict[str, int]]:
    with torch.device("meta"):
        model = spec.build()
    model.eval()
    return count_parameters(model), count_macs(model, spec.input_chw)


# --------------------------------------------------------------------------------------------------
# Weights, export, checks


def synthetic_images(count: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """Photo-like 0..255 RGB images: random fields at every scale from 2 to 128 pixels, each with an amplitude
    proportional to its scale (roughly the 1/f spectrum of photos: smooth colour regions plus texture)."""
    images = torch.zeros(count, 3, height, width)
    for cell in (2, 4, 8, 16, 32, 64, 128):
        field = torch.randn(count, 3, max(height // cell, 1), max(width // cell, 1), generator=generator)
        images += F.interpolate(field, size=(height, width), mode="bilinear", align_corners=False) * cell
    images = (images - images.mean((1, 2, 3), keepdim=True)) / images.std((1, 2, 3), keepdim=True)
    return (128 + 50 * images).clamp(0, 255)


def model_inputs(spec: ModelSpec, count: int, generator: torch.Generator) -> torch.Tensor:
    images = synthetic_images(count, spec.input_chw[1], spec.input_chw[2], generator)
    if spec.normalised_input:
        mean = torch.tensor(MEAN_RGB).view(1, 3, 1, 1)
        std = torch.tensor(STD_RGB).view(1, 3, 1, 1)
        images = (images - mean) / std
    return images


@torch.no_grad()
def calibrate_batch_norms(model: nn.Module, images: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics from one train-mode pass over `images`.

    With random conv weights and default BN statistics the activations shrink layer after layer (or grow),
    ending in tiny values, denormal floats that slow CPUs down, or saturated scores. Calibrated, every
    layer sees roughly unit-scale activations, as in a trained network. Images with texture at all scales
    matter: calibrated on smooth images only, real photos' activations grow ~20x by the detector's head.
    """
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average: after one batch, exactly that batch's statistics
    model.train()
    model(images)
    model.eval()


def build_weighted(spec: ModelSpec) -> nn.Module:
    """The model with seeded random weights, batch norm calibrated and folded, in eval mode."""
    torch.manual_seed(SEED)
    model = spec.build()
    generator = torch.Generator().manual_seed(SEED + 1)
    calibrate_batch_norms(model, model_inputs(spec, CALIBRATION_IMAGES, generator))
    for module in model.modules():
        if isinstance(module, ConvBNSiLU):
            module.fold_batch_norm()
    return model


def export_onnx(model: nn.Module, spec: ModelSpec, path: Path, dynamic_batch: bool) -> None:
    names = (spec.input_name, *spec.output_names)
    dynamic_axes = {name: {0: "batch"} for name in names} if dynamic_batch else None
    tmp_path = path.with_name(path.name + ".part")
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but writes these plain CNN graphs as the published files
        # have them (Conv with folded BN, Sigmoid * Mul for SiLU) in seconds.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (torch.zeros(1, *spec.input_chw),), str(tmp_path),
                          input_names=[spec.input_name], output_names=list(spec.output_names),
                          opset_version=OPSET, dynamic_axes=dynamic_axes, do_constant_folding=True, dynamo=False)
    proto = onnx.load(str(tmp_path))
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    if dynamic_batch:
        # The exporter leaves every output dim after a batch-dependent Reshape symbolic; the published
        # contract (and annotator's model-kind detection) has only the batch dim dynamic.
        with torch.no_grad():
            outputs = model(torch.zeros(1, *spec.input_chw))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for graph_output, tensor in zip(proto.graph.output, outputs):
            dims = graph_output.type.tensor_type.shape.dim
            for dim, size in zip(dims[1:], tensor.shape[1:]):
                dim.Clear()
                dim.dim_value = size
    proto.producer_name = "bench.models"
    proto.doc_string = f"stand-in {spec.title} with random weights (seed {SEED}); for timing only"
    onnx.save(proto, str(tmp_path))
    tmp_path.replace(path)


def check_onnx(spec: ModelSpec, path: Path, dynamic_batch: bool) -> None:
    """Load with onnxruntime, run on synthetic images, check names, shapes and (YOLOX) that scores stay low."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    batch_dim = "batch" if dynamic_batch else 1
    problems = []
    if [i.name for i in inputs] != [spec.input_name] or [o.name for o in outputs] != list(spec.output_names):
        problems.append(f"names {[i.name for i in inputs]} -> {[o.name for o in outputs]}")
    for declared in (*inputs, *outputs):
        if declared.shape[0] != batch_dim or not all(isinstance(size, int) for size in declared.shape[1:]):
            problems.append(f"{declared.name} declared as {declared.shape}")
    if problems:
        raise RuntimeError(f"{path}: " + "; ".join(problems))
    batch = 2 if dynamic_batch else 1
    blob = model_inputs(spec, batch, torch.Generator().manual_seed(SEED + 2)).numpy()
    results = session.run(None, {spec.input_name: blob})
    for declared, result in zip(outputs, results):
        if result.dtype != np.float32 or list(result.shape) != [batch, *declared.shape[1:]]:
            problems.append(f"{declared.name} came back {result.dtype} {result.shape}")
        elif not np.isfinite(result).all():
            problems.append(f"{declared.name} has non-finite values")
    if spec.name == "yolox_l" and not problems:
        scores = results[0][..., 4:5] * results[0][..., 5:]
        if scores.max() >= 0.1:
            problems.append(f"a random-weight detection score reached {scores.max():.3f} (must stay < 0.1)")
    if problems:
        raise RuntimeError(f"{path}: " + "; ".join(problems))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def is_up_to_date(path: Path) -> bool:
    sidecar = sidecar_path(path)
    if not (path.is_file() and sidecar.is_file()):
        return False
    try:
        recorded = json.loads(sidecar.read_text())
    except ValueError:
        return False
    return (recorded.get("source_sha256") == SOURCE_SHA256 and recorded.get("seed") == SEED
            and recorded.get("bytes") == path.stat().st_size and recorded.get("sha256") == file_sha256(path))


def build_all(out_dir: str | Path, verbose: bool = False) -> dict[str, Path]:
    """Write the six stand-in ONNX files into out_dir (skipping up-to-date ones); {file stem: path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for spec in MODELS:
        if not spec.export:
            continue
        variants = {spec.name: False, f"{spec.name}_dynamic": True}
        targets = {name: out_dir / f"{name}.onnx" for name in variants}
        paths.update(targets)
        stale = [name for name, path in targets.items() if not is_up_to_date(path)]
        if not stale:
            continue
        if verbose:
            print(f"building {spec.title} -> {', '.join(targets[name].name for name in stale)}", file=sys.stderr)
        model = build_weighted(spec)
        for name in stale:
            path = targets[name]
            export_onnx(model, spec, path, variants[name])
            check_onnx(spec, path, variants[name])
            sidecar_path(path).write_text(json.dumps(
                {"source_sha256": SOURCE_SHA256, "seed": SEED, "model": spec.title, "dynamic_batch": variants[name],
                 "bytes": path.stat().st_size, "sha256": file_sha256(path), "torch": torch.__version__}, indent=1))
    return paths


def format_deviation(ours: float, published: float | None) -> str:
    return f"{'-':>6}" if published is None else f"{100 * (ours - published) / published:+6.2f}"


def report(paths: dict[str, Path]) -> bool:
    """Print ours beside the published figures; True when every one is matched within TOLERANCE."""
    print(f"{'model':<25} {'params M':>8} {'publ.':>6} {'dev %':>6}   {'MACs G':>7} {'publ.':>6} {'dev %':>6}"
          f" {'no BN':>6}  {'file MB':>7}")
    all_ok = True
    for spec in MODELS:
        params, macs = complexity(spec)
        params_m, macs_g = params / 1e6, published_convention_macs(macs) / 1e9
        without_bn_g = macs_g - 2 * macs["batchnorm"] / 1e9
        for ours, published in ((params_m, spec.published_params_m), (macs_g, spec.published_macs_g)):
            all_ok &= published is None or abs(ours - published) <= TOLERANCE * published
        published_params = f"{'-':>6}" if spec.published_params_m is None else f"{spec.published_params_m:6.2f}"
        path = paths.get(spec.name)
        size = f"{path.stat().st_size / 1e6:7.1f}" if path is not None and path.exists() else f"{'-':>7}"
        print(f"{spec.title:<25} {params_m:8.2f} {published_params} "
              f"{format_deviation(params_m, spec.published_params_m)}   {macs_g:7.3f} {spec.published_macs_g:6.2f} "
              f"{format_deviation(macs_g, spec.published_macs_g)} {without_bn_g:6.2f}  {size}")
    print("MACs: convs + linears + GAU matmuls, no biases, + 2 per BatchNorm output element (mmengine / thop rules);"
          " 'no BN': without the BatchNorm term. Rows without a file: architecture checks against published"
          " figures, not exported.")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.models", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    paths = build_all(args.out_dir, verbose=True)
    ok = report(paths)
    if not ok:
        print(f"a count deviates from the published figure by more than {TOLERANCE * 100:g} %", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
