"""dedup: find near-duplicate, partially copied and rewritten news articles.

>>> from dedup import Detector
>>> Detector().compare("A short note.", "A short note!").relation
'exact'
"""

from dedup.cluster import redundant
from dedup.config import DedupConfig
from dedup.detector import Detector, Scan
from dedup.io import RecordFields, read_paths
from dedup.parallel import WorkerDied
from dedup.stream import StreamIndex
from dedup.types import Cluster, Document, DocumentSkipped, Match, Scores, ScanReport, SentencePair, Skipped

__all__ = [
    "Cluster", "DedupConfig", "Detector", "Document", "DocumentSkipped", "Match", "RecordFields", "Scan", "ScanReport",
    "Scores", "SentencePair", "Skipped", "StreamIndex", "WorkerDied", "read_paths", "redundant",
]
__version__ = "0.1.0"
