import keras
import numpy as np
import pytest

from pix2color.models import patchgan, simple_lab, unet


def test_article_unet_matches_the_table():
    model = unet()
    assert model.count_params() == 21_730_307
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)
             and not isinstance(l, keras.layers.Conv2DTranspose)]
    transposed = [l for l in model.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    assert [l.filters for l in convs] == [64, 128, 256, 512, 512]
    assert [l.filters for l in transposed] == [512, 256, 128, 64, 3]
    assert all(l.kernel_size == (5, 5) and l.strides == (2, 2) for l in convs + transposed)
    assert all(l.activation.__name__ == "relu" for l in transposed[:-1])
    norms = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(norms) == 8 and all(l.momentum == 0.9 for l in norms)
    assert sum(isinstance(l, keras.layers.Add) for l in model.layers) == 4  # additive skips
    assert not any(isinstance(l, keras.layers.Concatenate) for l in model.layers)
    leaky = [l for l in model.layers if isinstance(l, keras.layers.LeakyReLU)]
    assert len(leaky) == 4 and all(abs(float(l.negative_slope) - 0.2) < 1e-6 for l in leaky)
    assert model.output_shape == (None, 128, 128, 3)
    shapes = {l.name: l.output.shape[1:] for l in model.layers}
    assert shapes["e5_norm"] == (4, 4, 512) and shapes["d4_skip"] == (8, 8, 512)
    assert shapes["d1_skip"] == (64, 64, 64)


@pytest.mark.parametrize("shape", [(32, 32), (64, 96), (96, 32)])
@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_unet_runs_at_any_size_divisible_by_2_to_the_depth(shape, upsample):
    model = unet(size=None, width=4, depth=5, upsample=upsample)
    out = model(np.zeros((2, *shape, 3), np.float32))
    assert out.shape == (2, *shape, 3)
    # Huge inputs saturate the output activation: tanh keeps it within the targets' [-1, 1].
    loud = model(np.random.default_rng(0).normal(0, 1e3, (1, *shape, 3)).astype(np.float32))
    assert np.abs(loud).max() <= 1.0 and np.abs(loud).max() > 0.9


def test_unet_knobs():
    lab = unet(size=None, in_channels=1, out_channels=2, width=4, depth=3, norm="instance",
               dropout=0.5)
    assert lab(np.zeros((1, 16, 24, 1), np.float32)).shape == (1, 16, 24, 2)
    assert any(isinstance(l, keras.layers.GroupNormalization) for l in lab.layers)
    assert any(isinstance(l, keras.layers.Dropout) for l in lab.layers)
    plain = unet(size=32, width=4, norm="none")
    assert not any(isinstance(l, (keras.layers.BatchNormalization,
                                  keras.layers.GroupNormalization)) for l in plain.layers)
    with pytest.raises(ValueError, match="divisible"):
        unet(size=100)
    with pytest.raises(ValueError, match="norm"):
        unet(size=32, width=4, norm="layer")


def test_mixed_precision_model_keeps_float32_output():
    model = unet(size=None, width=4, dtype="mixed_bfloat16")
    assert model(np.zeros((1, 32, 32, 3), np.float32)).dtype == "float32"
    assert model.layers[1].compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in model.weights)


def test_simple_lab_is_the_posts_network():
    model = simple_lab()
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert [l.filters for l in convs] == [8, 8, 16, 16, 32, 32, 32, 16, 2]
    assert [l.strides[0] for l in convs] == [2, 1, 1, 2, 1, 2, 1, 1, 1]
    assert all(l.kernel_size == (3, 3) for l in convs)
    assert sum(isinstance(l, keras.layers.UpSampling2D) for l in model.layers) == 3
    assert model(np.zeros((1, 184, 272, 1), np.float32)).shape == (1, 184, 272, 2)


def receptive_field(model):
    """Receptive field of one output unit, from the conv layers' kernels and strides."""
    field = 1
    for layer in reversed([l for l in model.layers if isinstance(l, keras.layers.Conv2D)]):
        field = (field - 1) * layer.strides[0] + layer.kernel_size[0]
    return field


