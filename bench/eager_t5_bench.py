#!/usr/bin/python3
"""Eager-PyTorch reference benchmark: T5 v1.1 training steps, computed like HuggingFace.

This re-implements HuggingFace's T5ForConditionalGeneration (T5 v1.1: gated-GELU FFN,
untied lm_head, dropout 0 as in pre-training) in plain eager PyTorch, without the
`transformers` package, so its training speed can be compared with GrowthStudio's C++
engine on the same LibTorch (Debian's 1.13).

Run it with the system interpreter, which is where Debian's `python3-torch` lives
(the `python3` first on PATH may be a pyenv one without torch):

    apt-get install -y python3-torch
    /usr/bin/python3 bench/eager_t5_bench.py --preset tiny --batch 8 --input-len 512 \
        --target-len 114 --steps 10 --warmup 2 --json

With --json the last line of stdout is one JSON object (steps_per_s, tokens_per_s,
seconds_per_step, loss, torch_version, threads, config). --check-parameters only builds
the model and prints its parameter count (t5-v1_1-base's shape gives 247577856).
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    # name: (layers, decoder_layers, d_model, heads, d_kv, d_ff); vocab is 32128 for all.
    "tiny": (6, 6, 512, 8, 64, 1024),
    "small": (12, 12, 512, 8, 64, 1024),
    "base": (12, 12, 768, 12, 64, 3072),
}
NUM_BUCKETS = 32
MAX_DISTANCE = 128
EPS = 1e-6
DECODER_START_TOKEN_ID = 0
PAD_TOKEN_ID = 0


# --------------------------------------------------------------------------- model


class RMSNorm(nn.Module):
    """T5LayerNorm: scale only, no mean subtraction and no bias; variance in fp32."""

    def __init__(self, d_model):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x):
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + EPS)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return self.weight * x


def relative_position_bucket(relative_position, bidirectional):
    """HF's T5Attention._relative_position_bucket, line for line."""
    num_buckets = NUM_BUCKETS
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    # Half the buckets are exact offsets, the other half grow logarithmically up to MAX_DISTANCE.
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    if_large = max_exact + (
        torch.log(relative_position.float() / max_exact)
        / math.log(MAX_DISTANCE / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    if_large = torch.min(if_large, torch.full_like(if_large, num_buckets - 1))
    return buckets + torch.where(is_small, relative_position, if_large)


class Attention(nn.Module):
    """T5Attention: bias-free projections and no 1/sqrt(d_kv) score scaling (T5 folds
    it into the q initialisation). Only block 0 of a stack owns a relative bias table."""

    def __init__(self, d_model, heads, d_kv, has_relative_bias, bidirectional):
        super().__init__()
        inner = heads * d_kv
        self.heads, self.d_kv, self.bidirectional = heads, d_kv, bidirectional
        self.q = nn.Linear(d_model, inner, bias=False)
        self.k = nn.Linear(d_model, inner, bias=False)
        self.v = nn.Linear(d_model, inner, bias=False)
        self.o = nn.Linear(inner, d_model, bias=False)
        self.relative_attention_bias = nn.Embedding(NUM_BUCKETS, heads) if has_relative_bias else None

    def compute_bias(self, query_len, key_len, device):
        """[1, H, q, k] learned bias indexed by the bucketed key-minus-query offset."""
        context = torch.arange(query_len, dtype=torch.long, device=device)[:, None]
        memory = torch.arange(key_len, dtype=torch.long, device=device)[None, :]
        buckets = relative_position_bucket(memory - context, self.bidirectional)
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)

    def split_heads(self, x):
        return x.view(x.size(0), -1, self.heads, self.d_kv).transpose(1, 2)

    def forward(self, x, position_bias, key_value=None):
        """`position_bias` already holds relative bias + additive mask, [1 or B, H, q, k]."""
        batch = x.size(0)
        kv_source = x if key_value is None else key_value
        q = self.split_heads(self.q(x))
        k = self.split_heads(self.k(kv_source))
        v = self.split_heads(self.v(kv_source))
        scores = torch.matmul(q, k.transpose(3, 2)) + position_bias
        weights = F.softmax(scores.float(), dim=-1).type_as(scores)  # softmax in fp32, as HF
        out = torch.matmul(weights, v).transpose(1, 2).contiguous().view(batch, -1, self.heads * self.d_kv)
        return self.o(out)


def gelu_new(x):
    """HF's NewGELUActivation ("gelu_new"), the explicit tanh formula HF runs in eager."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GatedFFN(nn.Module):
    """T5DenseGatedActDense: wo(gelu_tanh(wi_0 x) * wi_1 x)."""

    def __init__(self, d_model, d_ff, fused_gelu):
        super().__init__()
        self.wi_0 = nn.Linear(d_model, d_ff, bias=False)
        self.wi_1 = nn.Linear(d_model, d_ff, bias=False)
        self.wo = nn.Linear(d_ff, d_model, bias=False)
        # The C++ engine calls at::gelu(x, "tanh"); HF eager uses the unfused formula.
        self.act = (lambda x: F.gelu(x, approximate="tanh")) if fused_gelu else gelu_new

    def forward(self, x):
        return self.wo(self.act(self.wi_0(x)) * self.wi_1(x))


class Block(nn.Module):
    """Pre-norm residual block: x = x + Sublayer(RMSNorm(x)) for each sublayer."""

    def __init__(self, cfg, is_decoder, has_relative_bias):
        super().__init__()
        d = cfg.d_model
        self.self_norm = RMSNorm(d)
        self.self_attn = Attention(d, cfg.heads, cfg.d_kv, has_relative_bias, bidirectional=not is_decoder)
        self.cross_norm = RMSNorm(d) if is_decoder else None
        self.cross_attn = Attention(d, cfg.heads, cfg.d_kv, False, False) if is_decoder else None
        self.ff_norm = RMSNorm(d)
        self.ff = GatedFFN(d, cfg.d_ff, cfg.fused_gelu)

    def forward(self, x, self_bias, encoder_out=None, cross_bias=None):
        x = x + self.self_attn(self.self_norm(x), self_bias)
        if self.cross_attn is not None:
            x = x + self.cross_attn(self.cross_norm(x), cross_bias, key_value=encoder_out)
        return x + self.ff(self.ff_norm(x))


class Stack(nn.Module):
    """T5Stack: blocks then a final RMSNorm. Block 0's relative bias is shared by all blocks."""

    def __init__(self, cfg, num_layers, is_decoder):
        super().__init__()
        self.is_decoder = is_decoder
        self.blocks = nn.ModuleList(Block(cfg, is_decoder, has_relative_bias=(i == 0)) for i in range(num_layers))
        self.final_norm = RMSNorm(cfg.d_model)

    def forward(self, x, encoder_out=None):
        batch, length = x.shape[:2]
        min_value = torch.finfo(x.dtype).min
        # Additive masks as HF builds them: (1 - mask) * finfo.min. Inputs are unpadded, so the
        # padding mask is all ones (adds zeros) and only the decoder's causal part masks anything.
        if self.is_decoder:
            keep = torch.tril(torch.ones(length, length, device=x.device, dtype=x.dtype))
        else:
            keep = torch.ones(length, length, device=x.device, dtype=x.dtype)
        self_mask = ((1.0 - keep) * min_value)[None, None]
        self_bias = self.blocks[0].self_attn.compute_bias(length, length, x.device) + self_mask
        cross_bias = None
        if encoder_out is not None:
            # Cross-attention has no relative bias: HF uses zeros plus the encoder padding mask.
            enc_keep = torch.ones(batch, encoder_out.size(1), device=x.device, dtype=x.dtype)
            cross_bias = ((1.0 - enc_keep) * min_value)[:, None, None, :]
        for block in self.blocks:
            x = block(x, self_bias, encoder_out, cross_bias)
        return self.final_norm(x)


class T5(nn.Module):
    """T5ForConditionalGeneration (v1.1): shared unscaled embedding, untied lm_head."""

    def __init__(self, cfg):
        super().__init__()
        self.shared = nn.Embedding(cfg.vocab, cfg.d_model)
        self.encoder = Stack(cfg, cfg.layers, is_decoder=False)
        self.decoder = Stack(cfg, cfg.decoder_layers, is_decoder=True)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)
        init_weights(self, cfg)

    def forward(self, input_ids, labels):
        encoder_out = self.encoder(self.shared(input_ids))
        decoder_out = self.decoder(self.shared(shift_right(labels)), encoder_out)
        # Untied head: HF only rescales by d_model^-0.5 when the head is tied to `shared`.
        logits = self.lm_head(decoder_out)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)


