import sys

from recipes.videossr.eval.cli import main

sys.exit(main())
