"""Precision, learning-rate schedules and optimizers for training."""

from pathlib import Path

import keras
import tensorflow as tf


def resolve_precision(precision):
    """The Keras dtype policy for `precision`: `auto` takes mixed precision where the
    hardware runs it natively (float16 on CUDA GPUs, bfloat16 on CPUs with AVX512-BF16 or
    AMX), float32 otherwise; `mixed` takes it everywhere."""
    if precision == "float32":
        return "float32"
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    if precision == "mixed" or cpu_has_native_bfloat16():
        return "mixed_bfloat16"
    return "float32"


def cpu_has_native_bfloat16():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then linear decay to zero over the last `decay_steps`."""

    def __init__(self, learning_rate, total_steps, decay_steps):
        self.learning_rate = learning_rate
        self.total_steps = total_steps
        self.decay_steps = decay_steps

    def __call__(self, step):
        if not self.decay_steps:
            return tf.constant(self.learning_rate, tf.float32)
        remaining = tf.cast(self.total_steps, tf.float32) - tf.cast(step, tf.float32)
        fraction = tf.clip_by_value(remaining / self.decay_steps, 0.0, 1.0)
        return self.learning_rate * fraction

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps,
                "decay_steps": self.decay_steps}


def make_optimizer(config, model, total_steps, decay_steps, policy):
    """Adam (or RMSprop) for `model` over `total_steps` updates, the last `decay_steps`
    decaying to 0; loss scaling under mixed float16. Built at once, so a checkpoint can
    restore its slots."""
    schedule = ConstantThenLinearDecay(config.learning_rate, total_steps, decay_steps)
    if config.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(schedule)
    else:
        optimizer = keras.optimizers.Adam(schedule, beta_1=config.beta_1)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(model.trainable_variables)
    return optimizer
