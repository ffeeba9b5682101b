"""What the two RL scripts share (`minatar_pathnet`, `atari_pathnet`): their flags, one
definition per field of their config so the two cannot drift apart, and their run.
Importing this module defines nothing; each script calls `define` once with its
config's defaults and the help texts that differ between MinAtar and Atari."""

from __future__ import annotations

from absl import flags

from pathnet_tf.experiments import cli
from pathnet_tf.rl.config import RL_OPTIMIZERS, runnable_modes
from pathnet_tf.runs.modes import MODES


def define(defaults, game_a_help: str, frames_help: str, workdir: str,
           checkpoint_help: str, **helps: str) -> None:
    """Defines every flag of an RL config (`rl.config.MinAtarConfig` or `AtariConfig`,
    `defaults` an instance), the run flags (`cli.define_run_flags`) and `--jit_compile`.
    `helps`: help texts that replace the shared ones, by flag name."""
    text = {
        "conv_layers": "filters:kernel:stride of each conv layer of modules.",
        "units": "ReLU units per module of the dense layer.",
        "n_steps": "Steps of each rollout (n-step returns).",
        "discount": "Discount of the returns.",
        "fitness_episodes": "A worker's fitness: mean return of its last this many episodes.",
        "sticky_action_prob": "Probability of repeating the previous action.",
        "jit_compile": "Compile the act and update calls with XLA.",
        **helps}
    d = defaults
    flags.DEFINE_string("game_a", d.game_a, game_a_help)
    flags.DEFINE_string("game_b", d.game_b, "Second game (the same as game_a: self-transfer).")
    flags.DEFINE_enum("mode", d.mode, runnable_modes(), "; ".join(
        f"{name}: {MODES[name].help}" for name in runnable_modes()) + ".")
    flags.DEFINE_integer("frames", d.frames, frames_help)
    flags.DEFINE_list("conv_layers", [f"{f}:{k}:{s}" for f, k, s in d.conv_layers],
                      text["conv_layers"])
    flags.DEFINE_integer("units", d.units, text["units"])
    flags.DEFINE_integer("num_modules", d.num_modules, "M: modules per layer.")
    flags.DEFINE_integer("num_active", d.num_active, "N: modules a pathway uses per layer.")
    flags.DEFINE_enum("compute", d.compute, ["mask", "gather"],
                      "Run all M modules on the whole batch (mask) or each worker's N (gather).")
    flags.DEFINE_integer("num_workers", d.num_workers, "W: workers, each with its own pathway.")
    flags.DEFINE_integer("envs_per_worker", d.envs_per_worker, "Environments per worker.")
    flags.DEFINE_integer("n_steps", d.n_steps, text["n_steps"])
    flags.DEFINE_float("discount", d.discount, text["discount"])
    flags.DEFINE_float("learning_rate", d.learning_rate, "The optimizer's learning rate.")
    flags.DEFINE_float("entropy_cost", d.entropy_cost, "Weight of the entropy bonus.")
    flags.DEFINE_float("value_cost", d.value_cost, "Weight of the value loss.")
    flags.DEFINE_float("max_grad_norm", d.max_grad_norm, "Clip gradients to this global norm "
                       "(0: no clipping).")
    flags.DEFINE_integer("tournament_size", d.tournament_size, "B: workers per tournament.")
    flags.DEFINE_integer("evolve_every", d.evolve_every, "Updates between tournament rounds.")
    flags.DEFINE_float("mutation_rate", None,
                       "Per-element mutation probability; default 1/(L*N).")
    flags.DEFINE_integer("fitness_episodes", d.fitness_episodes, text["fitness_episodes"])
    flags.DEFINE_float("sticky_action_prob", d.sticky_action_prob, text["sticky_action_prob"])
    flags.DEFINE_integer("log_every", d.log_every, "Updates between progress lines.")
    flags.DEFINE_float("seed_fraction", d.seed_fraction, "Share of game B's workers whose "
                       "pathway starts on game A's best path (0: none, the paper; 1: all).")
    flags.DEFINE_float("head_learning_rate", None, "The learning rate of game B's policy and "
                       "value heads; default: --learning_rate.")
    flags.DEFINE_float("frozen_output_scale", d.frozen_output_scale, "Factor on the last "
                       "layer's frozen modules' outputs, the features the heads read (1: none).")
    flags.DEFINE_float("head_init_scale", d.head_init_scale, "Factor on game B's freshly "
                       "drawn policy-head kernel (1: as drawn; 0.01: a near-uniform first "
                       "policy).")
    flags.DEFINE_float("mutation_rate_b", None, "Game B's mutation rate; default: "
                       "--mutation_rate.")
    flags.DEFINE_float("layer_scale", d.layer_scale, "Factor on every layer's sum of its "
                       "active modules (1: the paper's sum; 0.25 = 1/N: their mean).")
    flags.DEFINE_integer("value_warmup_b", d.value_warmup_b, "Game B's first this many "
                         "updates train the value loss only (0: none).")
    flags.DEFINE_boolean("heads_from_a", d.heads_from_a, "Game B's policy and value heads "
                         "start as copies of game A's (the games need the same actions).")
    flags.DEFINE_integer("num_active_b", None, "N of game B's pathways; default: "
                         "--num_active. Larger, a pathway seeded on game A's path also "
                         "holds this many minus N trainable modules per layer.")
    flags.DEFINE_boolean("overlap_updates", d.overlap_updates, "Run each update beside "
                         "the next rollout, which then acts on one-update-old weights "
                         "(the games step while the network learns; off: A2C as published).")
    flags.DEFINE_enum("optimizer", d.optimizer, list(RL_OPTIMIZERS), "The update rule: "
                      "adam, or rmsprop as A3C and the TF1 PathNet code (decay 0.99).")
    flags.DEFINE_float("rmsprop_epsilon", d.rmsprop_epsilon, "RMSProp's epsilon, inside "
                       "the square root (0.1: the TF1 PathNet code's; Baselines' A2C 1e-5).")
    flags.DEFINE_string("game_a_from", None, "Another run's workdir whose finished game A "
                        "this run starts from (its ckpt/game_a.npz): only game B is learned, "
                        "with this run's game-B settings; the others must be the source's.")
    flags.DEFINE_boolean("widen_game_a", False, "Let --game_a_from hold fewer modules per "
                         "layer (e.g. a plain network: --num_modules=1) and another mode: "
                         "its modules become the first of each layer here, then this mode "
                         "ends game A (pathnet: freeze its path, re-initialise the rest).")
    flags.DEFINE_boolean("jit_compile", True, text["jit_compile"])
    flags.DEFINE_enum("backend", "local", ["local", "ray"],
                      "Where the games run: local (this process) or ray (--ray_actors Ray "
                      "actors; set RAY_ADDRESS for a cluster; the network stays here; same "
                      "results).")
    flags.DEFINE_integer("ray_actors", 2, "Ray actors holding the games (--backend=ray).")
    cli.define_run_flags(workdir)
    flags.FLAGS.set_default("checkpoint_every", 500)
    flags.FLAGS["checkpoint_every"].help = checkpoint_help


