"""The flags the experiment scripts share, and their mapping onto the config dataclasses.

Flag names are the config fields' names (docs/design.md). Nothing here imports TensorFlow:
a bad flag stops a script before TensorFlow is loaded.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable

from absl import flags

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.core.config import OPTIMIZERS, PathNetConfig
from pathnet_tf.core.shapes import COMPUTE_MODES
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.evolution.genetic import BOUNDARIES
from pathnet_tf.experiments import protocol
from pathnet_tf.experiments.config import NOISE_DRAWS
from pathnet_tf.files.workdir import RunTerminated
from pathnet_tf.runs.modes import MODES

FLAGS = flags.FLAGS

# The protocol switches' flags (README "Flags"): the paper's choice first, the TF1 code's
# second.
SWITCH_HELP = {
    "frozen_path": "Modules frozen by earlier tasks: available to a pathway that picks "
                   "them (the paper) or always_on, in every forward pass (TF1 code).",
    "aggregation": "A layer's output: the sum of its active modules' outputs (the paper) "
                   "or that sum / M (mean, TF1 code).",
    "module_types": "linear ReLU modules (the paper) or tf1: after layer 1, module j is "
                    "identity, linear or residual for j mod 3 = 0, 1, 2.",
    "init": "Module and readout initialisation: glorot uniform and zero biases, or tf1: "
            "truncated normal sd 0.1 and biases 0.1.",
    "tournament": "fair: candidates start from the same weights and minibatches, the "
                  "winner's weights kept; shared: they train in turn on the same weights, "
                  "each on its own minibatches, all updates kept (TF1 code).",
    "genotype": "Mutation: paper (offsets in [-2, 2], rate 1/(L*N)) or tf1_mask (offsets "
                "in {-4..-1}, rate 2/(L*N), a path can lose modules).",
}


def define_pathnet_flags(net: PathNetConfig, evo: EvolutionConfig, *, units_help: str,
                         threshold_help: str, max_generations_help: str,
                         learning_rate_help: str) -> None:
    """The network, the genetic algorithm and the training of the candidates."""
    flags.DEFINE_integer("num_layers", net.num_layers, "L: layers of modules.")
    flags.DEFINE_integer("num_modules", net.num_modules, "M: modules per layer.")
    flags.DEFINE_integer("num_active", net.num_active, "N: modules a pathway uses per layer.")
    flags.DEFINE_integer("units", net.units, units_help)
    flags.DEFINE_enum("compute", net.compute, list(COMPUTE_MODES),
                      "Run only the N active modules (gather) or all M, masked (mask).")
    flags.DEFINE_integer("population_size", evo.population_size,
                         "P: pathways in the population.")
    flags.DEFINE_integer("tournament_size", evo.tournament_size,
                         "B: candidates per tournament.")
    flags.DEFINE_integer("steps_per_candidate", evo.steps_per_candidate,
                         "T: minibatches each candidate trains on per tournament.")
    flags.DEFINE_integer("batch_size", evo.batch_size, "Examples per minibatch.")
    flags.DEFINE_float("threshold", evo.threshold, threshold_help)
    flags.DEFINE_integer("max_generations", evo.max_generations, max_generations_help)
    flags.DEFINE_enum("optimizer", evo.optimizer, list(OPTIMIZERS), "Optimizer of the modules.")
    flags.DEFINE_float("learning_rate", None, learning_rate_help)
    flags.DEFINE_float("mutation_rate", None,
                       "Per-element mutation probability; default 1/(L*N).")
    flags.DEFINE_enum("mutation_boundary", evo.mutation_boundary, list(BOUNDARIES),
                      "Keep mutated module indices in range by clamping or wrapping.")
    flags.DEFINE_integer("parallel", evo.parallel,
                         "0: the serial fair tournament. K > 0: K tournaments trained side "
                         "by side per call, the winners' module updates averaged (README).")
    flags.DEFINE_float("seed_fraction", evo.seed_fraction,
                       "Share of a later task's population that starts on the previous "
                       "task's best path: 0 the paper (random pathways), 1 all "
                       "(docs/transfer.md).")
    for name, help_text in SWITCH_HELP.items():  # the protocol switches
        section = net if protocol.SWITCHES[name] == "pathnet" else evo
        flags.DEFINE_enum(name, getattr(section, name), list(protocol.CHOICES[name]),
                          help_text)
    flags.DEFINE_enum("mode", "pathnet", list(MODES), "; ".join(
        f"{mode.name}: {mode.help}" for mode in MODES.values()) + ".")


def define_mnist_flags(noise: float, noise_help: str) -> None:
    """The MNIST experiments' data, compilation and protocol flags."""
    flags.DEFINE_float("noise", noise, noise_help)
    flags.DEFINE_enum("noise_kind", "salt_and_pepper", list(protocol.CHOICES["noise_kind"]),
                      "salt_and_pepper: a noisy pixel becomes 0 or 1 (the paper); "
                      "additive_salt: it gets + u, u in [1 - noise, 1), clipped to 1 (TF1).")
    flags.DEFINE_enum("noise_draw", "once", list(NOISE_DRAWS),
                      "once: each training image noised once, a fixed noisy set (the "
                      "paper); per_batch: noise drawn afresh each time an image enters a "
                      "minibatch (test images noised once either way; docs/transfer.md).")
    flags.DEFINE_enum("train_split", "full", list(protocol.CHOICES["train_split"]),
                      "Training images: full, the 60,000 (the paper); tf1, the 55,000 of "
                      "TF's input_data loader (images 5,000-59,999; TF1 code).")
    flags.DEFINE_enum("protocol", "paper", list(protocol.PROTOCOLS),
                      "Preset of the protocol switches (" + ", ".join(protocol.SWITCHES)
                      + "): the paper's (the defaults) or the TF1 code's; a switch's flag "
                      "given explicitly wins over the preset.")
    flags.DEFINE_string("data_dir", None, "Directory of the four MNIST .gz IDX files; "
                        "default: the bundled data/mnist.")
    flags.DEFINE_integer("max_train", None, "Use only this many training images per task.")
    flags.DEFINE_boolean("jit_compile", True, "Compile each tournament with XLA.")
    flags.DEFINE_string("seeds", None,
                        "Many runs in this process, e.g. 0-99 or 0,5,7-9: seed K writes "
                        "WORKDIR/seed_K/ (finished seeds skipped, unfinished resumed); "
                        "instead of --seed.")


