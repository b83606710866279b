"""Print one qgis_process example per riskmap algorithm, taken from the `make demo` steps
(so the README shows commands that really run). Paths are relative to the demo output folder.

    python -m tools.readme_examples
"""
import shlex

from tools.demo import fill, steps

SHELL_SPECIAL = set(" ()'\"&;|<>$`*?")


def examples():
    seen = {}
    for step in steps():
        alg = step["alg"]
        if not alg.startswith("riskmap:") or alg in seen:
            continue
        params = {k: fill(v, "county", ".") for k, v in step["params"].items()}
        args = []
        for key, value in params.items():
            for v in (value if isinstance(value, list) else [value]):
                v = str(v)[2:] if str(v).startswith("./") else str(v)
                args.append(f"{key}={shlex.quote(v) if set(v) & SHELL_SPECIAL else v}")
        seen[alg] = (step["title"], f"qgis_process.bin run {alg} -- " + " ".join(args))
    return seen


if __name__ == "__main__":
    for alg, (title, cmd) in examples().items():
        print(f"**`{alg}`** — {title}\n```bash\n{cmd}\n```\n")
