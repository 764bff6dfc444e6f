"""A tiny, randomly initialised diffusers `WanAnimatePipeline`, built offline in a few seconds.

The component classes and sizes follow diffusers' own fast test of the pipeline
(tests/pipelines/wan/test_wan_animate.py, WanAnimatePipelineFastTests.get_dummy_components, huggingface/diffusers
@ 1e61ed7): AutoencoderKLWan (base_dim 3, z_dim 16, temporal downsampling x4, spatial x8),
FlowMatchEulerDiscreteScheduler(shift=7), a 2-layer WanAnimateTransformer3DModel, a 4-wide CLIP vision encoder and
its CLIPImageProcessor. Two differences, so that nothing comes from the Hugging Face Hub and the face video goes in
at the real model's size:

- the text encoder is a 2-layer T5EncoderModel built from a config (diffusers loads
  hf-internal-testing/tiny-random-t5), with the byte-level CLIP tokenizer of tiny_diffusion.py;
- the transformer's motion encoder takes 512 x 512 faces (`motion_encoder_size=512`, the model's default and Wan
  2.2 Animate's; diffusers' test uses 16), with a few channels at each of its resolutions.

Needs torch, diffusers (with WanAnimatePipeline) and transformers.
"""

from __future__ import annotations

import json
from pathlib import Path

FACE_SIZE = 512  # WanAnimateTransformer3DModel's default motion_encoder_size
TEXT_DIM = 32


def motion_encoder_channels(size: int = FACE_SIZE) -> dict[str, int]:
    """A channel count for each resolution the motion encoder steps through (size, size/2, ..., 4): narrow at the
    large resolutions, so 512 x 512 faces stay cheap on a CPU."""
    channels, side = {}, size
    while side >= 4:
        channels[str(side)] = 4 if side > 32 else 16
        side //= 2
    return channels


def tiny_wan_animate_pipeline(work_dir: str | Path):
    """The pipeline (on the CPU, float32, seeded); `work_dir` holds the tokenizer's vocabulary files."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanAnimatePipeline,
        WanAnimateTransformer3DModel,
    )
    from tiny_diffusion import byte_level_vocab
    from transformers import (
        CLIPImageProcessor,
        CLIPTokenizer,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
        T5Config,
        T5EncoderModel,
    )

    vocab = byte_level_vocab()
    vocab_dir = Path(work_dir) / "vocab"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    (vocab_dir / "vocab.json").write_text(json.dumps(vocab))
    (vocab_dir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer.from_pretrained(vocab_dir, model_max_length=64)

    torch.manual_seed(0)
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=len(vocab), d_model=TEXT_DIM, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        pad_token_id=vocab["<|endoftext|>"], eos_token_id=vocab["<|endoftext|>"]))

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])

    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)

    torch.manual_seed(0)
    transformer = WanAnimateTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, latent_channels=16,
        out_channels=16, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", image_dim=4, rope_max_seq_len=32,
        motion_encoder_channel_sizes=motion_encoder_channels(), motion_encoder_size=FACE_SIZE, motion_style_dim=8,
        motion_dim=4, motion_encoder_dim=16, face_encoder_hidden_dim=16, face_encoder_num_heads=2,
        inject_face_latents_blocks=2)

    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=4,
        intermediate_size=16, patch_size=1))
    image_processor = CLIPImageProcessor(crop_size=4, size=4)

    pipeline = WanAnimatePipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                                  image_processor=image_processor, image_encoder=image_encoder,
                                  transformer=transformer)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to("cpu")
