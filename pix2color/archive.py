"""What a saved generator's Keras configuration implies, read before Keras builds anything:
the output channels of each layer and the weights they hold. `pix2color.modelfile` refuses a
`.keras` file whose network is not a pix2color generator or is too large to build."""

# The layers pix2color's generators are made of (pix2color.models), and how many weights
# each holds given its input channels; an archive naming any other layer is refused.
LAYER_PARAMETERS = {
    "Conv2D": lambda c, ch: _kernel(c) * ch * c["filters"] + c["filters"] * c["use_bias"],
    "Conv2DTranspose": lambda c, ch: _kernel(c) * ch * c["filters"] + c["filters"] * c["use_bias"],
    "BatchNormalization": lambda c, ch: 4 * ch,   # gamma, beta, moving mean and variance
    "GroupNormalization": lambda c, ch: 2 * ch,
    **{name: lambda c, ch: 0 for name in ("InputLayer", "LeakyReLU", "Identity", "Add",
                                          "UpSampling2D", "Dropout", "Activation",
                                          "Rescaling", "HueDecode")},
}
MAX_PARAMETERS = 200_000_000  # 800 MB of float32 weights; the bundled sketch model has 5.4 M


def _kernel(config):
    height, width = config["kernel_size"]
    return int(height) * int(width)


def archive_network(network):
    """A functional model's saved configuration -> ({layer name: output channels}, the
    number of parameters its layers hold), read layer by layer in the saved order. Raises
    KeyError, TypeError, ValueError or IndexError for anything else."""
    if network["class_name"] != "Functional":
        raise ValueError(f"a {network['class_name']!r} model, not a functional one")
    channels, parameters = {}, 0
    for layer in network["config"]["layers"]:
        kind, config, name = layer["class_name"], layer["config"], layer["name"]
        if kind not in LAYER_PARAMETERS:
            raise ValueError(f"layer {name!r} is a {kind}, which pix2color generators do not "
                             f"use")
        if kind == "InputLayer":
            inbound = int(config["batch_shape"][-1])
        else:
            # The channels of the layer's first input: the output of a layer named before it.
            node = layer["inbound_nodes"][0]["args"][0]
            source = (node[0] if isinstance(node, list) else node)["config"]["keras_history"][0]
            inbound = channels[source]
        parameters += int(LAYER_PARAMETERS[kind](config, inbound))
        channels[name] = int(config.get("filters", inbound))
    return channels, parameters
