"""What a user would write instead of the batch pipeline: pandas.read_csv, onnxruntime at batch
1024 (one intra-op thread, as ours), a JSONL writer (pandas to_json lines). Prints one JSON line
of seconds per stage. Usage: python-anchor.py MODEL.onnx INPUT.csv OUTPUT.jsonl"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort
import pandas as pd

model, source, target = sys.argv[1:4]
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
output_names = [o.name for o in session.get_outputs()]

started = time.perf_counter()
frame = pd.read_csv(source)
features = frame.to_numpy(dtype=np.float32)
read = time.perf_counter() - started

started = time.perf_counter()
parts = {name: [] for name in output_names}
for start in range(0, len(features), 1024):
    for name, value in zip(output_names, session.run(output_names, {input_name: features[start:start + 1024]})):
        parts[name].append(value)
outputs = {name: np.concatenate(values) for name, values in parts.items()}
infer = time.perf_counter() - started

started = time.perf_counter()
columns = {"row": np.arange(len(features))}
for name, value in outputs.items():
    columns[name] = list(value) if value.ndim > 1 else value
pd.DataFrame(columns).to_json(target, orient="records", lines=True)
write = time.perf_counter() - started

print(json.dumps({"rows": len(features), "read_s": read, "infer_s": infer, "write_s": write, "total_s": read + infer + write}))