def shift_right(labels):
    """Decoder input: labels shifted right behind the start token, -100 turned into pad."""
    shifted = labels.new_zeros(labels.shape)
    shifted[:, 1:] = labels[:, :-1].clone()
    shifted[:, 0] = DECODER_START_TOKEN_ID
    return shifted.masked_fill(shifted == -100, PAD_TOKEN_ID)


def init_weights(model, cfg):
    """HF's T5PreTrainedModel._init_weights with initializer_factor 1.0."""
    nn.init.normal_(model.shared.weight, std=1.0)
    nn.init.normal_(model.lm_head.weight, std=1.0)
    for module in model.modules():
        if isinstance(module, RMSNorm):
            nn.init.ones_(module.weight)
        elif isinstance(module, Attention):
            # q carries the 1/sqrt(d_kv) that the scores leave out.
            nn.init.normal_(module.q.weight, std=(cfg.d_model * cfg.d_kv) ** -0.5)
            nn.init.normal_(module.k.weight, std=cfg.d_model ** -0.5)
            nn.init.normal_(module.v.weight, std=cfg.d_model ** -0.5)
            nn.init.normal_(module.o.weight, std=(cfg.heads * cfg.d_kv) ** -0.5)
            if module.relative_attention_bias is not None:
                nn.init.normal_(module.relative_attention_bias.weight, std=cfg.d_model ** -0.5)
        elif isinstance(module, GatedFFN):
            nn.init.normal_(module.wi_0.weight, std=cfg.d_model ** -0.5)
            nn.init.normal_(module.wi_1.weight, std=cfg.d_model ** -0.5)
            nn.init.normal_(module.wo.weight, std=cfg.d_ff ** -0.5)


