"""Tasks: what a model colours, and how pictures go to and from the network's space.

A `Task` owns what differs between colouring line art and colouring grayscale photos: the
network's channels and colour space, how an RGB picture becomes its input and target, how its
output becomes RGB again, and what the user is told. Data, models, training, the `Colorizer`
and the export ask the task instead of testing its name, so a new task is one new object in
`TASKS`. Importing this module does not start TensorFlow (the CLI's `--help` needs the names).
"""

from .files import LUMA


class Task:
    """The shared vocabulary; `LineArt` and `Grayscale` fill it in. Pictures are RGB in
    [0, 1]; network tensors are in [-1, 1] (the generator's tanh range)."""

    name = ""
    colour_space = ""        # what the network predicts: "rgb" or "lab"
    in_channels = 0          # the picture's channels in the input (hint channels come after)
    out_channels = 0
    line_art = False         # inputs are line art: the line-art fills (pix2color.fills),
                             # layers and XDoG lines apply
    keeps_lightness = False  # the network predicts chroma; the output keeps the input's L
    input_from_target = False  # a training pair is one colour picture (its input is made from it)
    made_for = ""            # what a user should give it, in words
    looks_wrong = ""         # what an input that does not suit it looks like (see input_kind.py)
    other = ""               # the bundled model to suggest for such an input
    example = ""             # a file name for examples in messages

    def network_input(self, rgb):
        """A picture -> the generator's input channels (without hints)."""
        raise NotImplementedError

    def network_target(self, rgb):
        """A picture -> what the generator is trained to output; also a hint's colour."""
        raise NotImplementedError

    def network_pair(self, source, colour):
        """A training pair -> (input, target): `source` the input picture, `colour` the
        target; pass the same tensor for both when the input is made from the target."""
        return self.network_input(source), self.network_target(colour)

    def to_rgb(self, inputs, outputs):
        """Network input and output -> RGB in [-1, 1] (what metrics and image logs take)."""
        raise NotImplementedError

    def shown_input(self, inputs):
        """The input as a picture to show beside the output, RGB in [-1, 1]."""
        raise NotImplementedError

    def input_lightness(self, network_input):
        """Numpy: the input's lightness in [0, 1], to tell whether it suits the model."""
        raise NotImplementedError

    def __repr__(self):
        return f"<task {self.name}>"


class LineArt(Task):
    """Line art (RGB) -> colour (RGB), as the sketch-painting article does."""

    name, colour_space, in_channels, out_channels = "sketch", "rgb", 3, 3
    line_art = True
    made_for, looks_wrong, other, example = "line art", "photo", "gray", "DRAWING.png"

    def network_input(self, rgb):
        return rgb * 2.0 - 1.0

    network_target = network_input

    def to_rgb(self, inputs, outputs):
        import tensorflow as tf

        return tf.cast(outputs, tf.float32)

    def shown_input(self, inputs):
        return inputs[..., :3]

    def input_lightness(self, network_input):
        return (network_input[..., :3] + 1.0) / 2.0 @ LUMA


class Grayscale(Task):
    """Grayscale -> colour in CIE Lab: L in, ab out, as the grayscale article does; the
    output keeps the input's own full-resolution lightness."""

    name, colour_space, in_channels, out_channels = "gray", "lab", 1, 2
    keeps_lightness = input_from_target = True
    made_for, looks_wrong, other, example = "grayscale photos", "line art", "sketch", "PHOTO.jpg"

    def network_input(self, rgb):
        from .color import lab_to_network, rgb_to_lab

        return lab_to_network(rgb_to_lab(rgb))[0]

    def network_target(self, rgb):
        from .color import lab_to_network, rgb_to_lab

        return lab_to_network(rgb_to_lab(rgb))[1]

    def network_pair(self, source, colour):
        from .color import lab_to_network, rgb_to_lab

        l_input, ab = lab_to_network(rgb_to_lab(colour))  # one Lab conversion for both
        return (l_input if source is colour else self.network_input(source)), ab

    def to_rgb(self, inputs, outputs):
        import tensorflow as tf

        from .color import lab_to_rgb, network_to_lab

        lab = network_to_lab(inputs[..., : self.in_channels], tf.cast(outputs, tf.float32))
        return lab_to_rgb(lab) * 2.0 - 1.0

    def shown_input(self, inputs):
        import tensorflow as tf

        l_input = inputs[..., : self.in_channels]
        return self.to_rgb(l_input, tf.concat([tf.zeros_like(l_input)] * self.out_channels, -1))

    def input_lightness(self, network_input):
        return (network_input[..., 0] + 1.0) / 2.0


TASKS = {task.name: task for task in (LineArt(), Grayscale())}
TASK_NAMES = tuple(TASKS)


def get_task(task):
    """A task's name (or the task itself) -> the `Task`."""
    if isinstance(task, Task):
        return task
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASK_NAMES}, got {task!r}")
    return TASKS[task]