@pytest.mark.parametrize("n_layers, field", [(3, 70), (2, 34), (1, 16)])
def test_patchgan_receptive_field(n_layers, field):
    model = patchgan(width=4, n_layers=n_layers)
    assert receptive_field(model) == field


def test_patchgan_is_conditional_and_outputs_logits():
    model = patchgan(in_channels=1, out_channels=2, width=4, norm="instance")
    logits = model([np.zeros((2, 64, 64, 1), np.float32), np.zeros((2, 64, 64, 2), np.float32)])
    assert logits.shape == (2, 8, 8, 1)
    assert model.layers[-1].activation.__name__ == "linear"  # logits, no sigmoid


def test_generator_arguments_come_from_the_builders():
    """A model file records a builder's own parameters, each taken from the config by name,
    and the model file knows the limits of every one of them."""
    from pix2color.config import GENERATORS, TrainConfig
    from pix2color.modelfile import ARGUMENT_LIMITS
    from pix2color.models import GENERATOR_BUILDERS, generator_args, generator_arguments

    assert tuple(GENERATOR_BUILDERS) == GENERATORS
    assert generator_arguments("simple_lab") == ("size", "raw_l")
    assert generator_arguments("unet")[:3] == ("size", "in_channels", "out_channels")
    for kind in GENERATORS:
        assert set(generator_arguments(kind)) <= set(ARGUMENT_LIMITS), kind
    config = TrainConfig(width=8, depth=3, norm="instance", dropout=0.5, size=32)
    args = generator_args("unet", config, size=None, in_channels=7, out_channels=3)
    assert args == dict(size=None, in_channels=7, out_channels=3, width=8, depth=3,
                        norm="instance", upsample="transpose", dropout=0.5, hue_head=False)
    assert unet(**args).input_shape == (None, None, None, 7)
    gray = TrainConfig(task="gray", generator="simple_lab")
    assert generator_args("simple_lab", gray, size=None, in_channels=1) == {"size": None}


def test_a_hue_head_starts_out_as_the_model_without_it_and_reloads(tmp_path):
    from pix2color.models import transfer_weights

    plain = unet(32, 3, width=4, depth=3)
    headed = unet(32, 3, width=4, depth=3, hue_head=True)
    assert "hue_logits" not in transfer_weights(plain, headed)
    assert headed.get_layer("hue_logits").kernel.shape == (5, 5, 13, 4)
    x = np.random.default_rng(0).random((2, 32, 32, 3), np.float32)
    np.testing.assert_allclose(headed(x), plain(x), atol=1e-4)   # its head starts at zero
    headed.save(tmp_path / "headed.keras")
    reloaded = keras.saving.load_model(tmp_path / "headed.keras", compile=False, safe_mode=True)
    np.testing.assert_array_equal(reloaded(x), headed(x))
    with pytest.raises(ValueError, match="hue_head needs RGB"):
        unet(32, 1, out_channels=2, width=4, depth=3, hue_head=True)


def test_hue_decode_gives_the_colour_the_hue_its_head_chose():
    from pix2color.models import HueDecode

    orange = np.array([[[[0.8, 0.5, 0.2]]]], np.float32) * 2 - 1   # in the tanh range
    decode = HueDecode()

    def decoded(chosen_class):
        logits = 20.0 * np.eye(13, dtype=np.float32)[chosen_class][None, None, None]
        return (decode([orange, logits]).numpy()[0, 0, 0] + 1) / 2

    grey, chroma = 0.5, np.linalg.norm(np.array([0.8, 0.5, 0.2]) - 0.5)
    # classes: 0 neutral, then the 30-degree hue sectors from red: 1 red, 5 green, 9 blue
    for chosen_class, strongest in ((1, 0), (5, 1), (9, 2)):
        colour = decoded(chosen_class)
        assert np.argmax(colour) == strongest
        assert colour.mean() == pytest.approx(grey, abs=1e-4)          # its grey level kept
        assert np.linalg.norm(colour - colour.mean()) == pytest.approx(chroma, abs=1e-3)
    np.testing.assert_allclose(decoded(0), [0.8, 0.5, 0.2], atol=1e-4)  # neutral: its own