def run(config_class) -> None:
    """The script's run: the config from the flags (`config_class`: MinAtarConfig or
    AtariConfig), the workdir, then `rl.runner.run_transfer`. Everything that can be
    wrong is checked before TensorFlow is imported."""
    FLAGS = flags.FLAGS
    config = cli.rl_config_from_flags(config_class)
    options = {}
    if FLAGS.game_a_from:
        from pathnet_tf.rl.config import check_game_a_source

        check_game_a_source(FLAGS.game_a_from, config, FLAGS.widen_game_a)
        options.update(game_a_from=FLAGS.game_a_from, widen_game_a=FLAGS.widen_game_a)
    elif FLAGS.widen_game_a:
        raise ValueError("--widen_game_a needs --game_a_from")
    from pathnet_tf.rl.ray_envs import environment_factory

    environment_factory(FLAGS.backend, FLAGS.ray_actors)  # checks them
    options.update(backend=FLAGS.backend, ray_actors=FLAGS.ray_actors)
    from pathnet_tf.files.workdir import prepare_workdir

    workdir = prepare_workdir(FLAGS.workdir)
    cli.use_xla_cache()
    from pathnet_tf.evolution.training import set_threads
    from pathnet_tf.rl.runner import run_transfer

    set_threads(FLAGS.threads)
    run_transfer(config, workdir, resume=FLAGS.resume,
                 checkpoint_every=FLAGS.checkpoint_every, tensorboard=FLAGS.tensorboard,
                 jit_compile=FLAGS.jit_compile, **options)