# --------------------------------------------------------------------------- benchmark


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), help="model size; explicit flags override it")
    p.add_argument("--vocab", type=int)
    p.add_argument("--d-model", type=int)
    p.add_argument("--d-kv", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--d-ff", type=int)
    p.add_argument("--layers", type=int, help="encoder layers")
    p.add_argument("--decoder-layers", type=int, help="decoder layers (default: --layers)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--input-len", type=int, default=512)
    p.add_argument("--target-len", type=int, default=114)
    p.add_argument("--steps", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before the timed ones")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fused-gelu", action="store_true",
                   help="use F.gelu(approximate='tanh') like the C++ engine instead of HF's unfused gelu_new")
    p.add_argument("--check-parameters", action="store_true", help="build the model, print its parameter count, exit")
    p.add_argument("--json", action="store_true", help="end stdout with one JSON line of results")
    args = p.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        p.error("--steps and --threads must be at least 1, --warmup at least 0")
    resolve_config(p, args)
    return args


def resolve_config(parser, args):
    """Fill the model shape from --preset (default tiny when nothing is given), then explicit flags."""
    shape = ("layers", "decoder_layers", "d_model", "heads", "d_kv", "d_ff")
    explicit = [name for name in shape + ("vocab",) if getattr(args, name) is not None]
    preset = args.preset or ("tiny" if not explicit else None)
    defaults = dict(zip(shape, PRESETS[preset])) if preset else {}
    defaults["vocab"] = 32128
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.decoder_layers is None:
        args.decoder_layers = args.layers
    # --decoder-layers is optional: it follows --layers.
    missing = [name for name in shape if name != "decoder_layers" and getattr(args, name) is None]
    if missing:
        parser.error("without --preset, give --" + ", --".join(m.replace("_", "-") for m in missing))


def model_config(args):
    keys = ("vocab", "d_model", "d_kv", "heads", "d_ff", "layers", "decoder_layers", "fused_gelu")
    return {key: getattr(args, key) for key in keys}


def count_parameters(model):
    # model.parameters() yields each tensor once, as HF's num_parameters() counts them.
    return sum(p.numel() for p in model.parameters())


def random_batch(args, generator):
    """Token ids in [2, V): clear of pad (0) and eos (1), so no position is ignored."""
    inputs = torch.randint(2, args.vocab, (args.batch, args.input_len), generator=generator)
    labels = torch.randint(2, args.vocab, (args.batch, args.target_len), generator=generator)
    return inputs, labels


def train_step(model, optimizer, inputs, labels):
    loss = model(inputs, labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()  # .item() also waits for the step to finish


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = model_config(args)
    model = T5(argparse.Namespace(**config))

    if args.check_parameters:
        print(f"parameters: {count_parameters(model)}")
        return 0

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(args.seed)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{count_parameters(model)} parameters, config {config}", flush=True)

    # A fresh random batch per step, drawn outside the timed region.
    batches = [random_batch(args, generator) for _ in range(args.warmup + args.steps)]
    loss = None
    for step, (inputs, labels) in enumerate(batches[:args.warmup]):
        loss = train_step(model, optimizer, inputs, labels)
        print(f"warmup step {step + 1}/{args.warmup}: loss {loss:.4f}", flush=True)

    start = time.perf_counter()
    for inputs, labels in batches[args.warmup:]:
        loss = train_step(model, optimizer, inputs, labels)
    elapsed = time.perf_counter() - start

    seconds_per_step = elapsed / args.steps
    steps_per_s = args.steps / elapsed
    tokens_per_s = steps_per_s * args.batch * (args.input_len + args.target_len)
    print(f"{steps_per_s:.4f} steps/s, {tokens_per_s:.1f} tokens/s, "
          f"{seconds_per_step:.4f} s/step, final loss {loss:.4f}")
    if args.json:
        print(json.dumps({
            "steps_per_s": steps_per_s,
            "tokens_per_s": tokens_per_s,
            "seconds_per_step": seconds_per_step,
            "loss": loss,
            "torch_version": torch.__version__,
            "threads": torch.get_num_threads(),
            "config": dict(config, batch=args.batch, input_len=args.input_len, target_len=args.target_len,
                           steps=args.steps, warmup=args.warmup, seed=args.seed),
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
