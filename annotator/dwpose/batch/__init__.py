"""Resumable batch runs over folders of images and videos: items.py turns INPUT arguments into items with
unique output names, run.py makes each item into its files (in this process, in worker processes, or on
Ray), skipping what a killed run finished. `python -m annotator.dwpose batch` is the command line
(cli/batch.py); tables need pyarrow (`[table]`), Ray `[ray]`, videos PyAV (`[video]`).
"""

from .items import Item, collect_items, unique_names
from .run import BatchResult, Job, process_item, run_batch

__all__ = ["BatchResult", "Item", "Job", "collect_items", "process_item", "run_batch", "unique_names"]
