"""tf.distribute for training: picking a strategy by name, and what a replica or a worker
needs to know about the others (its share of the batch, whether it is the chief)."""

import json
import os

import tensorflow as tf


def global_batch_share(inputs):
    """This replica's share of the global batch. Losses are means over a replica's batch and
    the replicas' gradients are summed, so scaling by the share gives the gradient of the
    mean over the global batch: the same update as one device with the whole batch."""
    local = tf.cast(tf.shape(inputs)[0], tf.float32)
    return local / tf.distribute.get_replica_context().all_reduce("SUM", local)


def worker_count(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    return max(1, sum(len(cluster.get(kind, [])) for kind in ("chief", "worker")))


def is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if worker_count(strategy) == 1:
        return True
    return (resolver.task_type in ("chief", None) or
            (resolver.task_type == "worker" and resolver.task_id == 0 and
             "chief" not in resolver.cluster_spec().as_dict()))


def task_id(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    return getattr(resolver, "task_id", 0) or 0


def make_strategy(name="auto"):
    """A tf.distribute strategy by name: `none` (one device), `mirrored` (all local GPUs, or
    CPU), `multiworker` (hosts listed in the TF_CONFIG environment variable), `tpu`, or
    `auto` (the default): multiworker when TF_CONFIG lists several workers, mirrored when
    there are several GPUs, none otherwise."""
    if name == "auto":
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
        if sum(len(hosts) for hosts in cluster.values()) > 1:
            name = "multiworker"
        else:
            name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"strategy must be auto, mirrored, multiworker, tpu or none, got {name!r}")
