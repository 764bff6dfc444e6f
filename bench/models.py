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


# ---- Wan 2.2 Animate stand-ins: begin ----
# YOLOv10m and ViTPose-H whole-body, the two models of Wan 2.2 Animate's preprocessing (Pose2d), for
# bench/wan_animate.py, which builds them with build_wan_models(out_dir) and counts them with wan_report();
# main() below builds only MODELS, as before.
#
# The stand-ins above record the hash of this file without this block (SOURCE_SHA256 is recomputed at its end),
# so adding or editing the Wan models rebuilds none of them and their sidecars do not change; the Wan files
# record the hash of the whole file (WAN_SOURCE_SHA256).

_WAN_BEGIN = b"\n# ---- Wan 2.2 Animate stand-ins: " + b"begin ----\n"
_WAN_END = b"\n# ---- Wan 2.2 Animate stand-ins: " + b"end ----\n"


def source_without_wan_block(source: bytes) -> bytes:
    """This file's bytes without the Wan block: from its begin line through its end line and the two blank
    lines after it (the file as it was before the block was added)."""
    begin = source.index(_WAN_BEGIN) + 1
    end = source.index(_WAN_END) + len(_WAN_END) + 2
    return source[:begin] + source[end:]


# -------------------------------------------------------------------------------------------------- YOLOv10m
# THU-MIG/yolov10 @ 453c6e38 (the repository Wan's yolov10m.onnx comes from): ultralytics/cfg/models/v10/
# yolov10m.yaml (scales m: depth 0.67, width 0.75, max channels 768), nn/modules/block.py (C2f, CIB, C2fCIB,
# SCDown, SPPF, Attention, PSA), nn/modules/head.py (v10Detect), utils/ops.py (v10postprocess). Only the
# one-to-one head is built: an end-to-end export computes nothing else (the one-to-many head trains only).


