"""python -m benchmarks perf|scaling ...  (see benchmarks/perf.py); quality: python -m benchmarks.quality"""

from benchmarks.perf import main

raise SystemExit(main())