def run_mnist_experiment(config, import_experiment: Callable) -> None:
    """An MNIST script's run: the data and the workdir are checked before TensorFlow
    is even imported, then `import_experiment()` (a function of the script holding an
    explicit `from pathnet_tf.experiments import binary_mnist`, say) gives the experiment's module
    and its `run(config, workdir, mnist=...)` runs; with `--seeds`, one such run per
    seed in this process (`campaign.run_seeds`)."""
    from pathnet_tf.experiments.data import load_mnist
    from pathnet_tf.files.workdir import prepare_workdir

    seeds, label = None, ""
    if FLAGS.seeds is not None:
        if FLAGS["seed"].present:
            raise ValueError(f"seeds ({FLAGS.seeds!r}) and seed ({FLAGS.seed}) are both "
                             "given: use one")
        from pathnet_tf.runs.campaign import parse_seeds, seed_workdir

        seeds = parse_seeds(FLAGS.seeds)
        finished = [seed for seed in seeds
                    if (seed_workdir(FLAGS.workdir, seed) / "results.json").exists()]
        if len(finished) == len(seeds):  # nothing to run: no TensorFlow to import
            print(f"all {len(seeds)} seed(s) finished already in {FLAGS.workdir}")
            return
        pairs = [getattr(config, name, None) for name in ("task_a", "task_b")]
        label = getattr(config, "mode", "") + (
            " " + "->".join("v".join(map(str, pair)) for pair in pairs) if all(pairs) else "")
    mnist = load_mnist(config.data_dir)
    workdir = prepare_workdir(FLAGS.workdir)
    use_xla_cache()
    experiment = import_experiment()
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)
    options = dict(mnist=mnist, resume=FLAGS.resume, checkpoint_every=FLAGS.checkpoint_every,
                   figures=FLAGS.figures, tensorboard=FLAGS.tensorboard)
    if seeds is None:
        experiment.run(config, workdir, **options)
        return
    from pathnet_tf.runs import campaign

    outcome = campaign.run_seeds(experiment.run, config, seeds, workdir, label=label,
                                 command=campaign.command_line(), **options)
    if outcome.failed:
        sys.exit(f"error: {len(outcome.failed)} of {len(seeds)} run(s) failed (seeds "
                 f"{', '.join(map(str, outcome.failed))}): see their log.txt")


def define_run_flags(workdir: str) -> None:
    """How a run executes and where it writes: not part of the experiment's config."""
    flags.DEFINE_integer("threads", 1,
                         "TensorFlow threads; 1 is fastest for these tiny matrices (README).")
    flags.DEFINE_integer("checkpoint_every", 25,
                         "Save everything needed to continue every this many generations.")
    flags.DEFINE_boolean("resume", True,
                         "Continue from the checkpoint in --workdir if there is one; "
                         "--noresume starts afresh (deleting that run's outputs).")
    flags.DEFINE_enum("tensorboard", "full", ["full", "scalars", "none"],
                      "TensorBoard events: everything, scalars only (campaigns), or none.")
    flags.DEFINE_boolean("figures", True, "Draw the run's figures into WORKDIR/figures/ "
                         "at its end (--nofigures: none).")
    flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
    flags.DEFINE_string("workdir", workdir, "Where the run writes its files.")
    flags.DEFINE_string("xla_cache_dir", default_xla_cache_dir(),
                        "Keep XLA's compiled tournaments here for the next run (saves "
                        "about 3 s a process); empty: no cache.")