class UltralyticsConv(ConvBNSiLU):
    """ultralytics' Conv: conv (no bias, 'same' padding) + BatchNorm (eps 1e-3) + SiLU, or no activation."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: bool = True):
        super().__init__(in_ch, out_ch, kernel, stride, groups)
        if not act:
            self.act = nn.Identity()


class C2fBottleneck(nn.Module):
    """Two 3x3 convs (C2f's Bottleneck with e=1.0), with the identity added when `shortcut`."""

    def __init__(self, ch: int, shortcut: bool):
        super().__init__()
        self.cv1 = UltralyticsConv(ch, ch, 3)
        self.cv2 = UltralyticsConv(ch, ch, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class CIB(nn.Module):
    """Compact inverted block: dw 3x3, pw 1x1 to 2c, dw 3x3 (lk=False, as yolov10m), pw 1x1, dw 3x3; identity."""

    def __init__(self, ch: int, shortcut: bool):
        super().__init__()
        self.cv1 = nn.Sequential(UltralyticsConv(ch, ch, 3, groups=ch), UltralyticsConv(ch, 2 * ch, 1),
                                 UltralyticsConv(2 * ch, 2 * ch, 3, groups=2 * ch), UltralyticsConv(2 * ch, ch, 1),
                                 UltralyticsConv(ch, ch, 3, groups=ch))
        self.add = shortcut

    def forward(self, x):
        return x + self.cv1(x) if self.add else self.cv1(x)


class C2f(nn.Module):
    """1x1 conv to 2c, split, n blocks each on the last piece, concat all, 1x1 conv (C2fCIB: CIB blocks)."""

    def __init__(self, in_ch: int, out_ch: int, n: int, shortcut: bool = False, cib: bool = False):
        super().__init__()
        self.c = out_ch // 2
        self.cv1 = UltralyticsConv(in_ch, 2 * self.c, 1)
        self.cv2 = UltralyticsConv((2 + n) * self.c, out_ch, 1)
        block = CIB if cib else C2fBottleneck
        self.m = nn.ModuleList(block(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SCDown(nn.Module):
    """Spatial-channel decoupled downsampling: 1x1 conv, then a depthwise 3x3 stride-2 conv (no activation)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.cv1 = UltralyticsConv(in_ch, out_ch, 1)
        self.cv2 = UltralyticsConv(out_ch, out_ch, 3, 2, groups=out_ch, act=False)

    def forward(self, x):
        return self.cv2(self.cv1(x))


class SPPF(nn.Module):
    """1x1 conv to half, three chained 5x5 max pools, concat the four, 1x1 conv."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.cv1 = UltralyticsConv(in_ch, in_ch // 2, 1)
        self.cv2 = UltralyticsConv(in_ch // 2 * 4, out_ch, 1)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class PSAAttention(nn.Module):
    """YOLOv10's Attention: 1x1 qkv conv (key dim = head dim / 2), softmax attention over the H x W positions,
    plus a depthwise 3x3 positional conv of v, then a 1x1 projection."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.key_dim = self.head_dim // 2
        self.scale = self.key_dim ** -0.5
        self.qkv = UltralyticsConv(dim, dim + 2 * self.key_dim * num_heads, 1, act=False)
        self.proj = UltralyticsConv(dim, dim, 1, act=False)
        self.pe = UltralyticsConv(dim, dim, 3, groups=dim, act=False)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(x).view(b, self.num_heads, 2 * self.key_dim + self.head_dim, h * w).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q.transpose(-2, -1) @ k) * self.scale).softmax(dim=-1)
        x = (v @ attn.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        return self.proj(x)


class PSA(nn.Module):
    """Partial self-attention: half the channels through attention and a conv FFN, concat, 1x1 conv."""

    def __init__(self, ch: int):
        super().__init__()
        self.c = ch // 2
        self.cv1 = UltralyticsConv(ch, 2 * self.c, 1)
        self.cv2 = UltralyticsConv(2 * self.c, ch, 1)
        self.attn = PSAAttention(self.c, num_heads=self.c // 64)
        self.ffn = nn.Sequential(UltralyticsConv(self.c, 2 * self.c, 1),
                                 UltralyticsConv(2 * self.c, self.c, 1, act=False))

    def forward(self, x):
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        b = b + self.attn(b)
        b = b + self.ffn(b)
        return self.cv2(torch.cat((a, b), 1))


class V10Detect(nn.Module):
    """v10Detect's one-to-one branch (the only one an end-to-end export computes): per stride a box branch
    (two 3x3 convs, 1x1 to 4 x 16 DFL bins) and a class branch (dw 3x3 + 1x1, twice, then 1x1 to 80); DFL
    decode to x1 y1 x2 y2 in input pixels, sigmoid scores; then v10postprocess: the 300 anchors of highest
    best-class score, and among their 300 x 80 scores the 300 highest -> [N, 300, 6] x1 y1 x2 y2 score class."""

    REG_MAX = 16
    MAX_DET = 300

    def __init__(self, channels: tuple[int, ...], strides=(8, 16, 32), num_classes: int = 80, input_hw=(640, 640)):
        super().__init__()
        self.nc = num_classes
        c2, c3 = max(16, channels[0] // 4, self.REG_MAX * 4), max(channels[0], min(num_classes, 100))
        self.one2one_cv2 = nn.ModuleList(nn.Sequential(UltralyticsConv(x, c2, 3), UltralyticsConv(c2, c2, 3),
                                                       nn.Conv2d(c2, 4 * self.REG_MAX, 1)) for x in channels)
        self.one2one_cv3 = nn.ModuleList(nn.Sequential(
            nn.Sequential(UltralyticsConv(x, x, 3, groups=x), UltralyticsConv(x, c3, 1)),
            nn.Sequential(UltralyticsConv(c3, c3, 3, groups=c3), UltralyticsConv(c3, c3, 1)),
            nn.Conv2d(c3, num_classes, 1)) for x in channels)
        self.dfl = nn.Conv2d(self.REG_MAX, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(self.REG_MAX, dtype=torch.float).view(1, self.REG_MAX, 1, 1)
        anchors, anchor_strides = [], []
        for stride in strides:  # make_anchors(offset=0.5): cell centres, x then y
            h, w = input_hw[0] // stride, input_hw[1] // stride
            ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
            anchors.append(torch.stack((xs, ys), 0).view(2, -1))
            anchor_strides.append(torch.full((1, h * w), float(stride)))
        self.register_buffer("anchors", torch.cat(anchors, 1)[None], persistent=False)  # [1, 2, A]
        self.register_buffer("strides", torch.cat(anchor_strides, 1)[None], persistent=False)  # [1, 1, A]
        for box, cls, stride in zip(self.one2one_cv2, self.one2one_cv3, strides):  # v10Detect.bias_init
            nn.init.constant_(box[-1].bias, 1.0)
            # Tiny class weights keep random-weight scores near sigmoid(bias) (< 2e-4), far below Wan's 0.05.
            nn.init.normal_(cls[-1].weight, std=1e-3)
            nn.init.constant_(cls[-1].bias, math.log(5 / num_classes / (640 / stride) ** 2))

    def forward(self, levels):
        b = levels[0].shape[0]
        x = torch.cat([torch.cat((box(level), cls(level)), 1).flatten(2)
                       for level, box, cls in zip(levels, self.one2one_cv2, self.one2one_cv3)], 2)
        box, cls = x.split((4 * self.REG_MAX, self.nc), 1)
        a = box.shape[2]
        distances = self.dfl(box.view(b, 4, self.REG_MAX, a).transpose(2, 1).softmax(1)).view(b, 4, a)
        left_top, right_bottom = distances.chunk(2, 1)
        boxes = torch.cat((self.anchors - left_top, self.anchors + right_bottom), 1) * self.strides
        preds = torch.cat((boxes, cls.sigmoid()), 1).permute(0, 2, 1)  # [N, A, 84]
        boxes, scores = preds.split([4, self.nc], dim=-1)
        _, index = torch.topk(scores.amax(dim=-1), self.MAX_DET, dim=-1)
        index = index.unsqueeze(-1)
        boxes = torch.gather(boxes, 1, index.repeat(1, 1, 4))
        scores = torch.gather(scores, 1, index.repeat(1, 1, self.nc))
        scores, index = torch.topk(scores.flatten(1), self.MAX_DET, dim=-1)
        labels = index % self.nc
        boxes = boxes.gather(1, (index // self.nc).unsqueeze(-1).repeat(1, 1, 4))
        return torch.cat([boxes, scores.unsqueeze(-1), labels.unsqueeze(-1).to(boxes.dtype)], dim=-1)


# Row 0 of the stand-in's output: a person (x1 y1 x2 y2 in 640 x 640 input pixels, score 0.9, class 0). Random
# weights find nobody, and the pipelines must have someone to crop, track and draw; this box is the woman of
# ../shared/photos/people/woman.jpeg as the real YOLOX-nano finds her, in the input of Wan's plain resize (she
# spans the photo's width, so ultralytics' letterbox maps it to about the same image box).
YOLOV10_PERSON_ROW = (3.0, 124.0, 637.0, 629.0, 0.9, 0.0)


class YOLOv10(nn.Module):
    """yolov10m.yaml's graph: backbone (Conv, C2f, SCDown, C2fCIB, SPPF, PSA), PAN neck (C2f, C2fCIB, SCDown),
    v10Detect; 0..1 RGB input [N, 3, 640, 640], output [N, 300, 6] with row 0 replaced by YOLOV10_PERSON_ROW."""

    def __init__(self, depth: float = 0.67, width: float = 0.75, max_channels: int = 768, num_classes: int = 80):
        super().__init__()

        def ch(c):  # parse_model: make_divisible(min(c, max_channels) * width, 8)
            return int(math.ceil(min(c, max_channels) * width / 8) * 8)

        def n(count):
            return max(round(count * depth), 1)

        self.backbone = nn.ModuleList([
            UltralyticsConv(3, ch(64), 3, 2), UltralyticsConv(ch(64), ch(128), 3, 2),
            C2f(ch(128), ch(128), n(3), True), UltralyticsConv(ch(128), ch(256), 3, 2),
            C2f(ch(256), ch(256), n(6), True), SCDown(ch(256), ch(512)),
            C2f(ch(512), ch(512), n(6), True), SCDown(ch(512), ch(1024)),
            C2f(ch(1024), ch(1024), n(3), True, cib=True), SPPF(ch(1024), ch(1024)), PSA(ch(1024))])
        self.top_down_p4 = C2f(ch(1024) + ch(512), ch(512), n(3))
        self.top_down_p3 = C2f(ch(512) + ch(256), ch(256), n(3))
        self.downsample_p3 = UltralyticsConv(ch(256), ch(256), 3, 2)
        self.bottom_up_p4 = C2f(ch(256) + ch(512), ch(512), n(3), True, cib=True)
        self.downsample_p4 = SCDown(ch(512), ch(512))
        self.bottom_up_p5 = C2f(ch(512) + ch(1024), ch(1024), n(3), True, cib=True)
        self.head = V10Detect((ch(256), ch(512), ch(1024)), num_classes=num_classes)
        self.register_buffer("person_row", torch.tensor(YOLOV10_PERSON_ROW).view(1, 1, 6), persistent=False)

    def forward(self, images):
        features = []
        x = images
        for layer in self.backbone:
            x = layer(x)
            features.append(x)
        c3, c4, c5 = features[4], features[6], features[10]

        def upsample(t):
            return F.interpolate(t, scale_factor=2.0, mode="nearest")

        p4 = self.top_down_p4(torch.cat([upsample(c5), c4], 1))
        p3 = self.top_down_p3(torch.cat([upsample(p4), c3], 1))
        n4 = self.bottom_up_p4(torch.cat([self.downsample_p3(p3), p4], 1))
        n5 = self.bottom_up_p5(torch.cat([self.downsample_p4(n4), c5], 1))
        dets = self.head([p3, n4, n5])
        return torch.cat([self.person_row.expand(dets.shape[0], 1, 6), dets[:, 1:]], 1)


# ----------------------------------------------------------------------------------------- ViTPose-H wholebody
# ViTAE-Transformer/ViTPose: mmpose/models/backbones/vit.py (ViT, Block, Attention, PatchEmbed) with
# configs/wholebody/2d_kpt_sview_rgb_img/topdown_heatmap/coco-wholebody/ViTPose_huge_wholebody_256x192.py:
# img_size (256, 192), patch 16, embed 1280, depth 32, heads 16, mlp_ratio 4, qkv_bias, ratio 1;
# TopdownHeatmapSimpleHead: 2 deconvs (4x4, stride 2, 256 filters) + BN + ReLU, final 1x1 conv to 133.


class ViTAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, _ = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, -1))


class ViTBlock(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)), x + MLP(LN(x)) (GELU, hidden 4x); LayerNorm eps 1e-6."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = ViTAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(), nn.Linear(int(dim * mlp_ratio), dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DeconvBNReLU(nn.Module):
    """ConvTranspose 4x4 stride 2 (padding 1, no bias) + BatchNorm + ReLU: doubles the map's size."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, output_padding=0, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.deconv(x)))

    @torch.no_grad()
    def fold_batch_norm(self) -> None:
        if isinstance(self.bn, nn.Identity):
            return
        deconv, bn = self.deconv, self.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.ConvTranspose2d(deconv.in_channels, deconv.out_channels, deconv.kernel_size, deconv.stride,
                                   deconv.padding, bias=True)
        fused.weight.copy_(deconv.weight * scale[None, :, None, None])  # weight is [in, out, kh, kw]
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
        self.deconv, self.bn = fused, nn.Identity()


# Where a trained whole-body model puts the 133 COCO-WholeBody keypoints of a person standing upright in its
# crop, as (x, y) fractions of the crop: the body (COCO 17), the feet (6), the face (68, an oval round the
# nose), each hand (21: the wrist, then 4 joints on each of 5 fingers). Eyes to ankles span 2/3 of the crop's
# height: a box round them padded x1.2 (the tracker's keypoint box) and x1.25 (the crop rule) is the crop again.
_BODY_TEMPLATE = [(0.50, 0.19), (0.52, 0.17), (0.48, 0.17), (0.545, 0.18), (0.455, 0.18), (0.60, 0.29),
                  (0.40, 0.29), (0.64, 0.42), (0.36, 0.42), (0.65, 0.53), (0.35, 0.53), (0.56, 0.54), (0.44, 0.54),
                  (0.57, 0.69), (0.43, 0.69), (0.57, 0.837), (0.43, 0.837)]
_FEET_TEMPLATE = [(0.59, 0.86), (0.61, 0.855), (0.565, 0.845), (0.41, 0.86), (0.39, 0.855), (0.435, 0.845)]


def wholebody_template() -> np.ndarray:
    """The 133 template keypoints (x, y), fractions of the crop (see _BODY_TEMPLATE)."""
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    radius = 1.0 - 0.15 * (np.arange(68) % 3)
    face = np.stack([0.5 + 0.04 * radius * np.cos(angles), 0.19 + 0.035 * radius * np.sin(angles)], 1)
    hands = []
    for wrist_x, side in ((0.65, 1.0), (0.35, -1.0)):  # left hand (image right), right hand
        points = [(wrist_x, 0.53)]
        for finger in range(5):
            spread = (finger - 2) * 0.35
            for joint in range(1, 5):
                reach = 0.013 * joint
                points.append((wrist_x + side * reach * math.sin(spread + 0.3), 0.53 + reach * math.cos(spread)))
        hands.append(np.array(points))
    return np.concatenate([np.array(_BODY_TEMPLATE), np.array(_FEET_TEMPLATE), face, *hands])


def template_heatmaps(heatmap_hw=(64, 48), sigma: float = 2.0, peak: float = 0.9) -> torch.Tensor:
    """[1, 133, h, w] Gaussian peaks (sigma 2 cells, ViTPose's training target) at the template keypoints."""
    points = torch.tensor(wholebody_template(), dtype=torch.float32)
    xs = points[:, 0, None, None] * heatmap_hw[1]
    ys = points[:, 1, None, None] * heatmap_hw[0]
    grid_y = torch.arange(heatmap_hw[0], dtype=torch.float32)[None, :, None]
    grid_x = torch.arange(heatmap_hw[1], dtype=torch.float32)[None, None, :]
    return (peak * torch.exp(-((grid_x - xs) ** 2 + (grid_y - ys) ** 2) / (2 * sigma ** 2)))[None]


class ViTPoseNet(nn.Module):
    """ViT backbone + classic decoder: [N, 3, 256, 192] ImageNet-normalised crops -> [N, K, 64, 48] heatmaps.

    The stand-in adds a constant to the heatmaps (one Add): Gaussian peaks at a standing person's keypoints
    (template_heatmaps). Random weights alone give noise maps whose DARK refinement sends keypoints anywhere
    (ours' tracker then crops boxes tens of thousands of pixels wide); a trained model gives one peak per
    keypoint, and so does this, the random part staying small (about +-0.03)."""

    def __init__(self, input_hw=(256, 192), patch: int = 16, dim: int = 1280, depth: int = 32, heads: int = 16,
                 mlp_ratio: float = 4.0, num_keypoints: int = 133, deconv_ch: int = 256):
        super().__init__()
        # PatchEmbed with ratio 1: padding 4 + 2 * (1 // 2 - 1) = 2, so 256 x 192 gives 16 x 12 patches.
        self.patch_embed = nn.Conv2d(3, dim, patch, patch, padding=2)
        self.grid = (input_hw[0] // patch, input_hw[1] // patch)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid[0] * self.grid[1] + 1, dim))  # + the class token's
        self.blocks = nn.ModuleList(ViTBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.last_norm = nn.LayerNorm(dim, eps=1e-6)
        self.deconvs = nn.Sequential(DeconvBNReLU(dim, deconv_ch), DeconvBNReLU(deconv_ch, deconv_ch))
        self.final_layer = nn.Conv2d(deconv_ch, num_keypoints, 1)
        heatmap_hw = (input_hw[0] // 4, input_hw[1] // 4)
        self.register_buffer("heatmap_prior", template_heatmaps(heatmap_hw)[:, :num_keypoints], persistent=False)
        for module in self.modules():  # ViT.init_weights without a checkpoint
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        # The random part of the heatmaps about +-0.03, under the template's peaks of 0.9 (the keypoint scores:
        # visible, so the pipelines draw the skeletons as they would).
        nn.init.normal_(self.final_layer.weight, std=0.0025)
        nn.init.zeros_(self.final_layer.bias)

    def forward(self, x):
        b = x.shape[0]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = x + self.pos_embed[:, 1:] + self.pos_embed[:, :1]
        for block in self.blocks:
            x = block(x)
        x = self.last_norm(x).permute(0, 2, 1).reshape(b, -1, *self.grid)
        return self.final_layer(self.deconvs(x)) + self.heatmap_prior


# ------------------------------------------------------------------------------------ specs, build, checks


@dataclass(frozen=True)
class WanModelSpec(ModelSpec):
    """A ModelSpec with the input scale of the detector (0..1 pixels) and external data (files past 2 GB)."""

    pixel_scale: float = 1.0  # the model sees 0..255 pixels times this (YOLOv10: / 255) unless normalised_input
    external_data: bool = False  # tensors in <stem>_data.bin beside the graph file (Wan's ViTPose-H file)


WAN_MODELS = (
    # THU-MIG/yolov10 README: YOLOv10-M 15.4 M params, 59.1 GFLOPs (ultralytics' thop count: 2 x MACs, fused BN).
    WanModelSpec("yolov10m", "YOLOv10m 640 (end-to-end)", YOLOv10, "images", (3, 640, 640), ("output0",),
                 15.4, 59.1 / 2, normalised_input=False, pixel_scale=1 / 255),
    # ViTPose paper / README: ViTPose-H 632 M params (no MAC count of the whole-body 256x192 model found).
    WanModelSpec("vitpose_h_wholebody", "ViTPose-H wholebody 256x192", ViTPoseNet, "input", (3, 256, 192),
                 ("heatmaps",), 632.0, None, normalised_input=True, external_data=True),
)


def wan_model_inputs(spec: WanModelSpec, count: int, generator: torch.Generator) -> torch.Tensor:
    """Synthetic photo-like inputs as the model gets them (normalised crops, or pixels x pixel_scale)."""
    if spec.normalised_input:
        return model_inputs(spec, count, generator)
    return synthetic_images(count, spec.input_chw[1], spec.input_chw[2], generator) * spec.pixel_scale


def build_wan_weighted(spec: WanModelSpec) -> nn.Module:
    """Seeded random weights, BatchNorms calibrated on synthetic images and folded, eval mode."""
    torch.manual_seed(SEED)
    model = spec.build()
    generator = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        calibrate_batch_norms(model, wan_model_inputs(spec, CALIBRATION_IMAGES, generator))
    for module in model.modules():
        if hasattr(module, "fold_batch_norm"):
            module.fold_batch_norm()
    return model


def wan_data_path(path: Path) -> Path:
    """The external data file of a graph file: <stem>_data.bin beside it."""
    return path.with_name(f"{path.stem}_data.bin")


def export_wan_onnx(model: nn.Module, spec: WanModelSpec, path: Path) -> None:
    """Static batch-1 ONNX with the published names; tensors in <stem>_data.bin where spec.external_data."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        raw = Path(tmp) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
            # Past 2 GB it writes each tensor to its own file beside `raw`; onnx.load reads them back.
            torch.onnx.export(model, (torch.zeros(1, *spec.input_chw),), str(raw), input_names=[spec.input_name],
                              output_names=list(spec.output_names), opset_version=OPSET, do_constant_folding=True,
                              dynamo=False)
        proto = onnx.load(str(raw))
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    proto.producer_name = "bench.models"
    proto.doc_string = f"stand-in {spec.title} with random weights (seed {SEED}); for timing only"
    if spec.external_data:
        data = wan_data_path(path)
        data.unlink(missing_ok=True)  # onnx appends to an existing data file
        onnx.save(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=data.name,
                  size_threshold=1024)
    else:
        onnx.save(proto, str(path))


def check_wan_onnx(spec: WanModelSpec, path: Path) -> dict:
    """Load with onnxruntime (external data included), run a synthetic input, check names, shapes, finiteness,
    and for YOLOv10 that only the fixed person row scores above 1e-2. Returns a few output facts."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    problems = []
    if [i.name for i in inputs] != [spec.input_name] or [o.name for o in outputs] != list(spec.output_names):
        problems.append(f"names {[i.name for i in inputs]} -> {[o.name for o in outputs]}")
    if inputs[0].shape != [1, *spec.input_chw]:
        problems.append(f"input declared as {inputs[0].shape}")
    blob = wan_model_inputs(spec, 1, torch.Generator().manual_seed(SEED + 2)).numpy()
    result = session.run(None, {spec.input_name: blob})[0]
    expected = [1, 300, 6] if spec.name == "yolov10m" else [1, 133, spec.input_chw[1] // 4, spec.input_chw[2] // 4]
    facts = {}
    if list(result.shape) != expected or result.dtype != np.float32 or not np.isfinite(result).all():
        problems.append(f"output {result.dtype} {list(result.shape)} (finite: {np.isfinite(result).all()})")
    elif spec.name == "yolov10m":
        if not np.allclose(result[0, 0], YOLOV10_PERSON_ROW):
            problems.append(f"row 0 is {result[0, 0]}, not the fixed person row")
        facts["max_random_score"] = float(result[0, 1:, 4].max())
        if facts["max_random_score"] >= 1e-2:
            problems.append(f"a random-weight detection scored {facts['max_random_score']:.3g} (must stay < 0.01)")
    else:
        flat = result[0].reshape(result.shape[1], -1)
        facts["heatmap_peak_median"] = float(np.median(flat.max(axis=1)))
        cells = np.stack([flat.argmax(axis=1) % result.shape[3], flat.argmax(axis=1) // result.shape[3]], 1)
        template = wholebody_template() * (result.shape[3], result.shape[2])
        facts["peak_offset_max"] = float(np.abs(cells + 0.5 - template).max())
        if facts["peak_offset_max"] > 1.5:
            problems.append(f"a heatmap peaks {facts['peak_offset_max']:.1f} cells off its template keypoint")
    if problems:
        raise RuntimeError(f"{path}: " + "; ".join(problems))
    return facts


def wan_is_up_to_date(path: Path) -> bool:
    """The graph file (and its data file, if any) as its sidecar recorded them, built by this source."""
    sidecar = sidecar_path(path)
    if not (path.is_file() and sidecar.is_file()):
        return False
    try:
        recorded = json.loads(sidecar.read_text())
    except ValueError:
        return False
    if recorded.get("source_sha256") != WAN_SOURCE_SHA256 or recorded.get("seed") != SEED:
        return False
    files = [(path, recorded.get("bytes"), recorded.get("sha256"))]
    if recorded.get("data_file"):
        files.append((path.with_name(recorded["data_file"]), recorded.get("data_bytes"), recorded.get("data_sha256")))
    return all(file.is_file() and file.stat().st_size == size and file_sha256(file) == digest
               for file, size, digest in files)


def build_wan_models(out_dir: str | Path, verbose: bool = False) -> dict[str, Path]:
    """Write the YOLOv10m and ViTPose-H stand-ins into out_dir (skipping up-to-date ones); {file stem: path}.
    The ViTPose-H file takes a few minutes and ~2.5 GB of disk (vitpose_h_wholebody_data.bin)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for spec in WAN_MODELS:
        path = paths[spec.name] = out_dir / f"{spec.name}.onnx"
        if wan_is_up_to_date(path):
            continue
        if verbose:
            print(f"building {spec.title} -> {path.name}", file=sys.stderr)
        sidecar_path(path).unlink(missing_ok=True)
        model = build_wan_weighted(spec)
        export_wan_onnx(model, spec, path)
        del model
        facts = check_wan_onnx(spec, path)
        record = {"source_sha256": WAN_SOURCE_SHA256, "seed": SEED, "model": spec.title, "dynamic_batch": False,
                  "bytes": path.stat().st_size, "sha256": file_sha256(path), "torch": torch.__version__, **facts}
        if spec.external_data:
            data = wan_data_path(path)
            record.update(data_file=data.name, data_bytes=data.stat().st_size, data_sha256=file_sha256(data))
        sidecar_path(path).write_text(json.dumps(record, indent=1))
    return paths


def wan_complexity(spec: WanModelSpec) -> dict:
    """Parameters (M) and MACs (G) of one batch-1 forward, with and without BatchNorm (published convention:
    YOLOv10's count is of the fused model, so without it)."""
    params, macs = complexity(spec)
    total = published_convention_macs(macs)
    return {"params_m": params / 1e6, "macs_g": total / 1e9, "macs_no_bn_g": (total - 2 * macs["batchnorm"]) / 1e9,
            "attention_g": macs["attention"] / 1e9}


def wan_report(paths: dict[str, Path] | None = None) -> list[str]:
    """Markdown table lines: each Wan stand-in's parameters and MACs beside the published figures."""
    lines = ["| model | params M | published | dev % | GMACs (no BN) | published | dev % | file MB |",
             "|---|---|---|---|---|---|---|---|"]
    for spec in WAN_MODELS:
        c = wan_complexity(spec)
        published_macs = "-" if spec.published_macs_g is None else f"{spec.published_macs_g:.2f}"
        size = "-"
        path = (paths or {}).get(spec.name)
        if path is not None and path.exists():
            data = wan_data_path(path)
            size = f"{(path.stat().st_size + (data.stat().st_size if data.exists() else 0)) / 1e6:.0f}"
        lines.append(f"| {spec.title} | {c['params_m']:.2f} | {spec.published_params_m:g} | "
                     f"{format_deviation(c['params_m'], spec.published_params_m).strip()} | {c['macs_no_bn_g']:.2f} | "
                     f"{published_macs} | {format_deviation(c['macs_no_bn_g'], spec.published_macs_g).strip()} | "
                     f"{size} |")
    return lines


WAN_SOURCE_SHA256 = SOURCE_SHA256  # the whole file, this block included
SOURCE_SHA256 = hashlib.sha256(source_without_wan_block(Path(__file__).read_bytes())).hexdigest()
# ---- Wan 2.2 Animate stand-ins: end ----


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
