"""bench input generator: float32 position tables (.npy), an HF trainer_state.json and
gradient-norm series as .npy (the text logs come from gen-logs.c, which is faster)."""
import math
import sys

import numpy as np


def table(path, n, d):
    """A learned-looking table: sinusoidal positions plus noise, so heatmaps show structure."""
    rng = np.random.default_rng(n * 131 + d)
    pos = np.arange(n, dtype=np.float64)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(d // 2) / max(d // 2 - 1, 1))
    t = np.concatenate([np.sin(pos * freq), np.cos(pos * freq)], axis=1)
    if t.shape[1] < d:
        t = np.pad(t, ((0, 0), (0, d - t.shape[1])))
    t += 0.3 * rng.standard_normal((n, d))
    t[1, :] = 0.0  # fairseq's padding row: cosine must handle a zero row
    np.save(path, t.astype(np.float32))


def trainer_state(path, n):
    """HF Trainer's layout (indent=2, sorted keys), with eval entries and a few NaN norms."""
    rng = np.random.default_rng(7)
    g = 0.4 + 2.0 * np.exp(-np.arange(n) / (0.3 * n))
    g *= np.exp(0.12 * rng.standard_normal(n))
    spikes = rng.choice(np.arange(100, n), size=max(1, n // 40000), replace=False)
    g[spikes] *= 3 + 27 * rng.random(spikes.size)
    g[rng.choice(n, size=max(1, n // 200000), replace=False)] = np.nan
    loss = 2.5 + 4.0 * np.exp(-np.arange(n) / 2e5)
    out = ['{\n  "best_metric": null,\n  "best_model_checkpoint": null,\n'
           '  "epoch": %.1f,\n  "global_step": %d,\n  "log_history": [\n' % (n / 5000, n * 10)]
    rows = []
    for i in range(n):
        gn = "NaN" if g[i] != g[i] else repr(float(g[i]))
        rows.append('    {\n      "epoch": %r,\n      "grad_norm": %s,\n'
                    '      "learning_rate": %r,\n      "loss": %.4f,\n      "step": %d\n    }'
                    % (i / 5000, gn, 5e-4 / math.sqrt(1 + i / 4000), loss[i], 10 * (i + 1)))
        if i % 1000 == 999:
            rows.append('    {\n      "epoch": %r,\n      "eval_loss": %.4f,\n'
                        '      "eval_runtime": 12.5,\n      "step": %d\n    }'
                        % (i / 5000, loss[i] + 0.1, 10 * (i + 1)))
    out.append(",\n".join(rows))
    out.append('\n  ],\n  "logging_steps": 10,\n  "max_steps": %d,\n  "num_train_epochs": 3,\n'
               '  "total_flos": 0.0,\n  "train_batch_size": 8,\n  "trial_name": null\n}\n'
               % (n * 10))
    with open(path, "w") as f:
        f.write("".join(out))


def series_npy(src, path, n):
    """The first n values of a plain 'step value' file as a float64 .npy."""
    v = np.loadtxt(src, usecols=1, max_rows=n, dtype=np.float64)
    np.save(path, v)


def main(argv):
    kind = argv[1]
    if kind == "table":
        table(argv[2], int(argv[3]), int(argv[4]))
    elif kind == "trainer_state":
        trainer_state(argv[2], int(argv[3]))
    elif kind == "series":
        series_npy(argv[2], argv[3], int(argv[4]))
    else:
        sys.exit("gen.py: unknown kind %r (table, trainer_state, series)" % kind)


if __name__ == "__main__":
    main(sys.argv)
