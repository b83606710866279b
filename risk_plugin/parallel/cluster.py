"""A dask.distributed Client: a LocalCluster on this machine, or a running cluster by address.

>>> with connect(workers=2) as client:                      # LocalCluster, 2 worker processes
...     ...
>>> with connect(scheduler="tcp://10.0.0.5:8786") as client: # started with dask-scheduler / dask-worker
...     ...

Workers are processes with one thread each by default: the kernels are numpy / GEOS / GDAL code
that holds the GIL part of the time, and rasterio datasets are not shared between threads.
"""
import contextlib
import os
import shutil
import tempfile

DEFAULT_THREADS_PER_WORKER = 1
CLOSE_TIMEOUT_S = 60


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def connect(scheduler=None, workers=None, threads_per_worker=DEFAULT_THREADS_PER_WORKER, processes=True,
            memory_limit="auto"):
    """Yield a Client: to ``scheduler`` (an address such as tcp://host:8786) when given, else to a new
    LocalCluster of ``workers`` processes (default: one per CPU) that is shut down afterwards."""
    from distributed import Client, LocalCluster
    if scheduler:
        client = Client(scheduler)
        try:
            if workers:
                client.wait_for_workers(int(workers), timeout=120)
            yield client
        finally:
            client.close()
        return
    n = int(workers) if workers else _cpu_count()
    scratch = tempfile.mkdtemp(prefix="riskmap-dask-")     # not the shared /tmp/dask-scratch-space
    cluster = LocalCluster(n_workers=n, threads_per_worker=int(threads_per_worker), processes=processes,
                           dashboard_address=None, memory_limit=memory_limit, local_directory=scratch)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close(timeout=CLOSE_TIMEOUT_S)
        cluster.close(timeout=CLOSE_TIMEOUT_S)
        shutil.rmtree(scratch, ignore_errors=True)


def _memory_of_this_process():
    """(peak RSS, current RSS) of the calling process in MiB: VmHWM (its own high-water mark; ru_maxrss
    would start at the parent's peak) and psutil."""
    import psutil
    peak = peak_mib()
    return {"peak_mib": round(peak, 1), "rss_mib": round(psutil.Process().memory_info().rss / 2 ** 20, 1),
            "pid": os.getpid()}


def peak_mib():
    """Peak memory of the calling process, MiB: VmHWM from /proc/self/status, this process's own
    high-water mark (reset on exec). Not ru_maxrss: on Linux a child starts with its parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_memory(client):
    """{worker address: {'peak_mib', 'rss_mib', 'pid'}} of every worker, measured in the worker process
    (``client.run``). The peak is since the worker process started: on a LocalCluster made for one job,
    the job's peak."""
    return client.run(_memory_of_this_process)


def driver_memory():
    return _memory_of_this_process()
