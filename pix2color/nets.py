"""The nets one training run trains, built from its configuration and seed: the generator
(started from a saved model with `init_from`), in gan mode a conditional PatchGAN, and an
optimizer for each. `pix2color.train.Trainer` builds them once, inside its strategy's scope."""

import contextlib
import dataclasses
import random

import numpy as np

from .modelfile import load_generator, model_path, task_channels
from .models import generator, generator_args, patchgan, transfer_weights
from .optim import make_optimizer


@dataclasses.dataclass(frozen=True)
class Nets:
    """What a run trains. `generator_args`: the builder's arguments, saved with the model;
    `discriminator` and `d_optimizer` are None outside gan mode."""
    generator: object
    generator_args: dict
    discriminator: object
    g_optimizer: object
    d_optimizer: object

    def checkpointed(self):
        """The nets and optimizers by the names a run's checkpoints keep them under."""
        nets = {"generator": self.generator, "g_optimizer": self.g_optimizer}
        if self.discriminator is not None:
            nets.update(discriminator=self.discriminator, d_optimizer=self.d_optimizer)
        return nets

    def weight_bytes(self):
        """Both nets' weights as float32, the unit a run folder's size is counted in."""
        variables = self.generator.variables + (self.discriminator.variables
                                                if self.discriminator is not None else [])
        return sum(int(np.prod(v.shape)) * 4 for v in variables)


def build_nets(config, task, total_steps, policy):
    """The nets of a run of `total_steps` updates under the dtype `policy`, every initializer
    drawn from `config.seed` (in one order: loading `init_from` draws too). In gan mode the
    PatchGAN sees the sketch (or L) with the colour, not the hints."""
    with seeded(config.seed):
        in_channels, out_channels = task_channels(task, config.hints)
        args = generator_args(config.generator, config, size=None, in_channels=in_channels,
                              out_channels=out_channels)
        net = generator(config.generator, **args, dtype=policy)
        if config.init_from:
            start_from(net, args, config, task)
        discriminator = None
        if config.mode == "gan":
            discriminator = patchgan(task.in_channels, task.out_channels,
                                     width=config.disc_width or config.width,
                                     n_layers=config.disc_layers, norm=config.disc_norm,
                                     dtype=policy)
        return Nets(net, args, discriminator,
                    *build_optimizers(config, net, discriminator, total_steps, policy))


def build_optimizers(config, net, discriminator, total_steps, policy):
    """(generator's, discriminator's or None). Each optimizer counts its own updates; the
    discriminator's start after the warm-up."""
    decay_steps = round(config.decay_fraction * total_steps)
    g_optimizer = make_optimizer(config, net, total_steps, decay_steps, policy)
    if discriminator is None:
        return g_optimizer, None
    d_steps = max(total_steps - config.warmup_steps, 1)
    return g_optimizer, make_optimizer(config, discriminator, d_steps,
                                       min(decay_steps, d_steps), policy)


def start_from(net, args, config, task):
    """Copy `config.init_from`'s weights into `net`: the same task, kind and arguments (but
    for the input channels and the hue head: a hint-aware model may grow from a plain one, a
    model with a hue head from one without, whose new weights start at zero)."""
    model = config.init_from
    source, info = load_generator(model_path(model))
    if info.generator["args"].get("hue_head") and not args.get("hue_head"):
        raise ValueError(f"init_from {model}: it has a hue head, which this model would drop "
                         f"(add --hue-head)")
    grown = ("in_channels", "hue_head")
    args = {k: v for k, v in args.items() if k not in grown}
    source_args = {k: v for k, v in info.generator["args"].items() if k not in grown}
    if info.task != task.name or info.generator["kind"] != config.generator \
            or source_args != args:
        raise ValueError(f"init_from {model}: a {info.task} {info.generator['kind']} "
                         f"{source_args} cannot start a {task.name} "
                         f"{config.generator} {args}")
    transfer_weights(source, net)


@contextlib.contextmanager
def seeded(seed):
    """Make the nets built inside start from `seed`, and give the process its random state
    back after. Keras draws the seed of every initializer and dropout layer made without
    one from Python's `random` (keras.random.make_default_seed); what those seeds then
    drive is stateless, so nothing process-wide needs setting (keras.utils.set_random_seed
    would seed NumPy, TensorFlow and Keras's global generator for the whole process)."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)
