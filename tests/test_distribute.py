"""tf.distribute: 2 logical CPU devices train like one device with the same global batch, and
two workers on localhost train together (MultiWorkerMirroredStrategy)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

# Logical devices must be set before TensorFlow starts, so this runs in a fresh process.
ONE_VS_TWO_DEVICES = """
import json, sys
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from pix2color.data import find_pairs, paired_dataset
from pix2color.train import TrainConfig, Trainer

pairs = find_pairs(sys.argv[1] + "/sketch", sys.argv[1] + "/src")[0][:16]
inputs, targets, _ = next(iter(paired_dataset(pairs, size=32, batch_size=8)))
result = {}
for precision in ("float32", "mixed"):
    config = TrainConfig(mode="gan", size=32, width=4, disc_width=4, batch_size=8,
                         precision=precision, seed=1)
    single = Trainer(config, pairs, logdir=sys.argv[2], run_name="one-" + precision)
    mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    mirrored = Trainer(config, pairs, logdir=sys.argv[2], run_name="two-" + precision,
                       strategy=mirrored_strategy)
    for a, b in ((single.generator, mirrored.generator),
                 (single.discriminator, mirrored.discriminator)):
        b.set_weights(a.get_weights())
    halves = lambda t: mirrored_strategy.experimental_distribute_values_from_function(
        lambda ctx: t[4 * ctx.replica_id_in_sync_group: 4 * (ctx.replica_id_in_sync_group + 1)])
    for _ in range(2):
        single_losses = single.train_step(inputs, targets)
        mirrored_losses = mirrored.train_step(halves(inputs), halves(targets))
    diffs = [float(np.max(np.abs(a - b))) for a, b in zip(
        single.generator.get_weights() + single.discriminator.get_weights(),
        mirrored.generator.get_weights() + mirrored.discriminator.get_weights())]
    result[precision] = {
        "replicas": mirrored_strategy.num_replicas_in_sync, "max_weight_diff": max(diffs),
        "loss_diff": max(abs(single_losses[k] - mirrored_losses[k]) for k in single_losses),
        "finite": all(np.isfinite(v) for v in mirrored_losses.values()),
        "variable_dtypes": sorted({str(v.dtype) for v in mirrored.generator.variables}),
        "compute_dtype": mirrored.generator.layers[1].compute_dtype,
        "synchronized_bn": any(getattr(l, "synchronized", False) for l in mirrored.generator.layers)}
print(json.dumps(result))
"""

pytestmark = pytest.mark.slow  # fresh interpreters with several devices


def test_two_devices_train_like_one_with_the_same_global_batch(pair_tree, tmp_path):
    result = subprocess.run([sys.executable, "-c", ONE_VS_TWO_DEVICES, str(pair_tree),
                             str(tmp_path)], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    exact = measured["float32"]
    assert exact["replicas"] == 2 and exact["synchronized_bn"]
    assert exact["max_weight_diff"] < 1e-4 and exact["loss_diff"] < 1e-4, exact
    mixed = measured["mixed"]                 # bfloat16 compute, float32 variables
    assert mixed["finite"] and mixed["variable_dtypes"] == ["float32"]
    assert mixed["compute_dtype"] == "bfloat16", mixed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_workers(workers, pair_tree, tmp_path, steps, *extra):
    """`pix2color train --strategy multiworker` on every worker of `workers` at once."""
    processes = []
    for index in range(len(workers)):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CONFIG=json.dumps(tf_config))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "pix2color", "train", "--data", str(pair_tree), "--steps",
             str(steps), "--width", "4", "--size", "32", "--batch-size", "4", "--precision",
             "float32", "--strategy", "multiworker", "--logdir", str(tmp_path / "runs"),
             "--run-name", "two-workers", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    return [out for out, _ in outputs]


def test_two_workers_on_localhost_train_checkpoint_once_and_resume(pair_tree, tmp_path):
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    run_workers(workers, pair_tree, tmp_path, 3, "--checkpoint-every", "3")
    run = tmp_path / "runs" / "two-workers"
    assert sorted(p.name for p in (run / "checkpoints").glob("ckpt-*.index")) == ["ckpt-3.index"]
    assert not list(run.glob(".worker-*"))              # the other worker's copies are gone
    assert (run / "model" / "generator.keras").exists()
    assert len(list((run / "train").glob("events.out.tfevents.*"))) == 1  # the chief logs
    for out in run_workers(workers, pair_tree, tmp_path, 5, "--checkpoint-every", "100",
                           "--resume"):
        assert "(step 3)" in out                          # both workers resumed at step 3
    assert (run / "checkpoints" / "ckpt-5.index").exists()
