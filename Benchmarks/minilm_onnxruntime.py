#!/usr/bin/env python3
"""onnxruntime running all-MiniLM-L6-v2, the reference for `deja bench embed --embedder minilm`.

There is no ONNX file in the model wheel and exporting one the usual way needs PyTorch, so this
script writes the ONNX graph itself from model.safetensors with the `onnx` helpers: embeddings,
six BERT layers (exact GELU, masked softmax attention), mean pooling and L2 normalisation. Before
measuring it checks the graph against fixtures/minilm-reference.jsonl (cosine >= 0.999 on every
sentence), so the numbers are for the same model Deja runs.

It measures what `deja bench embed` measures, in the same table: sentences per second at batch
sizes 1, 8 and 32 on one and on all threads (onnxruntime's intra-op threads), and the median
latency of one call. Tokenisation happens before the clock starts (it is Python here; Deja's
numbers include its own tokeniser), and graph optimisation is on (ORT_ENABLE_ALL), so the
fused attention and GELU kernels of onnxruntime are in play.

    python3 -m venv .anchors/venv && .anchors/venv/bin/pip install numpy onnx onnxruntime
    .anchors/venv/bin/python Benchmarks/minilm_onnxruntime.py --prompts fixtures/prompts-16-tokens.txt
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "fixtures", "src"))
from wordpiece import Tokenizer  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=np.float32).reshape(info["shape"])
    return out


def build_graph(w, layers=6, heads=12, hidden=384, eps=1e-12):
    head = hidden // heads
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, out, **attrs):
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def linear(x, prefix, out):
        y = node("MatMul", [x, const(prefix + ".wt", w[prefix + ".weight"].T)], out + ".mm")
        return node("Add", [y, const(prefix + ".b", w[prefix + ".bias"])], out)

    def layer_norm(x, prefix, out):
        return node("LayerNormalization", [x, const(prefix + ".g", w[prefix + ".weight"]),
                                           const(prefix + ".beta", w[prefix + ".bias"])], out, axis=-1, epsilon=eps)

    # Embeddings: word + position (0..T-1) + token type 0.
    shape = node("Shape", ["input_ids"], "ids_shape")
    length = node("Gather", [shape, const("one", np.array([1], dtype=np.int64))], "seq_len")
    positions = node("Slice", [const("pos", w["embeddings.position_embeddings.weight"]),
                               const("zero", np.array([0], dtype=np.int64)), length], "pos_rows")
    words = node("Gather", [const("words", w["embeddings.word_embeddings.weight"]), "input_ids"], "word_rows")
    summed = node("Add", [node("Add", [words, positions], "wp"),
                          const("type0", w["embeddings.token_type_embeddings.weight"][0])], "emb_sum")
    h = layer_norm(summed, "embeddings.LayerNorm", "h0")

    # Additive mask: 0 for real tokens, -1e4 for padding, shaped [B, 1, 1, T].
    maskf = node("Cast", ["attention_mask"], "maskf", to=TensorProto.FLOAT)
    mask4 = node("Unsqueeze", [maskf, const("axes12", np.array([1, 2], dtype=np.int64))], "mask4")
    bias = node("Mul", [node("Sub", [const("onef", np.array(1, dtype=np.float32)), mask4], "inv"),
                        const("big", np.array(-1e4, dtype=np.float32))], "mask_bias")
    split = const("split_shape", np.array([0, 0, heads, head], dtype=np.int64))
    merge = const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("scale", np.array(1 / np.sqrt(head), dtype=np.float32))

    for i in range(layers):
        p = f"encoder.layer.{i}."
        def heads_of(name):
            y = linear(h, p + "attention.self." + name, f"l{i}.{name}")
            return node("Transpose", [node("Reshape", [y, split], f"l{i}.{name}.r")], f"l{i}.{name}.t", perm=[0, 2, 1, 3])
        q, k, v = heads_of("query"), heads_of("key"), heads_of("value")
        kt = node("Transpose", [k], f"l{i}.kt", perm=[0, 1, 3, 2])
        scores = node("Add", [node("Mul", [node("MatMul", [q, kt], f"l{i}.qk"), scale], f"l{i}.qks"), bias], f"l{i}.scores")
        probs = node("Softmax", [scores], f"l{i}.probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"l{i}.ctx")], f"l{i}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge], f"l{i}.ctx.m")
        attn = linear(ctx, p + "attention.output.dense", f"l{i}.ao")
        h = layer_norm(node("Add", [attn, h], f"l{i}.res1"), p + "attention.output.LayerNorm", f"l{i}.h1")
        up = linear(h, p + "intermediate.dense", f"l{i}.up")
        # Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
        erf = node("Erf", [node("Div", [up, const(f"sqrt2.{i}", np.array(np.sqrt(2), dtype=np.float32))], f"l{i}.d")], f"l{i}.erf")
        gelu = node("Mul", [node("Mul", [up, node("Add", [erf, "onef"], f"l{i}.e1")], f"l{i}.xg"),
                            const(f"half.{i}", np.array(0.5, dtype=np.float32))], f"l{i}.gelu")
        down = linear(gelu, p + "output.dense", f"l{i}.down")
        h = layer_norm(node("Add", [down, h], f"l{i}.res2"), p + "output.LayerNorm", f"l{i}.h2")

    # Mean over real tokens, then L2 normalisation.
    mask3 = node("Unsqueeze", [maskf, const("axis2", np.array([2], dtype=np.int64))], "mask3")
    total = node("ReduceSum", [node("Mul", [h, mask3], "masked"), "one"], "tok_sum", keepdims=0)
    count = node("ReduceSum", [maskf, "one"], "tok_count", keepdims=1)
    mean = node("Div", [total, count], "mean")
    norm = node("ReduceL2", [mean, "one"], "norm", keepdims=1)
    node("Div", [mean, norm], "embedding")

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def session(model_bytes, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def batch_arrays(encoded):
    width = max(len(ids) for ids in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    mask = np.zeros((len(encoded), width), dtype=np.int64)
    for row, e in enumerate(encoded):
        ids[row, : len(e)] = e
        mask[row, : len(e)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "models/all-MiniLM-L6-v2"))
    parser.add_argument("--prompts", default=os.path.join(ROOT, "fixtures/prompts.txt"))
    parser.add_argument("--reference", default=os.path.join(ROOT, "fixtures/minilm-reference.jsonl"))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--batch", default="1,8,32")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    model = build_graph(read_safetensors(os.path.join(args.model, "model.safetensors")))
    onnx.checker.check_model(model)
    model_bytes = model.SerializeToString()
    tokenizer = Tokenizer(os.path.join(args.model, "vocab.txt"))

    with open(args.reference, encoding="utf-8") as f:
        references = [json.loads(line) for line in f if line.strip()]
    check = session(model_bytes, 1)
    worst = 1.0
    for r in references:
        ids = r.get("token_ids") or tokenizer.encode(r["text"])  # wordpiece.py does not split CJK
        got = check.run(None, batch_arrays([ids]))[0][0]
        want = np.array(r["embedding"], dtype=np.float32)
        worst = min(worst, float(got @ want / np.linalg.norm(want)))
    if worst < 0.999:
        raise SystemExit(f"the ONNX graph disagrees with the reference embeddings (worst cosine {worst:.5f})")

    with open(args.prompts, encoding="utf-8") as f:
        prompts = [line.strip() for line in f if line.strip()]
    encoded = [tokenizer.encode(p) for p in prompts]
    tokens = statistics.mean(len(e) for e in encoded)
    print(f"onnxruntime {ort.__version__}, graph checked against the reference (worst cosine {worst:.5f})")
    print(f"prompts: {len(prompts)} from {os.path.relpath(args.prompts)}, {tokens:.1f} tokens on average")
    print("threads  batch  prompts/s  median ms per call")
    for threads in sorted({1, args.threads}):
        s = session(model_bytes, threads)
        for size in [int(b) for b in args.batch.split(",")]:
            batches = [batch_arrays([encoded[(i + j) % len(encoded)] for j in range(size)])
                       for i in range(0, len(encoded), size)]
            s.run(None, batches[0])
            calls, done, start = [], 0, time.perf_counter()
            while time.perf_counter() - start < args.seconds:
                t = time.perf_counter()
                s.run(None, batches[len(calls) % len(batches)])
                calls.append(time.perf_counter() - t)
                done += size
            rate = done / (time.perf_counter() - start)
            print(f"{threads:7d}  {size:5d}  {rate:9.0f}  {statistics.median(calls) * 1000:18.3f}")


if __name__ == "__main__":
    main()
