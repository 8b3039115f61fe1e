"""The main job: the full scorer x metric benchmark (default: embedded models on easy-VQA, clean and shifted).

    python -m benchmarks.run                       # same as `harmony benchmark`
    python -m benchmarks.run --dataset vizwiz --data-root /data/vizwiz --models llava-hf/llava-1.5-7b-hf
"""

import sys

from harmony.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