def default_xla_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pathnet_tf", "xla")


def use_xla_cache() -> None:
    """Points XLA's persistent compilation cache at `--xla_cache_dir` (unless the user
    set one in TF_XLA_FLAGS). Must run before TensorFlow is imported."""
    current = os.environ.get("TF_XLA_FLAGS", "")
    if not FLAGS.xla_cache_dir or "persistent_cache_directory" in current:
        return
    try:
        os.makedirs(FLAGS.xla_cache_dir, exist_ok=True)
    except OSError:
        return  # a cache is an optimisation: no cache, no harm
    os.environ["TF_XLA_FLAGS"] = (
        f"{current} --tf_xla_persistent_cache_directory={FLAGS.xla_cache_dir}".strip())


def apply_protocol() -> None:
    """Sets the protocol switches' flags not given explicitly to `--protocol`'s preset
    (call before reading the flags into a config)."""
    given = {name: FLAGS[name].value for name in protocol.SWITCHES if FLAGS[name].present}
    for name, value in protocol.resolve(FLAGS.protocol, given).items():
        FLAGS[name].value = value


def pathnet_config() -> PathNetConfig:
    return PathNetConfig(num_layers=FLAGS.num_layers, num_modules=FLAGS.num_modules,
                         num_active=FLAGS.num_active, units=FLAGS.units,
                         compute=FLAGS.compute, frozen_path=FLAGS.frozen_path,
                         aggregation=FLAGS.aggregation, module_types=FLAGS.module_types,
                         init=FLAGS.init)


def evolution_config(jit_compile: bool) -> EvolutionConfig:
    return EvolutionConfig(
        population_size=FLAGS.population_size, tournament_size=FLAGS.tournament_size,
        steps_per_candidate=FLAGS.steps_per_candidate, batch_size=FLAGS.batch_size,
        threshold=FLAGS.threshold, max_generations=FLAGS.max_generations,
        optimizer=FLAGS.optimizer, learning_rate=FLAGS.learning_rate,
        mutation_rate=FLAGS.mutation_rate, mutation_boundary=FLAGS.mutation_boundary,
        jit_compile=jit_compile, parallel=FLAGS.parallel, tournament=FLAGS.tournament,
        genotype=FLAGS.genotype, seed_fraction=FLAGS.seed_fraction)


def mnist_experiment_fields() -> dict:
    """The fields every MNIST experiment config takes from the flags (after
    `apply_protocol`): the network, the evolution, the mode and the images."""
    return dict(pathnet=pathnet_config(), evolution=evolution_config(FLAGS.jit_compile),
                mode=FLAGS.mode, noise=FLAGS.noise, noise_kind=FLAGS.noise_kind,
                noise_draw=FLAGS.noise_draw,
                train_split=FLAGS.train_split, data_dir=FLAGS.data_dir,
                max_train=FLAGS.max_train, seed=FLAGS.seed)


def rl_config_from_flags(config_class):
    """An RL config (`rl.config.MinAtarConfig`, `AtariConfig`) from the flags named like
    its fields; `--conv_layers` entries are filters:kernel:stride."""
    conv = []
    for text in FLAGS.conv_layers:
        try:
            conv.append(tuple(int(v) for v in text.split(":")))
        except ValueError:
            raise ValueError(f"conv_layers entry ({text!r}) must be filters:kernel:stride") \
                from None
    names = [field.name for field in dataclasses.fields(config_class)]
    return config_class(conv_layers=tuple(conv), **{
        name: FLAGS[name].value for name in names if name in FLAGS and name != "conv_layers"})


def check_run_flags() -> None:
    for name in ("threads", "checkpoint_every"):
        check_positive_int(name, FLAGS[name].value)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing (`app.run(main, flags_parser=cli.parse_flags)`), with a bad
    flag (unknown, not one of an enum's values, not a number) reported like every other
    bad setting: one line `error: ...`, exit status 1."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        sys.exit(f"error: {error} (--helpshort lists the flags)")


def run_main(argv, body: Callable[[], None]) -> None:
    """Runs a script's `body`; a bad setting (any ValueError: config, data, workdir,
    checkpoint) ends it with one line `error: ...` and exit status 1, no traceback; a
    SIGTERM with one line saying where its checkpoint is, and exit status 143."""
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments {argv[1:]}")
    try:
        check_run_flags()
        body()
    except ValueError as error:
        sys.exit(f"error: {error}")
    except RunTerminated as stopped:
        print(str(stopped), file=sys.stderr)
        sys.exit(stopped.exit_status)
